// Probe: an audio encoder's live GPU buffers (the memory meter's ledger: a destroyed buffer counts until the work submitted before it is done) and the GPU process's RSS during one window on onnxruntime-web 1.31's WebGPU EP (SwiftShader here).
// npx tsx tools/probes/onnxruntime-1.31/encoder-buffers/encbuf.ts <dir> <graph name without .onnx> [config,...]   config: default | <storageBufferCacheMode>[:<maxNumPendingDispatches>]   WINDOWS=n   SETTLE_MS=ms (wait after the load)
import { chromium } from '@playwright/test';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { CHROMIUM_ARGS } from '../../../../playwright.config.ts';
import { GPU_LEDGER_SCRIPT, browserPid, tree, gpuProcesses, renderers, rss } from '../../../../bench/memory-meter.ts';

import { createServer } from 'node:http';
import { createReadStream } from 'node:fs';
const PORTN = Number(process.env.PROBE_PORT ?? 4599);
const ORIGIN = `http://localhost:${PORTN}`;
const dir = process.argv[2]!;
const graph = process.argv[3] ?? 'audio_encoder_q4';
const configs = (process.argv[4] ?? 'default').split(',');
const ortDir = resolve('node_modules/onnxruntime-web/dist');

const WORKER = `(function(){${GPU_LEDGER_SCRIPT}})();
import * as ort from '/ort/ort.webgpu.min.mjs';
ort.env.wasm.wasmPaths = '/ort/';
ort.env.wasm.numThreads = 1;
onmessage = async (e) => {
  try {
    const { graph, ep, extra, windows, ext, settleMs } = e.data;
    const L = () => self.__gpuLedger.read(true);
    const t0 = performance.now();
    const s = await ort.InferenceSession.create('/m/' + graph + '.onnx', { executionProviders: [ep], extra,
      ...(ext ? { externalData: [{ path: graph + '.onnx_data', data: '/m/' + graph + '.onnx_data' }] } : {}), graphOptimizationLevel: 'all', logSeverityLevel: 3 });
    // SETTLE_MS: wait before the first run, so the load's staging buffers (destroyed, counted until the GPU has copied
    // them) are gone and the run's own peak (windowPeak) starts from the weights alone.
    if (settleMs) await new Promise((ok) => setTimeout(ok, settleMs));
    const load = L();
    const t1 = performance.now();
    const feats = new ort.Tensor('float32', new Float32Array(128 * 3000).map((_, i) => Math.sin(i) * 0.5), [1, 128, 3000]);
    const mask = new ort.Tensor('int64', new BigInt64Array(3000).fill(1n), [1, 3000]);
    const runs = [];
    for (let w = 0; w < windows; w++) {
      const r0 = performance.now();
      const out = await s.run({ input_features: feats, input_features_mask: mask });
      const led = L();
      runs.push({ ms: performance.now() - r0, windowPeak: led.windowPeak, live: led.live, sum: out.audio_features.data.slice(0, 4).join(',') });
    }
    await s.release();
    const after = L();
    postMessage({ loadMs: t1 - t0, loadLive: load.live, loadPeak: load.peak, runs, after: after.live, peakByUsage: after.peakByUsage, peak: after.peak });
  } catch (err) { const l = self.__gpuLedger.read(); postMessage({ error: String(err).slice(0, 200), ledgerPeak: l.peak, peakByUsage: l.peakByUsage, buffers: l.buffers }); }
};`;

async function one(config: string) {
  const profile = mkdtempSync(resolve(tmpdir(), 'encbuf-'));
  const ctx = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const page = await ctx.newPage();
    page.on('console', (m) => { if (m.type() === 'error') console.error('console:', m.text().slice(0, 300)); });
    await page.goto(`${ORIGIN}/`);
    const [mode, pend] = config.split(':');
    const ep: Record<string, string> = { name: 'webgpu' };
    if (mode && mode !== 'default') ep['storageBufferCacheMode'] = mode;
    const extra = pend ? { 'ep.webgpuexecutionprovider.maxNumPendingDispatches': pend } : undefined;
    const root = browserPid(profile);
    let gpuPeak = 0, rendPeak = 0;
    const timer = setInterval(() => { const t = tree(root); gpuPeak = Math.max(gpuPeak, rss(gpuProcesses(t))); rendPeak = Math.max(rendPeak, rss(renderers(t))); }, 200);
    // Every PROGRESS_S seconds (default 60), the ledger so far: a run too slow to finish still gives its readings.
    const started = Date.now();
    const progress = setInterval(() => {
      const w = page.workers()[0];
      w?.evaluate(() => (self as unknown as { __gpuLedger: { read(): { peak: number; windowPeak: number; live: number; buffers: number } } }).__gpuLedger.read())
        .then((l) => console.log(`  ${Math.round((Date.now() - started) / 1000)} s: ledger peak ${Math.round(l.peak / 1e6)} MB (since the load ${Math.round(l.windowPeak / 1e6)} MB), live ${Math.round(l.live / 1e6)} MB, ${l.buffers} buffers made; GPU process peak ${Math.round(gpuPeak / 1e6)} MB`))
        .catch(() => undefined);
    }, Number(process.env.PROGRESS_S ?? 60) * 1000);
    const res = await page.evaluate(([graph, ep, extra, windows, ext, settleMs]) => new Promise((ok) => {
      const w = new Worker('/w.js', { type: 'module' });
      w.onmessage = (e) => ok(e.data);
      w.onerror = (e) => ok({ error: e.message });
      w.postMessage({ graph, ep, extra, windows, ext, settleMs });
    }), [graph, ep, extra, Number(process.env.WINDOWS ?? 2), existsSync(resolve(dir, graph + '.onnx_data')), Number(process.env.SETTLE_MS ?? 0)] as const);
    clearInterval(timer);
    clearInterval(progress);
    (res as Record<string, unknown>).gpuProcessPeak = gpuPeak; (res as Record<string, unknown>).rendererPeak = rendPeak;
    console.log(config, JSON.stringify(res, (k, v) => (k === 'ms' || k === 'loadMs' ? Math.round(v) : typeof v === 'number' && v > 1e5 ? Math.round(v / 1e6) + 'MB' : typeof v === 'number' ? Math.round(v) : v)));
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
const server = createServer((req, res) => {
  const p = new URL(req.url!, ORIGIN).pathname;
  const send = (file: string, type: string) => { res.writeHead(200, { 'content-type': type, 'content-length': statSync(file).size }); createReadStream(file).pipe(res); };
  if (p === '/w.js') { res.writeHead(200, { 'content-type': 'text/javascript' }); res.end(WORKER); return; }
  if (p.startsWith('/ort/')) return send(resolve(ortDir, p.slice(5)), p.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
  if (p.startsWith('/m/')) return send(resolve(dir, p.slice(3)), 'application/octet-stream');
  res.writeHead(200, { 'content-type': 'text/html' }); res.end('<!doctype html><title>p</title>');
}).listen(PORTN);
for (const c of configs) await one(c);
server.close();
