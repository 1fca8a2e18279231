/**
 * `npm run bench -- load`: the full-size random-weight model (q4, 1.84 GB) in Chromium on the WASM backend:
 *  1. downloaded by the app from the local server into IndexedDB (16 MiB records), q4;
 *  2. loaded from IndexedDB into onnxruntime sessions: time, and the browser's peak memory above its idle level as
 *     a ratio to the model's bytes (goal ≤ 1.15);
 *  3. the same bytes loaded by plain fetch from localhost without storing (`storage=memory`), measured the same way;
 *  4. the stored copy loaded on WebGPU (SwiftShader), with the renderer processes' share (the JavaScript side).
 * Memory is the resident set (/proc/<pid>/statm) summed over every Chromium process, sampled every 100 ms, above the
 * same browser's level on about:blank just before (so shared libraries counted once per process cancel out); the
 * sampling is bench/memory-meter.ts's, which `npm run bench -- memory` shares.
 */
import { TEST_DIST } from '../e2e/helpers/dist.ts';
import { chromium, type Browser, type Page } from '@playwright/test';
import { basename, dirname } from 'node:path';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
import { start } from '../server/server.ts';
import type { DeviceBackend } from '../src/core/asr/contract.ts';
import { FULL_MODEL, fullModelManifest, table } from './common.ts';
import { RssSampler as Sampler } from './memory-meter.ts';

const MODEL = FULL_MODEL;
// q4: the variant both backends run (SwiftShader lacks shader-f16, which q4f16 needs on WebGPU).
const VARIANT = process.env['GLMASR_BENCH_LOAD_VARIANT'] ?? 'q4';
const PORT = 4392;

interface LoadRun {
  totalMs: number;
  stageMs: Record<string, number>;
  base: number;
  peak: number;
  after: number;
  baseRenderer: number;
  peakRenderer: number;
}

async function loadOnce(
  browser: Browser,
  page: Page,
  sampler: Sampler,
  backend: DeviceBackend,
  query: string,
): Promise<LoadRun> {
  await page.goto('about:blank');
  await new Promise((ok) => setTimeout(ok, 3000));
  const base = sampler.now();
  const baseRenderer = sampler.nowRenderer();
  sampler.start();
  const t0 = performance.now();
  await page.goto(
    `http://127.0.0.1:${PORT}/?model=/models/${basename(MODEL)}/&variant=${VARIANT}&engine=${backend}${query}`,
  );
  const backendLine = page.getByTestId('engine');
  const error = page.locator('model-setup [role=alert]');
  await Promise.race([backendLine.waitFor({ timeout: 3_600_000 }), error.first().waitFor({ timeout: 3_600_000 })]);
  const totalMs = performance.now() - t0;
  const peak = sampler.stop();
  if (await error.count())
    throw new Error(`the browser could not load the model: ${await error.first().textContent()}`);
  await new Promise((ok) => setTimeout(ok, 1000));
  const after = sampler.now();
  const stageMs = JSON.parse((await backendLine.getAttribute('data-stage-ms')) ?? '{}') as Record<string, number>;
  void browser;
  return { totalMs, stageMs, base, peak, after, baseRenderer, peakRenderer: sampler.peakRenderer };
}

export async function benchLoad(): Promise<void> {
  console.log(
    `\n== Model load: IndexedDB vs plain fetch (full-size random weights, ${VARIANT}, Chromium WASM and WebGPU)`,
  );
  const manifest = fullModelManifest();
  if (!manifest) return;
  const modelBytes = manifest.variants[VARIANT as 'q4f16']!.bytes;
  const server = await start({ port: PORT, host: '127.0.0.1', dist: TEST_DIST, models: dirname(MODEL) });
  // launchServer gives the browser's process id (the root of the process tree whose memory is measured).
  const browserServer = await chromium.launchServer({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, '--js-flags=--max-old-space-size=8192'],
  });
  const browser = await chromium.connect(browserServer.wsEndpoint());
  const pid = browserServer.process().pid;
  if (!pid) throw new Error('no Chromium process id');
  const sampler = new Sampler(pid);
  try {
    const context = await browser.newContext({ serviceWorkers: 'block' });
    const page = await context.newPage();
    const download = await loadOnce(browser, page, sampler, 'wasm', '');
    console.log(`downloaded into IndexedDB and loaded in ${(download.totalMs / 1000).toFixed(1)} s`);
    const stored = await loadOnce(browser, page, sampler, 'wasm', '');
    const fetched = await loadOnce(browser, page, sampler, 'wasm', '&storage=memory');
    // WebGPU (SwiftShader here: a software GPU, so its "GPU memory" is this machine's RAM in the GPU process).
    const gpuStored = await loadOnce(browser, page, sampler, 'webgpu', '');
    const mb = (b: number) => (b / 1e6).toFixed(0);
    const toSession = (r: LoadRun) => (r.stageMs['read'] ?? r.stageMs['download'] ?? 0) + (r.stageMs['session'] ?? 0);
    const row = (name: string, r: LoadRun) => [
      name,
      (toSession(r) / 1000).toFixed(1),
      ((r.stageMs['read'] ?? r.stageMs['download'] ?? 0) / 1000).toFixed(1),
      ((r.stageMs['session'] ?? 0) / 1000).toFixed(1),
      (r.totalMs / 1000).toFixed(1),
      mb(r.peak - r.base),
      ((r.peak - r.base) / modelBytes).toFixed(2),
      ((r.after - r.base) / modelBytes).toFixed(2),
    ];
    const renderer = (r: LoadRun) => ((r.peakRenderer - r.baseRenderer) / modelBytes).toFixed(2);
    console.log(`model bytes (${VARIANT}): ${mb(modelBytes)} MB; memory = RSS of all Chromium processes above idle`);
    console.log(
      table([
        [
          'source',
          'bytes→sessions s',
          'read s',
          'sessions s',
          'total s',
          'peak MB',
          'peak/model',
          'after/model',
          'renderer peak/model',
        ],
        [...row('WASM, IndexedDB (stored)', stored), renderer(stored)],
        [...row('WASM, fetch, localhost', fetched), renderer(fetched)],
        [...row('WASM, first visit: download+store', download), renderer(download)],
        [...row('WebGPU (SwiftShader), IndexedDB', gpuStored), renderer(gpuStored)],
      ]),
    );
    console.log(
      'renderer = the page and its workers (JavaScript and WASM heaps); on WebGPU the rest of the peak is the GPU ' +
        "process holding the weights' buffers (on a real GPU: video memory or unified memory).",
    );
    console.log(
      `IndexedDB vs fetch, bytes→sessions time: ${(toSession(stored) / toSession(fetched)).toFixed(2)}x; ` +
        `peak memory: ${((stored.peak - stored.base) / (fetched.peak - fetched.base)).toFixed(2)}x`,
    );
  } finally {
    await browser.close();
    await browserServer.close();
    server.close();
  }
}
