/**
 * device-probe.ts in real Chromium (Debian's, headless, `--enable-unsafe-webgpu`, no GPU on this machine): the probe
 * gathered inside a module Web Worker, as the ASR worker does, is checked against the adapter facts of the Chromium
 * rig (docs/testing.md; SwiftShader: vendor google, architecture swiftshader, isFallbackAdapter, 1 GiB limits, no
 * shader-f16), and the planner's answer for that real probe.  Vite (no config, no plugins) serves the
 * TypeScript sources on 127.0.0.1 with COOP/COEP so the page is cross-origin isolated.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { resolve } from 'node:path';
import { chromium, type Browser } from '@playwright/test';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { ModelManifest } from '../../src/core/asr/contract.ts';
import { planBackend } from '../../src/core/planner.ts';
import { detectPlatform, type DeviceProbe } from '../../src/core/device.ts';
import { CHROMIUM_ARGS } from '../../playwright.config.ts';
import { ARTIFACTS, missing, ROOT } from '../helpers/data.ts';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const NO_CHROMIUM = missing(CHROMIUM, 'Debian chromium (npm test installs it)');
const TINY = resolve(ARTIFACTS, 'models', 'tiny', 'manifest.json');

let server: ViteDevServer;
let browser: Browser;
let origin = '';

beforeAll(async () => {
  if (NO_CHROMIUM) return;
  server = await createServer({
    configFile: false,
    root: ROOT,
    logLevel: 'silent',
    server: {
      host: '127.0.0.1',
      port: 0,
      headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
    },
  });
  await server.listen();
  const addr = server.httpServer!.address();
  origin = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

type PageWorker = new (
  url: string,
  options: { type: 'module' },
) => { onmessage: ((e: { data: unknown }) => void) | null; onerror: ((e: { message: string }) => void) | null };

/** probeDevice() run in a module Web Worker of a page served from `origin`, with the page's facts if given. */
async function probeInWorker(opts: { maxTouchPoints?: number } = {}): Promise<DeviceProbe> {
  const page = await browser.newPage();
  try {
    // Any same-origin document will do (not the app: its scripts are not needed here).
    await page.goto(`${origin}/package.json`);
    return await page.evaluate(
      async ([src, opts]) => {
        const code = `import { probeDevice } from '${src}'; probeDevice(undefined, ${opts}).then((p) => postMessage(p), (e) => postMessage({ error: String(e) }));`;
        const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
        // The page's Worker (this file is type-checked without the DOM library).
        const { Worker } = globalThis as unknown as { Worker: PageWorker };
        const worker = new Worker(url, { type: 'module' });
        return await new Promise<DeviceProbe>((ok, fail) => {
          worker.onmessage = (e) => ok(e.data as DeviceProbe);
          worker.onerror = (e) => fail(new Error(e.message));
        });
      },
      [`${origin}/workers/host/device-probe.ts`, JSON.stringify(opts)] as const,
    );
  } finally {
    await page.close();
  }
}

test.skipIf(NO_CHROMIUM)(
  'in a worker of headless Chromium: the SwiftShader adapter as the Chromium rig has it (docs/testing.md)',
  async () => {
    const probe = await probeInWorker();
    expect(probe.gpu).toEqual({
      vendor: 'google',
      architecture: 'swiftshader',
      description: '',
      isFallbackAdapter: true,
      shaderF16: false,
      maxBufferSize: 2 ** 30,
      maxStorageBufferBindingSize: 2 ** 30,
    });
    expect(probe.gpuUnavailableReason).toBeUndefined();
    expect(probe.userAgent).toMatch(/HeadlessChrome\/\d+/);
    expect(probe.maxTouchPoints).toBe(0);
    // A power of two no larger than this machine's memory: Chromium 156 reports 16 on the 24 GiB test machine (the
    // Device Memory API's old cap of 8 no longer holds).
    const gib = probe.deviceMemoryGB!;
    expect(Number.isInteger(Math.log2(gib))).toBe(true);
    expect(gib).toBeLessThanOrEqual(totalmem() / 2 ** 30);
    expect(probe.crossOriginIsolated).toBe(true);
    expect(probe.hardwareConcurrency).toBeGreaterThanOrEqual(1);
    expect(probe.storage?.quota).toBeGreaterThan(0);
    expect(probe.storage?.usage).toBeGreaterThanOrEqual(0);

    // The planner on this real probe: SwiftShader runs the tiny model, never a 1.5 GB one (WASM's variant: q8).
    if (missing(TINY, 'built by scripts/test-artifacts.sh (npm test runs it)')) return;
    const tiny = JSON.parse(readFileSync(TINY, 'utf8')) as ModelManifest;
    const settings = { where: 'auto', server: null } as const;
    const small = planBackend(probe, tiny, settings);
    expect([small.backend, small.variant]).toEqual(['webgpu', 'q4']);
    const big: ModelManifest = structuredClone(tiny);
    for (const v of Object.values(big.variants)) v.bytes *= 1000;
    const large = planBackend(probe, big, settings);
    expect([large.backend, large.variant]).toEqual(['wasm', 'q8']);
    expect(large.reasons).toContain('SwiftShader is a software renderer, not a GPU');
  },
);

test.skipIf(NO_CHROMIUM)(
  "a worker's navigator has no maxTouchPoints: the page's count (page-facts) makes a Mac user agent an iPad",
  async () => {
    const own = await probeInWorker();
    expect(own.maxTouchPoints).toBe(0);
    const told = await probeInWorker({ maxTouchPoints: 5 });
    expect(told.maxTouchPoints).toBe(5);
    const mac =
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Safari/605.1.15';
    expect(detectPlatform(mac, own.maxTouchPoints).os).toBe('macos');
    expect(detectPlatform(mac, told.maxTouchPoints).os).toBe('ipados');
  },
);

test.skipIf(NO_CHROMIUM)('without WebGPU (flag off): no adapter, and the reason why', async () => {
  const plain = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'),
  });
  const saved = browser;
  browser = plain;
  try {
    const probe = await probeInWorker();
    expect(probe.gpu).toBeNull();
    // The Chromium rig (docs/testing.md): navigator.gpu is present but requestAdapter() gives null without the flag.
    expect(probe.gpuUnavailableReason).toBe('no WebGPU adapter');
  } finally {
    browser = saved;
    await plain.close();
  }
});

test('in Node (no browser APIs): nothing throws, missing fields read as empty', async () => {
  const { probeDevice } = await import('../../workers/host/device-probe.ts');
  const probe = await probeDevice();
  expect(probe.gpu).toBeNull();
  expect(probe.gpuUnavailableReason).toBe('navigator.gpu is missing');
  expect(probe.deviceMemoryGB).toBeNull();
  expect(probe.storage).toBeNull();
});
