// A decode step (1 token after 8) of the full-size q4f16 decoder with and without prepacking, interleaved in one process,
// onnxruntime-web's plain WASM build in Node, one thread: six runs each.  node tools/probes/wasm-heap/interleave-decode.mjs
import * as ort from 'onnxruntime-web/wasm';
import { readFileSync } from 'node:fs';
const dir = process.env.HOME + '/.cache/glm-asr-web/full-random-f16';
ort.env.wasm.numThreads = 1;
const name = 'decoder_model_merged_q4f16';
const data = readFileSync(`${dir}/onnx/${name}.onnx_data`), model = readFileSync(`${dir}/onnx/${name}.onnx`);
const mk = (extra) => ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', ...(extra ? { extra } : {}), externalData: [{ path: `${name}.onnx_data`, data }] });
const s = { default: await mk(), noprepack: await mk({ session: { disable_prepacking: '1' } }) };
const f = {};
for (const m of s.default.inputMetadata) {
  const dims = m.name.startsWith('past') ? [1, 4, 8, 128] : m.name === 'attention_mask' ? [1, 9] : m.name === 'inputs_embeds' ? [1, 1, 2048] : m.name === 'position_ids' ? [1, 1] : [];
  const size = dims.reduce((a, b) => a * b, 1);
  const T = m.name.startsWith('past') ? 'float16' : m.type;
  f[m.name] = new ort.Tensor(T, T === 'float16' ? new Uint16Array(size).fill(0x2e66) : T === 'float32' ? new Float32Array(size).fill(0.1) : new BigInt64Array(size).fill(m.name === 'position_ids' ? 8n : 1n), dims);
}
const t = { default: [], noprepack: [] };
for (let i = 0; i < 6; i++) for (const k of i % 2 ? ['noprepack', 'default'] : ['default', 'noprepack']) {
  const a = performance.now(); await s[k].run(f); t[k].push(Math.round(performance.now() - a));
}
console.log(JSON.stringify(t));
