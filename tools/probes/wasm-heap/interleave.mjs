// The full-size q4f16 graph made with and without onnxruntime's prepacking, timed interleaved in one process,
// onnxruntime-web's plain WASM build in Node, one thread:
//   node tools/probes/wasm-heap/interleave.mjs decode   a decode step (1 token after 8), six runs each
//   node tools/probes/wasm-heap/interleave.mjs encode   one window's encode, two runs each (with, without, without, with)
// MODEL: the model directory (default ~/.cache/glm-asr-web/full-random-f16).
import * as ort from 'onnxruntime-web/wasm';
import { decoderFeeds, encoderFeeds, makeSession } from './graphs.mjs';

const what = process.argv[2] ?? 'decode';
const dir = process.env.MODEL ?? process.env.HOME + '/.cache/glm-asr-web/full-random-f16';
ort.env.wasm.numThreads = 1;
const name = what === 'encode' ? 'audio_encoder_q4f16' : 'decoder_model_merged_q4f16';
const s = { default: await makeSession(ort, dir, name), noprepack: await makeSession(ort, dir, name, true) };
const feeds = what === 'encode' ? encoderFeeds(ort) : decoderFeeds(ort, s.default, dir, 1, 8);
const order =
  what === 'encode'
    ? ['default', 'noprepack', 'noprepack', 'default']
    : Array.from({ length: 6 }, (_, i) => (i % 2 ? ['noprepack', 'default'] : ['default', 'noprepack'])).flat();
const t = { default: [], noprepack: [] };
for (const k of order) {
  const a = performance.now();
  await s[k].run(feeds);
  t[k].push(Math.round(performance.now() - a));
}
console.log(`${what} ms:`, JSON.stringify(t));
