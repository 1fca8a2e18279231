// The WebAssembly heap of onnxruntime-web's plain WASM build (the app's CPU path) in Node's V8, one thread: a variant's
// three graphs created one after another as the app does, then optionally one 30 s encoder window and decoder steps.
// The heap is the build's WebAssembly.Memory (caught at its construction), which never shrinks: its size after each
// step is the high-water mark so far.
//   node --expose-gc tools/probes/wasm-heap/heap.mjs <models dir> <variant> [options...]
// Options: noprepack (session.disable_prepacking), encode (one window), decode (a prompt of 8, then 3 steps).
// e.g. node --expose-gc tools/probes/wasm-heap/heap.mjs ~/.cache/glm-asr-web/full-random-f16 q4f16 encode decode
import { statSync } from 'node:fs';
import { decoderFeeds, encoderFeeds, makeSession } from './graphs.mjs';

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
const noprepack = flags.includes('noprepack');
const label = `${variant}${noprepack ? ' noprepack' : ''}`;

const sessions = {};
let weights = 0;
for (const g of ['audio_encoder', 'embed_tokens', 'decoder_model_merged']) {
  const name = `${g}_${variant}`;
  weights += statSync(`${dir}/onnx/${name}.onnx_data`).size;
  const t = performance.now();
  sessions[g] = await makeSession(ort, dir, name, noprepack);
  globalThis.gc?.(); // the file's bytes, read for the session, are garbage now
  console.log(`${label}: ${g} created in ${((performance.now() - t) / 1000).toFixed(1)} s; weights so far ${(weights / 1e6).toFixed(0)} MB, heap ${heap()} MB`);
}
if (flags.includes('encode')) {
  const t = performance.now();
  await sessions.audio_encoder.run(encoderFeeds(ort));
  console.log(`${label}: one window encoded in ${((performance.now() - t) / 1000).toFixed(1)} s, heap ${heap()} MB`);
}
if (flags.includes('decode')) {
  const s = sessions.decoder_model_merged;
  for (const [n, past] of [[8, 0], [1, 8], [1, 9], [1, 10]]) {
    const feeds = decoderFeeds(ort, s, dir, n, past);
    const t = performance.now();
    await s.run(feeds);
    console.log(`${label}: decoder, ${n} token(s) after ${past}: ${(performance.now() - t).toFixed(0)} ms, heap ${heap()} MB`);
  }
}
