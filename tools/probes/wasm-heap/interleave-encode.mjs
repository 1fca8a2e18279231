// One window's encode of the full-size q4f16 audio encoder with and without prepacking, interleaved in one process
// (default, without, without, default), onnxruntime-web's plain WASM build in Node, one thread.
//   node tools/probes/wasm-heap/interleave-encode.mjs
import * as ort from 'onnxruntime-web/wasm';
import { readFileSync } from 'node:fs';
const dir = process.env.HOME + '/.cache/glm-asr-web/full-random-f16';
ort.env.wasm.numThreads = 1;
const name = 'audio_encoder_q4f16';
const data = readFileSync(`${dir}/onnx/${name}.onnx_data`), model = readFileSync(`${dir}/onnx/${name}.onnx`);
const mk = (extra) => ort.InferenceSession.create(model, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', ...(extra ? { extra } : {}), externalData: [{ path: `${name}.onnx_data`, data }] });
const s = { default: await mk(), noprepack: await mk({ session: { disable_prepacking: '1' } }) };
const x = new Float32Array(128 * 3000).map((_, i) => Math.sin(i * 0.013) * 0.7);
const f = { input_features: new ort.Tensor('float32', x, [1, 128, 3000]), input_features_mask: new ort.Tensor('int64', new BigInt64Array(3000).fill(1n), [1, 3000]) };
const t = { default: [], noprepack: [] };
for (const k of ['default', 'noprepack', 'noprepack', 'default']) {
  const a = performance.now(); await s[k].run(f); t[k].push(Math.round((performance.now() - a) / 100) / 10);
  console.log(k, t[k].at(-1));
}
console.log(JSON.stringify(t));
