/**
 * Safari's WebGPU as it is on an iPhone 17 (iOS 26, Safari 26.0), presented to the app in Chromium by
 * e2e/helpers/safari-adapter.ts (no subgroup sizes in GPUAdapterInfo, no GPUDevice.adapterInfo, the iPhone's 1 GiB
 * buffer and binding limits, requestDevice refusing anything better than them, Safari's features, an iPhone's
 * navigator), injected into the page and into the ASR worker before their code runs (e2e/helpers/worker-inject.ts).
 *
 *  1. The WebGPU path (SwiftShader underneath) loads and transcribes golden clips token-exact with the official
 *     implementation's goldens (the tiny fp32 model, as e2e/transcribe.spec.ts compares them), and onnxruntime asked
 *     for its device within the iPhone's limits: every GPU buffer it created, and every buffer range it bound, fits
 *     them.
 *  2. The planner plans the full-size model as on an iPhone: the plan the app shows is the pure planner's answer for
 *     the probe the worker reported (called here in Node), and that answer is the one for the iPhone 17 Safari 26
 *     probe of tests/unit/planner.test.ts (today: the server, the estimated peak being over the 1.2 GB budget).
 */
import { expect, test, type Browser, type BrowserContext, type Page, type Worker } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import type { ModelManifest } from '../src/core/asr/contract.ts';
import type { DeviceProbe, GpuProbe } from '../src/core/device.ts';
import { planBackend, type PlannerSettings } from '../src/core/planner.ts';
import { ARTIFACTS } from './helpers/paths.ts';
import { clipWav } from './helpers/reference.ts';
import { IPHONE_17_SAFARI_26 as IPHONE, safariAdapterScript, type SafariLedger } from './helpers/safari-adapter.ts';
import { injectIntoWorkers } from './helpers/worker-inject.ts';

interface Goldens {
  max_new_tokens: number;
  clips: { id: string; files: string[]; windows: { token_ids: number[]; text: string }[] }[];
}

/** The full-size random-weight model's manifest (`npm run model:full-random`; bench/common.ts FULL_MODEL). */
const FULL_MANIFEST = resolve(
  process.env['GLMASR_BENCH_MODEL'] ?? resolve(homedir(), '.cache/glm-asr-web/full-random'),
  'manifest.json',
);

/**
 * In the page: the Safari script, and a witness of what the ASR worker answers to the page's `device-probe` call
 * (the probe the planner reads) kept in `window.__deviceReports`.
 */
const PAGE_SCRIPT = `${safariAdapterScript(IPHONE)}
(() => {
  const Real = globalThis.Worker;
  globalThis.__deviceReports = [];
  globalThis.Worker = class extends Real {
    constructor(url, options) {
      super(url, options);
      this.addEventListener('message', (e) => {
        const d = e.data;
        if (d && d.type === 'result' && d.res && d.res.probe) globalThis.__deviceReports.push(d.res);
      });
    }
  };
})();`;

/** A context that looks like the iPhone to the page and the ASR worker. */
async function iphone(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    userAgent: IPHONE.userAgent,
    viewport: { width: 402, height: 874 },
    hasTouch: true,
  });
  await context.addInitScript(PAGE_SCRIPT);
  const page = await context.newPage();
  await injectIntoWorkers(page, safariAdapterScript(IPHONE));
  return { context, page };
}

/** The worker that requested a GPU adapter (the ASR worker), with the script's ledger. */
async function asrWorker(page: Page): Promise<{ worker: Worker; ledger: SafariLedger }> {
  for (const worker of page.workers()) {
    const ledger = await worker.evaluate(() => (globalThis as { __safariAdapter?: SafariLedger }).__safariAdapter);
    if (ledger && ledger.adapters > 0) return { worker, ledger };
  }
  throw new Error(
    `no worker asked for a GPU adapter (workers: ${page
      .workers()
      .map((w) => w.url())
      .join(', ')})`,
  );
}

async function reportedProbe(page: Page): Promise<DeviceProbe> {
  await expect(page.getByTestId('capability')).not.toContainText('Checking this device', { timeout: 30_000 });
  const reports = await page.evaluate(
    () => (globalThis as unknown as { __deviceReports: { probe: DeviceProbe }[] }).__deviceReports,
  );
  expect(reports.length).toBeGreaterThan(0);
  return reports[reports.length - 1]!.probe;
}

