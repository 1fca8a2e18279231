// One MultiHeadAttention of S tokens on onnxruntime-node's bundled WebGPU EP against its CPU EP (make_mha.py's graphs,
// random q/k/v in [-1, 1)): the largest difference and the first row off by more than 1e-3.
// VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json node mha.mjs <graph.onnx> <S>   (from this directory)
import { createRequire } from 'node:module';
const ort = createRequire(import.meta.url)('../../../../node_modules/onnxruntime-node');
const [graph = 'mha32.onnx', s = '1500'] = process.argv.slice(2);
const S = Number(s), H = 1280;
let x = 1;
const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5) * 2;
const mk = () => new ort.Tensor('float32', Float32Array.from({ length: S * H }, rnd), [1, S, H]);
const feeds = { q: mk(), k: mk(), v: mk() };
if (graph.includes('mask')) feeds.mask = new ort.Tensor('int32', new Int32Array(S).fill(1), [1, S]);
if (graph.includes('bias')) feeds.ab = new ort.Tensor('float32', new Float32Array(S * S), [1, 1, S, S]);
const cpu = await ort.InferenceSession.create(graph, { executionProviders: ['cpu'] });
const a = (await cpu.run(feeds)).o.data;
const gpu = await ort.InferenceSession.create(graph, { executionProviders: ['webgpu'] });
try {
  const t = performance.now();
  const b = (await gpu.run(feeds)).o.data;
  let d = 0, bad = -1;
  for (let j = 0; j < a.length; j++) {
    const e = Math.abs(a[j] - b[j]);
    if (e > d) d = e;
    if (e > 1e-3 && bad < 0) bad = Math.floor(j / H);
  }
  console.log(`${graph} S=${S}: max |webgpu - cpu| ${d.toExponential(2)}, first row off ${bad}, webgpu ${(performance.now() - t).toFixed(0)} ms`);
} catch (err) {
  console.log(`${graph} S=${S}: ${String(err.message).split('\n')[0]}`);
}
