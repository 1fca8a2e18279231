/**
 * The PWA offline and its update flow, with the real service worker: the app server (server/server.ts) runs here on a
 * copy of the test build, so the test can stop it (offline for real, beyond `context.setOffline`) or change its sw.js.
 */
import { expect, test, type Page } from '@playwright/test';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { start } from '../server/server.ts';
import { TEST_DIST } from './helpers/dist.ts';
import { ARTIFACTS } from './helpers/paths.ts';
import { clipWav } from './helpers/reference.ts';

test.use({ serviceWorkers: 'allow' });

interface Goldens {
  max_new_tokens: number;
  clips: { id: string; files: string[]; windows: { token_ids: number[] }[] }[];
}

async function appServer() {
  const dist = mkdtempSync(join(tmpdir(), 'glm-asr-dist-'));
  cpSync(TEST_DIST, dist, { recursive: true });
  const server = await start({ port: 0, host: '127.0.0.1', dist, models: resolve(ARTIFACTS, 'models') });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    dist,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
    cleanup: () => rmSync(dist, { recursive: true, force: true }),
  };
}

async function controlled(page: Page) {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 60_000 });
}

function swVersion(page: Page): Promise<string> {
  return page.evaluate(
    () =>
      new Promise<string>((ok) => {
        const channel = new MessageChannel();
        channel.port1.onmessage = (e) => ok(e.data as string);
        navigator.serviceWorker.controller?.postMessage({ type: 'GET_VERSION' }, [channel.port2]);
      }),
  );
}

test('after one visit and download, the app starts and transcribes a file with the network off', async ({ page }) => {
  test.setTimeout(240_000);
  const g = JSON.parse(readFileSync(resolve(ARTIFACTS, 'goldens', 'tiny', 'goldens.json'), 'utf8')) as Goldens;
  const clip = g.clips[0]!;
  const wav = clipWav(clip.id, clip.files);
  const app = await appServer();
  try {
    await page.goto(`${app.url}?model=/models/tiny/&variant=fp32&engine=wasm&maxNewTokens=${g.max_new_tokens}`);
    await controlled(page);
    await expect(page.getByTestId('engine')).toBeVisible({ timeout: 60_000 });

    // Offline for real: the server is gone, and the browser is told so.
    await app.stop();
    await page.context().setOffline(true);
    await page.reload();
    await expect(page.getByTestId('engine')).toBeVisible({ timeout: 60_000 });
    await expect(page.getByTestId('engine')).toHaveAttribute('data-storage', 'stored');
    await page.getByTestId('file-input').setInputFiles(wav);
    await expect(page.getByTestId('transcript')).toBeVisible({ timeout: 120_000 });
    const ids = await page
      .getByTestId('windows')
      .locator('li')
      .evaluateAll((lis) => lis.map((li) => JSON.parse(li.getAttribute('data-token-ids') || '[]') as number[]));
    expect(ids).toEqual(clip.windows.map((w) => w.token_ids));
  } finally {
    await page.context().setOffline(false);
    await app.stop().catch(() => undefined);
    app.cleanup();
  }
});

test('a new service worker is announced; "Reload to update" activates it and reloads the page', async ({ page }) => {
  test.setTimeout(120_000);
  const app = await appServer();
  try {
    await page.goto(app.url);
    await controlled(page);
    expect(await swVersion(page)).toBe('glm-asr-sw/1');
    await expect(page.getByTestId('update-ready')).toHaveCount(0);

    // Deploy a new version: sw.js changes on the server.
    const sw = join(app.dist, 'sw.js');
    writeFileSync(sw, readFileSync(sw, 'utf8').replace('glm-asr-sw/1', 'glm-asr-sw/2'));
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
    await expect(page.getByTestId('update-ready')).toBeVisible({ timeout: 60_000 });
    const reloaded = page.waitForEvent('framenavigated');
    await page.getByTestId('apply-update').click();
    await reloaded;
    await controlled(page);
    await expect.poll(() => swVersion(page), { timeout: 30_000 }).toBe('glm-asr-sw/2');
    await expect(page.getByTestId('update-ready')).toHaveCount(0);
  } finally {
    await app.stop();
    app.cleanup();
  }
});
