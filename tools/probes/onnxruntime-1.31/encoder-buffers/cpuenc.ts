// onnxruntime-node CPU: two audio encoder graphs (e.g. attention in one call vs query blocks), interleaved, one window per run.
// npx tsx tools/probes/onnxruntime-1.31/encoder-buffers/cpuenc.ts A.onnx B.onnx   THREADS=2 REPS=3
import * as ort from 'onnxruntime-node';
const [a, b] = process.argv.slice(2);
const threads = Number(process.env.THREADS ?? 2);
const opts = { intraOpNumThreads: threads, graphOptimizationLevel: 'all' as const };
const sa = await ort.InferenceSession.create(a!, opts);
const sb = await ort.InferenceSession.create(b!, opts);
const feats = new ort.Tensor('float32', new Float32Array(128 * 3000).map((_, i) => Math.sin(i) * 0.5), [1, 128, 3000]);
const mask = new ort.Tensor('int64', new BigInt64Array(3000).fill(1n), [1, 3000]);
const times: Record<string, number[]> = { a: [], b: [] };
let outA: Float32Array | undefined, outB: Float32Array | undefined;
for (let i = 0; i < Number(process.env.REPS ?? 3); i++) {
  for (const [k, s] of [['a', sa], ['b', sb]] as const) {
    const t = performance.now();
    const o = await s.run({ input_features: feats, input_features_mask: mask });
    times[k]!.push(performance.now() - t);
    if (k === 'a') outA = o['audio_features']!.data as Float32Array; else outB = o['audio_features']!.data as Float32Array;
  }
}
let maxDiff = 0;
for (let i = 0; i < outA!.length; i++) maxDiff = Math.max(maxDiff, Math.abs(outA![i]! - outB![i]!));
const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)]!;
console.log(JSON.stringify({ threads, a: times.a!.map(Math.round), b: times.b!.map(Math.round), medA: Math.round(med(times.a!)), medB: Math.round(med(times.b!)), maxDiff }));
