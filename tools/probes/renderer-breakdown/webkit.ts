/**
 * The same breakdown in Safari's engine (WebKitGTK's MiniBrowser under Xvfb, JavaScriptCore): every WebKitWebProcess's
 * resident set split as /proc/<pid>/status does (RssAnon, RssFile, RssShmem), above an idle page of the same origin,
 * sampled every 100 ms.  (WebKit runs a page's workers in its web process.)
 *   npx tsx tools/probes/renderer-breakdown/webkit.ts load [engine] [variant] [extra query]   the app's load (a first
 *     visit: each WebDriver session starts with an empty profile)
 *   npx tsx tools/probes/renderer-breakdown/webkit.ts compile <wasm file in onnxruntime-web/dist>   a worker compiles it
 *   npx tsx tools/probes/renderer-breakdown/webkit.ts fetch <wasm file>   the control: the worker only fetches and keeps
 *     its bytes
 * Env: MODEL, MODELS (as status.ts), SERIES_EVERY.
 * No WebGPU in WebKitGTK here (docs/testing.md), so `load` is WASM, and single-threaded (no SharedArrayBuffer).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { remote } from 'webdriverio';
import { MINIBROWSER, startRig } from '../../../webkit/helpers/rig.ts';
import { start } from '../../../server/server.ts';
import { MB, status, type S } from './proc-status.ts';

const mode = process.argv[2] ?? 'load';
const PORT = 4599;

function webProcesses(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim().startsWith('WebKitWebProces')) out.push(Number(d));
    } catch {}
  }
  return out;
}

if (webProcesses().length) throw new Error('another WebKitWebProcess is running: stop it first');
const rig = await startRig();
let close: () => unknown;
let origin: string;
let target: string;
if (mode === 'compile' || mode === 'fetch') {
  const fetchOnly = mode === 'fetch';
  const file = process.argv[3] ?? 'ort-wasm-simd-threaded.asyncify.wasm';
  const html = `<script>
const src = \`onmessage = async (e) => { const t = performance.now(); const b = await (await fetch(e.data)).arrayBuffer(); if (${!fetchOnly}) self.m = await WebAssembly.compile(b); else self.b = b; postMessage(performance.now() - t); };\`;
window.w = new Worker(URL.createObjectURL(new Blob([src])));
window.compile = (f) => new Promise((ok) => { w.onmessage = (e) => ok(e.data); w.postMessage(location.origin + '/' + f); });
</script>`;
  const srv = createServer((req, res) => {
    if (req.url === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    if (!req.url!.endsWith('.wasm')) return res.writeHead(404).end();
    res
      .writeHead(200, { 'content-type': 'application/wasm' })
      .end(readFileSync(resolve('node_modules/onnxruntime-web/dist', req.url!.slice(1))));
  });
  await new Promise<void>((ok) => srv.listen(PORT, '127.0.0.1', ok));
  close = () => srv.close();
  origin = `http://127.0.0.1:${PORT}/`;
  target = file;
} else {
  const engine = process.argv[3] ?? 'wasm';
  const variant = process.argv[4] ?? 'fp32';
  const extra = process.argv[5] ?? '';
  const model = process.env['MODEL'] ?? 'tiny';
  const models = process.env['MODELS'] ?? resolve('build/test-artifacts/models');
  const server = await start({ port: PORT, host: '127.0.0.1', dist: resolve('build/dist-test'), models });
  close = () => server.close();
  origin = `http://127.0.0.1:${PORT}/robots-missing`;
  target = `http://127.0.0.1:${PORT}/?model=/models/${model}/&variant=${variant}&engine=${engine}&maxNewTokens=2&warmUpTimeoutMs=3600000${extra}`;
}

const b = await remote({
  hostname: '127.0.0.1',
  port: rig.webdriverPort,
  logLevel: 'warn',
  capabilities: {
    browserName: 'MiniBrowser',
    'wdio:enforceWebDriverClassic': true,
    'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
  } as WebdriverIO.Capabilities,
});
try {
  await b.setTimeout({ script: 3_600_000 });
  await b.url(origin);
  await new Promise((ok) => setTimeout(ok, 4000));
  const idlePids = webProcesses();
  const idle = status(idlePids);
  console.log(`idle (${idlePids.length} web processes): anon ${MB(idle.anon)} file ${MB(idle.file)} shmem ${MB(idle.shmem)}`);
  let phase = mode;
  let ticks = 0;
  const peak: Record<string, S & { sum: number; pids: number }> = {};
  const timer = setInterval(() => {
    const pids = webProcesses();
    const s = status(pids);
    const d = { anon: s.anon - idle.anon, file: s.file - idle.file, shmem: s.shmem - idle.shmem };
    const sum = d.anon + d.file + d.shmem;
    if (!peak[phase] || sum > peak[phase]!.sum) peak[phase] = { ...d, sum, pids: pids.length };
    if (++ticks % Number(process.env['SERIES_EVERY'] ?? 1e9) === 0)
      console.log(`${(ticks / 10).toFixed(0)}s ${phase} (${pids.length}) anon ${MB(d.anon)} file ${MB(d.file)} shmem ${MB(d.shmem)}`);
  }, 100);
  if (mode === 'compile' || mode === 'fetch') {
    const ms = await b.executeAsync((f: string, done: (x: unknown) => void) => {
      (window as unknown as { compile: (f: string) => Promise<number> }).compile(f).then(done);
    }, target);
    console.log(`${target}: ${mode === 'fetch' ? 'fetched' : 'fetched and compiled'} in ${Number(ms).toFixed(0)} ms`);
    phase = 'after';
    await new Promise((ok) => setTimeout(ok, 5000));
  } else {
    const t0 = Date.now();
    await b.url(target);
    await b.$('>>>[data-testid="engine"]').waitForExist({ timeout: 3_600_000, interval: 200 });
    console.log(`loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${await b.$('>>>[data-testid="engine"]').getText()}`);
    phase = 'after';
    await new Promise((ok) => setTimeout(ok, 3000));
  }
  clearInterval(timer);
  for (const [k, v] of Object.entries(peak))
    console.log(`${k.padEnd(8)} peak above idle (${v.pids} web processes): ${MB(v.sum)} = anon ${MB(v.anon)} + file ${MB(v.file)} + shmem ${MB(v.shmem)}`);
} finally {
  await b.deleteSession().catch(() => {});
  await close();
  await rig.stop();
}
