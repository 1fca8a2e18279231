// Bit-equality of one graph's output with and without onnxruntime's prepacking, onnxruntime-web's plain WASM build in
// Node, one thread.  GRAPH=decoder_model_merged (default: 8 tokens' logits) or audio_encoder (one window's features).
//   [GRAPH=audio_encoder] node tools/probes/wasm-heap/compare.mjs <model dir> <variant>
import * as ort from 'onnxruntime-web/wasm';
import { readFileSync } from 'node:fs';
const [dir, variant] = process.argv.slice(2);
ort.env.wasm.numThreads = 1;
const out = {};
for (const mode of ['default', 'noprepack']) {
  const opts = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
  if (mode === 'noprepack') opts.extra = { session: { disable_prepacking: '1' } };
  const name = `${process.env.GRAPH ?? 'decoder_model_merged'}_${variant}`;
  const s = await ort.InferenceSession.create(readFileSync(`${dir}/onnx/${name}.onnx`), { ...opts, externalData: [{ path: `${name}.onnx_data`, data: readFileSync(`${dir}/onnx/${name}.onnx_data`) }] });
  const cfg = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')); const t = cfg.text_config ?? cfg;
  const kv = s.inputMetadata.find((m) => m.name.startsWith('past'))?.type;
  const f = {};
  for (const m of s.inputMetadata) {
    const T = m.name.startsWith('past') ? kv : m.type;
    const n = 8;
    const dims = m.name.startsWith('past') ? [1, t.num_key_value_heads, 0, t.head_dim ?? t.hidden_size / t.num_attention_heads] : m.name === 'attention_mask' ? [1, n] : m.name === 'inputs_embeds' ? [1, n, t.hidden_size] : m.name === 'position_ids' ? [1, n] : [];
    const size = dims.reduce((a, b) => a * b, 1);
    const data = T === 'float16' ? new Uint16Array(size) : T === 'float32' ? new Float32Array(size).map((_, i) => Math.sin(i * 0.37) * 0.8) : new BigInt64Array(size).map((_, i) => m.name === 'position_ids' ? BigInt(i) : 1n);
    f[m.name] = new ort.Tensor(T, data, dims);
  }
  let r;
  if (process.env.GRAPH === 'audio_encoder') {
    const x = new Float32Array(128 * 3000).map((_, i) => Math.sin(i * 0.013) * 0.7);
    r = await s.run({ input_features: new ort.Tensor('float32', x, [1, 128, 3000]), input_features_mask: new ort.Tensor('int64', new BigInt64Array(3000).map((_, i) => (i < 2200 ? 1n : 0n)), [1, 3000]) });
    out[mode] = r.audio_features.data;
  } else { r = await s.run(f); out[mode] = r.logits.data; }
  await s.release();
}
let diff = 0, maxabs = 0;
for (let i = 0; i < out.default.length; i++) { if (out.default[i] !== out.noprepack[i]) diff++; maxabs = Math.max(maxabs, Math.abs(out.default[i] - out.noprepack[i])); }
console.log(variant, 'logits', out.default.length, 'differing', diff, 'max abs diff', maxabs);