/** What an iPhone 17's WebGPU adapter gives the planner (the GPU of planner.test.ts's iPhone 17 Safari 26 row). */
const IPHONE_GPU: GpuProbe = {
  vendor: 'apple',
  architecture: '',
  description: '',
  isFallbackAdapter: false,
  shaderF16: true,
  maxBufferSize: 2 ** 30,
  maxStorageBufferBindingSize: 2 ** 30,
};

test('on Safari’s adapter the WebGPU path is token-exact, and every GPU buffer fits the iPhone’s limits', async ({
  browser,
}) => {
  test.setTimeout(240_000);
  const goldens = JSON.parse(readFileSync(resolve(ARTIFACTS, 'goldens', 'tiny', 'goldens.json'), 'utf8')) as Goldens;
  // One clip: on SwiftShader the warm-up alone takes 40 s on a busy machine (its shaders compile on the CPU).
  const clips = ['jfk'].map((id) => goldens.clips.find((c) => c.id === id)!);
  const { context, page } = await iphone(browser);
  try {
    await page.goto(`/?model=/models/tiny/&variant=fp32&engine=webgpu&maxNewTokens=${goldens.max_new_tokens}`);
    const engine = page.getByTestId('engine');
    await expect(engine).toHaveAttribute('data-provider', 'webgpu', { timeout: 100_000 });
    await expect(engine).toHaveAttribute('data-variant', 'fp32');
    // The worker's probe sees the iPhone's adapter: Apple, 1 GiB limits, shader-f16, 6 threads.
    await expect(page.getByTestId('capability')).toHaveText(
      /WebGPU: apple · max buffer 1024 MiB · max binding 1024 MiB · shader-f16 yes · 6 CPU threads/,
    );
    for (const clip of clips) {
      await page.getByTestId('file-input').setInputFiles(clipWav(clip.id, clip.files));
      await expect(page.getByTestId('transcript')).toBeVisible({ timeout: 120_000 });
      const ids = await page
        .getByTestId('windows')
        .locator('li')
        .evaluateAll((lis) => lis.map((li) => JSON.parse(li.getAttribute('data-token-ids') || '[]') as number[]));
      expect(ids, clip.id).toEqual(clip.windows.map((w) => w.token_ids));
      await expect(page.getByTestId('windows').locator('li[data-engine="webgpu"]')).toHaveCount(clip.windows.length);
    }

    const { worker, ledger } = await asrWorker(page);
    // onnxruntime asked once for a device, within the iPhone's limits (none refused), for the adapter's whole buffer
    // and binding limits: it read the presented limits.  It asked for shader-f16 because Safari lists it; SwiftShader
    // lacks it, so the script withheld it (the fp32 model needs none).  No subgroups: Safari 26.0 lists none.
    expect(ledger.refused).toEqual([]);
    expect(ledger.requests).toHaveLength(1);
    const request = ledger.requests[0]!;
    expect(request.requiredLimits['maxBufferSize']).toBe(IPHONE.limits['maxBufferSize']);
    expect(request.requiredLimits['maxStorageBufferBindingSize']).toBe(IPHONE.limits['maxStorageBufferBindingSize']);
    expect(request.requiredFeatures).not.toContain('subgroups');
    expect(request.withheld).toEqual(['shader-f16']);
    // Every buffer and every bound range under the limits.  The ledger saw the run's buffers: the largest, bound
    // whole, is one block of the encoder's attention scores (2 heads x 250 x 1500 float32 = 3,000,000 B) in
    // onnxruntime's 4 MiB size class: 4,194,304 B in the run measured (8,388,608 B with the 4 heads the tiny encoder
    // had before, 44,236,800 B before the blocks, 2026-12-07).
    console.log(
      `buffers ${ledger.buffers}, largest ${ledger.largestBuffer} B, largest binding ${ledger.largestBinding} B`,
    );
    expect(ledger.overLimit).toEqual([]);
    expect(ledger.largestBuffer).toBeLessThanOrEqual(IPHONE.limits['maxBufferSize']!);
    expect(ledger.largestBinding).toBeLessThanOrEqual(IPHONE.limits['maxStorageBufferBindingSize']!);
    expect(ledger.largestBuffer).toBeGreaterThanOrEqual(3e6);
    expect(ledger.largestBuffer).toBeLessThanOrEqual(4_194_304);
    expect(ledger.largestBinding).toBe(ledger.largestBuffer);

    // The worker's realm is Safari's: no subgroup sizes, no device.adapterInfo, and a device asking for more than
    // the iPhone's buffer limit is refused.
    const realm = await worker.evaluate(async () => {
      const adapter = (await navigator.gpu.requestAdapter())!;
      const info = adapter.info as unknown as Record<string, unknown>;
      const device = await adapter.requestDevice();
      const over = await adapter
        .requestDevice({ requiredLimits: { maxBufferSize: adapter.limits.maxBufferSize + 4 } })
        .then(
          () => 'granted',
          (e: Error) => e.name,
        );
      const out = {
        subgroupMinSize: info['subgroupMinSize'] ?? null,
        subgroupMaxSize: info['subgroupMaxSize'] ?? null,
        deviceAdapterInfo: 'adapterInfo' in device,
        maxBufferSize: adapter.limits.maxBufferSize,
        over,
        maxTouchPoints: 'maxTouchPoints' in navigator,
      };
      device.destroy();
      return out;
    });
    expect(realm).toEqual({
      subgroupMinSize: null,
      subgroupMaxSize: null,
      deviceAdapterInfo: false,
      maxBufferSize: 2 ** 30,
      over: 'OperationError',
      maxTouchPoints: false,
    });
  } finally {
    await context.close();
  }
});

