import { defineConfig } from '@playwright/test';

/**
 * Real Debian Chromium (never a downloaded browser), real service worker, real onnxruntime.  Tests that need a fake
 * microphone launch their own browser with the file flag (e2e/helpers/browser.ts).
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--autoplay-policy=no-user-gesture-required',
  '--enable-unsafe-webgpu',
];

const PORT = Number(process.env['E2E_PORT'] ?? 4173);
/**
 * The built app the e2e server serves: the test build (`npm run build:test`), the only one with the test knobs
 * (src/app/knobs.ts).  e2e/production.spec.ts serves the production build (dist/) itself.
 */
export const E2E_DIST = process.env['E2E_DIST'] ?? 'build/dist-test';

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  timeout: 120_000,
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env['CI'],
  retries: 0,
  reporter: [['list'], ['junit', { outputFile: 'test-results/e2e-junit.xml' }]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    headless: true,
    trace: 'retain-on-failure',
    // The service worker's precache (46 MB: onnxruntime's WebGPU and WASM builds) is only wanted where it is tested (e2e/offline).
    serviceWorkers: 'block',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
      // Audio must flow: Playwright mutes by default.
      ignoreDefaultArgs: ['--mute-audio'],
    },
  },
  webServer: {
    // The real app server (the test build + the tiny test models under /models/), not a dev server.
    command: `npx tsx server/server.ts --port ${PORT} --dist ${E2E_DIST} --models build/test-artifacts/models --quiet`,
    url: `http://127.0.0.1:${PORT}`,
    reuseExistingServer: !process.env['CI'],
    timeout: 60_000,
  },
});
