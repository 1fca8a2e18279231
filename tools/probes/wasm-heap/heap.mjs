// The WebAssembly heap of onnxruntime-web's plain WASM build (the app's CPU path) in Node's V8, one thread: a variant's
// three graphs created one after another as the app does, then optionally one 30 s encoder window and decoder steps.
// The heap is the build's WebAssembly.Memory (caught at its construction), which never shrinks: its size after each
// step is the high-water mark so far.
//   node --expose-gc tools/probes/wasm-heap/heap.mjs <models dir> <variant> [options...]
// Options: noprepack (session.disable_prepacking), encode (one window), decode (a prompt of 8, then 3 steps).
// e.g. node --expose-gc tools/probes/wasm-heap/heap.mjs ~/.cache/glm-asr-web/full-random-f16 q4f16 encode decode
import { readFileSync } from 'node:fs';

const [dir, variant, ...flags] = process.argv.slice(2);
if (!dir || !variant) throw new Error('usage: heap.mjs <models dir> <variant> [noprepack] [encode] [decode]');
const memories = [];
const Memory = WebAssembly.Memory;
WebAssembly.Memory = function (d) {
  const m = new Memory(d);
  memories.push(m);
  return m;
};
WebAssembly.Memory.prototype = Memory.prototype;
const heap = () => (memories.reduce((s, m) => s + m.buffer.byteLength, 0) / 1e6).toFixed(0);
const ort = await import('onnxruntime-web/wasm');
ort.env.wasm.numThreads = 1;
const label = `${variant}${flags.includes('noprepack') ? ' noprepack' : ''}`;
const opts = { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
if (flags.includes('noprepack')) opts.extra = { session: { disable_prepacking: '1' } };
const config = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8'));
const text = config.text_config ?? config;

const sessions = {};
let weights = 0;
for (const g of ['audio_encoder', 'embed_tokens', 'decoder_model_merged']) {
  const name = `${g}_${variant}`;
  let data = readFileSync(`${dir}/onnx/${name}.onnx_data`);
  weights += data.length;
  const t = performance.now();
  sessions[g] = await ort.InferenceSession.create(readFileSync(`${dir}/onnx/${name}.onnx`), {
    ...opts,
    externalData: [{ path: `${name}.onnx_data`, data }],
  });
  data = null;
  globalThis.gc?.();
  console.log(`${label}: ${g} created in ${((performance.now() - t) / 1000).toFixed(1)} s; weights so far ${(weights / 1e6).toFixed(0)} MB, heap ${heap()} MB`);
}
if (flags.includes('encode')) {
  const f = new Float32Array(128 * 3000).map((_, i) => Math.sin(i) * 0.5);
  const t = performance.now();
  await sessions.audio_encoder.run({
    input_features: new ort.Tensor('float32', f, [1, 128, 3000]),
    input_features_mask: new ort.Tensor('int64', new BigInt64Array(3000).fill(1n), [1, 3000]),
  });
  console.log(`${label}: one window encoded in ${((performance.now() - t) / 1000).toFixed(1)} s, heap ${heap()} MB`);
}
if (flags.includes('decode')) {
  const s = sessions.decoder_model_merged;
  const kv = s.inputMetadata.find((m) => m.name.startsWith('past_key_values'))?.type ?? 'float32';
  const feeds = (n, past) => {
    const f = {};
    for (const m of s.inputMetadata) {
      const T = m.name.startsWith('past') ? kv : m.type;
      const dims = m.name.startsWith('past')
        ? [1, text.num_key_value_heads, past, text.head_dim ?? text.hidden_size / text.num_attention_heads]
        : m.name === 'attention_mask'
          ? [1, past + n]
          : m.name === 'inputs_embeds'
            ? [1, n, text.hidden_size]
            : m.name === 'position_ids'
              ? [1, n]
              : m.shape.map(() => 1);
      const size = dims.reduce((a, b) => a * b, 1);
      const data =
        T === 'float16'
          ? new Uint16Array(size).fill(0x2e66)
          : T === 'float32'
            ? new Float32Array(size).fill(0.1)
            : new BigInt64Array(size).map((_, i) => (m.name === 'position_ids' ? BigInt(past + i) : 1n));
      f[m.name] = new ort.Tensor(T, data, m.shape.length === 0 ? [] : dims);
    }
    return f;
  };
  for (const [n, past] of [[8, 0], [1, 8], [1, 9], [1, 10]]) {
    const t = performance.now();
    await s.run(feeds(n, past));
    console.log(`${label}: decoder, ${n} token(s) after ${past}: ${(performance.now() - t).toFixed(0)} ms, heap ${heap()} MB`);
  }
}
