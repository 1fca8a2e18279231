// The full-size q4f16 graph made with and without onnxruntime's prepacking, timed interleaved in one process,
// onnxruntime-web's plain WASM build in Node, one thread:
//   node tools/probes/wasm-heap/interleave.mjs decode   a decode step (1 token after 8), six runs each
//   node tools/probes/wasm-heap/interleave.mjs encode   one window's encode, two runs each (with, without, without, with)
import * as ort from 'onnxruntime-web/wasm';
import { readFileSync } from 'node:fs';

const what = process.argv[2] ?? 'decode';
const dir = (process.env.MODEL ?? process.env.HOME + '/.cache/glm-asr-web/full-random-f16') + '/onnx';
ort.env.wasm.numThreads = 1;
const name = what === 'encode' ? 'audio_encoder_q4f16' : 'decoder_model_merged_q4f16';
const data = readFileSync(`${dir}/${name}.onnx_data`);
const model = readFileSync(`${dir}/${name}.onnx`);
const make = (extra) =>
  ort.InferenceSession.create(model, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
    ...(extra ? { extra } : {}),
    externalData: [{ path: `${name}.onnx_data`, data }],
  });
const s = { default: await make(), noprepack: await make({ session: { disable_prepacking: '1' } }) };
const feeds = {};
if (what === 'encode') {
  const x = new Float32Array(128 * 3000).map((_, i) => Math.sin(i * 0.013) * 0.7);
  feeds.input_features = new ort.Tensor('float32', x, [1, 128, 3000]);
  feeds.input_features_mask = new ort.Tensor('int64', new BigInt64Array(3000).fill(1n), [1, 3000]);
} else {
  for (const m of s.default.inputMetadata) {
    const past = m.name.startsWith('past');
    const dims = past ? [1, 4, 8, 128] : m.name === 'attention_mask' ? [1, 9] : m.name === 'inputs_embeds' ? [1, 1, 2048] : m.name === 'position_ids' ? [1, 1] : [];
    const size = dims.reduce((a, b) => a * b, 1);
    const T = past ? 'float16' : m.type;
    const values =
      T === 'float16' ? new Uint16Array(size).fill(0x2e66)
      : T === 'float32' ? new Float32Array(size).fill(0.1)
      : new BigInt64Array(size).fill(m.name === 'position_ids' ? 8n : 1n);
    feeds[m.name] = new ort.Tensor(T, values, dims);
  }
}
const order = what === 'encode'
  ? ['default', 'noprepack', 'noprepack', 'default']
  : Array.from({ length: 6 }, (_, i) => (i % 2 ? ['noprepack', 'default'] : ['default', 'noprepack'])).flat();
const t = { default: [], noprepack: [] };
for (const k of order) {
  const a = performance.now();
  await s[k].run(feeds);
  t[k].push(Math.round(performance.now() - a));
}
console.log(`${what} ms:`, JSON.stringify(t));
