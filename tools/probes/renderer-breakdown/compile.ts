/**
 * What compiling onnxruntime-web's WebAssembly builds costs a renderer: a blank page whose worker fetches and compiles
 * the module named, the renderers' RssAnon above idle sampled every 100 ms (peak, then 5 s later).
 *   npx tsx tools/probes/renderer-breakdown/compile.ts <wasm file name in onnxruntime-web/dist> [js-flags]
 */
import { chromium } from '@playwright/test';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { browserPid, renderers, tree } from '../../../bench/memory-meter.ts';
import { CHROMIUM_ARGS } from '../../../playwright.config.ts';
import { status } from './proc-status.ts';

const file = process.argv[2] ?? 'ort-wasm-simd-threaded.asyncify.wasm';
const flags = process.argv[3];
const html = `<script>
const src = \`onmessage = async (e) => { const t = performance.now(); const m = await WebAssembly.compileStreaming(fetch(e.data)); self.m = m; postMessage(performance.now() - t); };\`;
window.w = new Worker(URL.createObjectURL(new Blob([src])));
</script>`;
const server = createServer((req, res) => {
  if (req.url === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(html);
  if (!req.url!.endsWith('.wasm')) return res.writeHead(404).end();
  res.writeHead(200, { 'content-type': 'application/wasm' }).end(readFileSync(resolve('node_modules/onnxruntime-web/dist', req.url!.slice(1))));
});
await new Promise<void>((ok) => server.listen(4598, '127.0.0.1', ok));
const profile = mkdtempSync(resolve(tmpdir(), 'glmasr-probe-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  args: [...CHROMIUM_ARGS, ...(flags ? [`--js-flags=${flags}`] : [])],
});
const root = browserPid(profile);
const anon = () => status(renderers(tree(root))).anon;
const page = await context.newPage();
page.on('crash', () => console.log('CRASH'));
page.on('console', (m) => console.log('console', m.text()));
await page.goto('http://127.0.0.1:4598/');
await new Promise((ok) => setTimeout(ok, 3000));
const idle = anon();
let peak = 0;
const timer = setInterval(() => (peak = Math.max(peak, anon() - idle)), 100);
const ms = await page.evaluate(
  (f) => new Promise((ok) => { (window as any).w.onmessage = (e: MessageEvent) => ok(e.data); (window as any).w.postMessage(location.origin + "/" + f); }),
  file,
);
await new Promise((ok) => setTimeout(ok, 5000));
clearInterval(timer);
console.log(`${file} ${flags ?? ''}: compiled in ${Number(ms).toFixed(0)} ms; RssAnon above idle: peak ${(peak / 1e6).toFixed(1)} MB, 5 s later ${((anon() - idle) / 1e6).toFixed(1)} MB`);
await context.close();
server.close();
