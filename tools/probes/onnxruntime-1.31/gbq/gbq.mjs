// Does each onnxruntime-web bundle's WASM (CPU) EP run com.microsoft.GatherBlockQuantized?  Tiny q4f16 embedding.
import { pathToFileURL } from 'node:url';
const [,, ver, bundle] = process.argv;
const dist = `/tmp/research/onnxruntime-web-${ver}/package/dist/`;
const ort = await import(pathToFileURL(dist + bundle).href);
ort.env.wasm.numThreads = 1; ort.env.wasm.wasmPaths = pathToFileURL(dist).href; ort.env.logLevel = 'error';
const model = '/work/main/build/test-artifacts/models/tiny/onnx/embed_tokens_q4f16.onnx';
const fs = await import('node:fs');
try {
  const s = await ort.InferenceSession.create(fs.readFileSync(model), { executionProviders: ['wasm'] });
  const r = await s.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from([1n, 5n, 788n]), [1, 3]) });
  const out = Object.values(r)[0];
  console.log(`${ver} ${bundle}: OK, ${out.type} [${out.dims}] first=${Array.from(out.data.slice(0,3)).map(Number).map(x=>x.toFixed(4))}`);
} catch (e) { console.log(`${ver} ${bundle}: FAILED: ${String(e.message ?? e).slice(0, 220)}`); }
