import { defineConfig } from 'vite';

// Cross-origin isolation gives onnxruntime-web SharedArrayBuffer (multi-threaded WASM).
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  build: { target: 'esnext', sourcemap: true },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  // onnxruntime-web without its Emscripten module inlined (ort.webgpu.min.mjs): the module is a separate asset, so
  // its WASM threads load it instead of re-running the ASR worker bundle.
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm', 'module', 'browser', 'development|production'] },
  server: { host: '127.0.0.1', port: 5173, strictPort: true, headers: isolation },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true, headers: isolation },
});
