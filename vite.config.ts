import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

// Cross-origin isolation gives onnxruntime-web SharedArrayBuffer (multi-threaded WASM).
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * GLMASR_WASM_BUILD=asyncify (the WASM-build bench, bench/load.ts, only): the WASM backend and the voice-activity
 * model run on the WebGPU bundle's asyncify build, as they did before the plain build took over (one ORT instance),
 * so both builds can be measured on the same graphs.  Never set for the app.
 */
const wasmOnAsyncify = process.env['GLMASR_WASM_BUILD'] === 'asyncify';
const ASYNCIFY_FOR_WASM = [
  { find: /^onnxruntime-web\/wasm$/, replacement: 'onnxruntime-web/webgpu' },
  {
    find: /^onnxruntime-web\/ort-wasm-simd-threaded\.(wasm|mjs)\?url$/,
    replacement: 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.$1?url',
  },
];

export default defineConfig(({ mode }) => ({
  // The test knobs (src/app/knobs.ts) are compiled only into a test build (`vite build --mode test --outDir
  // build/dist-test`, what the e2e and WebKit suites serve); `npm run build` (dist/, what `npm start` serves) has
  // the literal false here, so their parsing and plumbing are dead code the bundler drops.
  define: { __TEST_BUILD__: JSON.stringify(mode === 'test') },
  build: { target: 'esnext', sourcemap: true },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  plugins: [
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      injectRegister: false,
      registerType: 'prompt',
      injectManifest: {
        // The shell, the worker/worklet bundles, onnxruntime's wasm + mjs and the voice-activity model (2.3 MB, the
        // only .onnx in dist/); never GLM-ASR's model files (they are stored by the app's own model store).
        globPatterns: ['**/*.{js,mjs,css,html,svg,png,wasm,webmanifest,onnx}'],
        globIgnores: ['**/*.map', 'models/**'],
        maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
        rollupFormat: 'iife',
      },
      manifest: {
        name: 'GLM-ASR Nano: speech to text on your device',
        short_name: 'GLM-ASR',
        description: 'Transcribe speech on your own device with GLM-ASR-Nano, in the browser.',
        start_url: '.',
        scope: '.',
        display: 'standalone',
        background_color: '#f6f7f9',
        theme_color: '#3457d5',
        icons: [
          { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icons/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'icons/icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
    }),
  ],
  // onnxruntime-web without its Emscripten module inlined (ort.webgpu.min.mjs, ort.wasm.min.mjs): the module is a
  // separate asset, so its WASM threads load it instead of re-running the ASR worker bundle.
  resolve: {
    conditions: ['onnxruntime-web-use-extern-wasm', 'module', 'browser', 'development|production'],
    alias: wasmOnAsyncify ? ASYNCIFY_FOR_WASM : [],
  },
  server: { host: '127.0.0.1', port: 5173, strictPort: true, headers: isolation },
  preview: { host: '127.0.0.1', port: 4173, strictPort: true, headers: isolation },
}));