test('the full-size model is planned as on an iPhone 17: the pure planner’s answer for the probe the worker reported', async ({
  browser,
}) => {
  test.skip(!existsSync(FULL_MANIFEST) && !process.env['CI'], `${FULL_MANIFEST} is absent: npm run model:full-random`);
  const manifest = JSON.parse(readFileSync(FULL_MANIFEST, 'utf8')) as ModelManifest;
  const { context, page } = await iphone(browser);
  try {
    // The full-size manifest only: the plan is made before anything else is fetched.
    await context.route('**/models/full-random/manifest.json', (route) =>
      route.fulfill({ body: JSON.stringify(manifest), contentType: 'application/json' }),
    );
    await page.goto('/?model=/models/full-random/');
    const probe = await reportedProbe(page);
    // The probe an iPhone 17's Safari gives: its adapter, its user agent, no deviceMemory; a worker's navigator has
    // no maxTouchPoints, so the page sends its own (the page-facts notice: an iPad's Mac user agent needs it).
    expect(probe.gpu).toEqual(IPHONE_GPU);
    expect(probe.userAgent).toBe(IPHONE.userAgent);
    expect(probe.maxTouchPoints).toBe(IPHONE.maxTouchPoints);
    expect(probe.deviceMemoryGB).toBeNull();
    expect(probe.hardwareConcurrency).toBe(IPHONE.hardwareConcurrency);

    // Nothing is stored in this fresh context; the app's server is this origin's /v1, not yet allowed.
    const load: DeviceProbe = { ...probe, storedVariants: [] };
    const server = `${new URL(page.url()).origin}/v1`;
    const settings = (consented: boolean): PlannerSettings => ({
      where: 'auto',
      backend: 'auto',
      variant: 'auto',
      server: { url: server, consented },
    });
    // Before consent the planner asks for it (nothing fits on the device), and the app shows the prompt.
    const asked = planBackend(load, manifest, settings(false));
    expect(asked.needsConsent).toEqual({ url: server });
    await expect(page.getByTestId('consent')).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId('consent')).toContainText(server);
    await page.getByTestId('consent-allow').click();

    const planned = planBackend(load, manifest, settings(true));
    const engine = page.getByTestId('engine');
    await expect(engine).toHaveAttribute('data-provider', planned.backend, { timeout: 30_000 });
    await expect(engine).toHaveAttribute('data-variant', planned.variant ?? '');
    await expect(engine.getByTestId('engine-reasons').locator('li')).toHaveText(planned.reasons);

    // The same answer as for planner.test.ts's iPhone 17 Safari 26 probe (touch points 5, its storage estimate).
    const row: DeviceProbe = {
      gpu: IPHONE_GPU,
      userAgent: IPHONE.userAgent,
      maxTouchPoints: 5,
      deviceMemoryGB: null,
      storage: { quota: 150e9, usage: 2e6 },
      crossOriginIsolated: true,
      hardwareConcurrency: 6,
      storedVariants: [],
    };
    const expected = planBackend(row, manifest, settings(true));
    expect({ backend: planned.backend, variant: planned.variant, reasons: planned.reasons }).toEqual({
      backend: expected.backend,
      variant: expected.variant,
      reasons: expected.reasons,
    });
    console.log(`planned: ${planned.backend} · ${planned.reasons.join(' · ')}`);
  } finally {
    await context.close();
  }
});
