/**
 * `npm run bench -- staging`: what one upload through a `mappedAtCreation` staging buffer leaves in Chromium's renderer
 * after everything is released.  onnxruntime-web uploads each WebGPU initializer that way (a staging buffer of the
 * tensor's size, mapped at creation, filled, copied to the weight's buffer, destroyed), and after a full-size load the
 * renderer stays about 650 MB above idle with 31 MB of JavaScript and a 17 MB WebAssembly heap (docs/measurements.md,
 * Memory meter).  This isolates the upload: a bare dedicated worker on a routed https origin (WebGPU needs a secure
 * context), no app, no onnxruntime.
 *
 * For each size (MB; `GLMASR_BENCH_STAGING_MB`, default 61,485: q4f16's and q4's largest tensors), the renderer's RSS
 * above the worker's idle level: first a control, the same source array filled and detached with no GPU buffer (what
 * the JavaScript side alone leaves), then after the upload with the staging buffer destroyed and the source array
 * detached (`ArrayBuffer.prototype.transfer(0)`, so the JavaScript copy is gone at once), 5 s later, after a forced
 * garbage collection (`--js-flags=--expose-gc`), and after the destination buffer is destroyed too.
 */
import { chromium } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { openWorkerOrigin } from '../e2e/helpers/worker-origin.ts';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
import { browserPid, renderers, rss, tree } from './memory-meter.ts';
import { table } from './common.ts';

const ORIGIN = 'https://staging.bench';

const WORKER = String.raw`
let device, dst;
onmessage = async (e) => {
  const { step, bytes } = e.data;
  if (step === 'init') {
    const adapter = await navigator.gpu.requestAdapter();
    device = await adapter.requestDevice({ requiredLimits: { maxBufferSize: adapter.limits.maxBufferSize } });
  } else if (step === 'upload') {
    dst = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const src = new Uint8Array(bytes).fill(7);
    const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
    new Uint8Array(staging.getMappedRange()).set(src);
    staging.unmap();
    src.buffer.transfer(0);
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(staging, 0, dst, 0, bytes);
    device.queue.submit([encoder.finish()]);
    staging.destroy();
    await device.queue.onSubmittedWorkDone();
  } else if (step === 'control') {
    const src = new Uint8Array(bytes).fill(7);
    src.buffer.transfer(0);
  } else if (step === 'gc') {
    self.gc();
    await new Promise((ok) => setTimeout(ok, 500));
    self.gc();
  } else if (step === 'free') {
    dst.destroy();
    await device.queue.onSubmittedWorkDone();
  }
  postMessage(step);
};`;

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
const mb = (b: number) => (b / 1e6).toFixed(0);

async function one(megabytes: number): Promise<string[]> {
  const profile = mkdtempSync(resolve(tmpdir(), 'glmasr-bench-staging-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, '--js-flags=--expose-gc'],
  });
  try {
    const page = await context.newPage();
    await openWorkerOrigin(page, ORIGIN, 'w.js', WORKER);
    await page.evaluate(`
      const w = new Worker('/w.js');
      globalThis.ask = (step, bytes) => new Promise((ok, fail) => {
        w.onmessage = (e) => ok(e.data);
        w.onerror = (e) => fail(new Error(e.message));
        w.postMessage({ step, bytes });
      });`);
    const ask = (step: string) =>
      page.evaluate(([s, b]) => (globalThis as unknown as { ask(s: string, b: number): Promise<string> }).ask(s, b), [
        step,
        megabytes * 1e6,
      ] as const);
    const pid = browserPid(profile);
    const renderer = () => rss(renderers(tree(pid)));
    await ask('init');
    await sleep(1000);
    // The control: the same source array, filled and detached, with no GPU buffer at all.
    const before = renderer();
    await ask('control');
    await sleep(1000);
    const control = renderer() - before;
    const idle = renderer();
    await ask('upload');
    await sleep(1000);
    const afterUpload = renderer() - idle;
    await sleep(5000);
    const later = renderer() - idle;
    await ask('gc');
    await sleep(1000);
    const afterGc = renderer() - idle;
    await ask('free');
    await sleep(1000);
    const afterFree = renderer() - idle;
    return [String(megabytes), mb(control), mb(afterUpload), mb(later), mb(afterGc), mb(afterFree)];
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

export async function benchStaging(): Promise<void> {
  console.log('\n== A mappedAtCreation upload: what the renderer keeps after release (MB above the idle worker)');
  const sizes = (process.env['GLMASR_BENCH_STAGING_MB'] ?? '61,485').split(',').map(Number);
  const rows = [];
  for (const size of sizes) rows.push(await one(size));
  console.log(
    table([
      ['upload MB', 'control: array only', 'staging destroyed', '5 s later', 'after GC', 'destination destroyed too'],
      ...rows,
    ]),
  );
}
