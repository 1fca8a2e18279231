// Bit-equality of one graph's output with and without onnxruntime's prepacking, onnxruntime-web's plain WASM build in
// Node, one thread.  GRAPH=decoder_model_merged (default: 8 tokens' logits) or audio_encoder (one window's features).
//   [GRAPH=audio_encoder] node tools/probes/wasm-heap/compare.mjs <model dir> <variant>
import * as ort from 'onnxruntime-web/wasm';
import { decoderFeeds, encoderFeeds, makeSession } from './graphs.mjs';

const [dir, variant] = process.argv.slice(2);
const graph = process.env.GRAPH ?? 'decoder_model_merged';
ort.env.wasm.numThreads = 1;
const out = {};
for (const noprepack of [false, true]) {
  const s = await makeSession(ort, dir, `${graph}_${variant}`, noprepack);
  const r = await s.run(graph === 'audio_encoder' ? encoderFeeds(ort, 2200) : decoderFeeds(ort, s, dir, 8, 0));
  out[noprepack] = (graph === 'audio_encoder' ? r.audio_features : r.logits).data;
  await s.release();
}
let diff = 0;
let maxAbs = 0;
for (let i = 0; i < out.false.length; i++) {
  if (out.false[i] !== out.true[i]) diff++;
  maxAbs = Math.max(maxAbs, Math.abs(out.false[i] - out.true[i]));
}
console.log(`${graph} ${variant}: ${out.false.length} values, ${diff} differing, max abs diff ${maxAbs}`);
