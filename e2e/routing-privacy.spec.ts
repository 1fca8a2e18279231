/**
 * Routing privacy by construction.  On top of a stored *Only on this device* — with the origin's server allowed
 * once before and "the server" left as the remembered engine, the worst a returning user can have — every
 * combination of the `engine`, `where` and `model` parameters is opened, one after another in one browser context:
 * no request of any method leaves for `/v1/` or for any origin other than the app's and the model's, from the page,
 * its workers or its service worker; nothing the link set is stored.  A model on another origin waits for a yes in
 * a keyboard-operable dialog before a byte is fetched from it.  And the routing panel's Save ends a link's per-load
 * route to the server.
 *
 * Witnesses: a logging proxy in front of the app server (every request to the app's origin), the model host's own
 * log, and the browser context's request events (any other origin).  The browser has no WebGPU, so every load runs
 * on the CPU (the planner's server fallback, where a leak would be, is still one step away).  Each link waits until
 * its load is ready or failed: 36 links took 228 s here with the machine's load average at 10-18 on 2 cores (most
 * of it the model's load; about 1 s per link that loads nothing).
 */
import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
import { ModelServer } from './helpers/model-server.ts';
import { ARTIFACTS } from './helpers/paths.ts';
import { clipWav } from './helpers/reference.ts';
import { contextRequests, witnessedApp, type WitnessedApp } from './helpers/witness.ts';

const ROUTING_KEY = 'glm-asr.routing';
const LAST_KEY = 'glm-asr.model';

let browser: Browser;
test.beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'),
  });
});
test.afterAll(async () => browser?.close());

/** The page's model state once it stops changing: ready (with its provider), failed, or waiting for a click. */
async function settled(page: Page, query: string): Promise<string> {
  let last = '';
  let same = 0;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const engine = page.getByTestId('engine');
    const state = (await engine.isVisible())
      ? `ready:${await engine.getAttribute('data-provider')}`
      : (await page.locator('model-setup [role=alert]').isVisible())
        ? `error:${await page.locator('model-setup [role=alert]').getAttribute('data-error-code')}`
        : (await page.getByTestId('model-progress').isVisible())
          ? `loading: ${await page
              .getByTestId('model-progress')
              .innerText({ timeout: 500 })
              .then((t) => t.replace(/\s+/g, ' '))
              .catch(() => '')}`
          : 'idle';
    same = state === last ? same + 1 : 0;
    last = state;
    // Ready and failed are final; idle must hold for a moment (a stored model may be about to load).
    if ((state.startsWith('ready') || state.startsWith('error')) && same >= 1) return state;
    if (state === 'idle' && same >= 10) return state;
    expect(Date.now(), `${query}: the page did not settle (last: ${state})`).toBeLessThan(deadline);
    await page.waitForTimeout(150);
  }
}

/** Requests that broke the rule: anything under /v1/, anything to an origin not allowed. */
function leaks(requests: string[], allowed: string[]): string[] {
  return requests.filter((line) => {
    const url = line.split(' ')[1]!;
    if (url.startsWith('data:') || url.startsWith('blob:')) return false;
    const u = new URL(url);
    return u.pathname.startsWith('/v1/') || !allowed.includes(u.origin);
  });
}

/** A proxy log line ("METHOD /path") for the app's API. */
const toApi = (line: string) => line.split(' ')[1]!.startsWith('/v1/');

test.describe('on top of a stored Only on this device', () => {
  let app: WitnessedApp;
  let host: ModelServer;
  test.beforeAll(async () => {
    app = await witnessedApp();
    host = new ModelServer(resolve(ARTIFACTS, 'models', 'tiny'));
    await host.start();
  });
  test.afterAll(async () => {
    await host?.stop();
    await app?.close();
  });

  /**
   * Open every combination of the given parameters, one after another in one context holding the stored state;
   * after each, check the witnesses and the storage.  Returns one line per link ("query → how the page settled").
   */
  async function visitLinks(
    serviceWorkers: 'allow' | 'block',
    models: string[],
    engines: string[],
    wheres: string[],
  ): Promise<{ outcomes: string[]; seen: string[] }> {
    const context = await browser.newContext({ serviceWorkers });
    const seen = contextRequests(context);
    const page = await context.newPage();
    const hostOrigin = new URL(host.url).origin;
    const routing = { where: 'device', serverUrl: '', apiKey: '', consented: [`${app.origin}/v1`] };
    const last = { url: '/models/tiny/', engine: 'server' };
    await page.goto(`${app.origin}/`);
    await page.evaluate(
      (items) => {
        for (const [key, value] of Object.entries(items)) localStorage.setItem(key, value);
      },
      { [ROUTING_KEY]: JSON.stringify(routing), [LAST_KEY]: JSON.stringify(last) },
    );
    if (serviceWorkers === 'allow') {
      // The service worker installed (its precache fetched) and in control: it sees every request the pages make.
      await page.reload();
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 60_000 });
    }
    const t0 = Date.now();
    const outcomes: string[] = [];
    for (const model of models)
      for (const engine of engines)
        for (const where of wheres) {
          const query = `variant=fp32&engine=${engine}&where=${where}${model ? `&model=${encodeURIComponent(model)}` : ''}`;
          const other = model === host.url;
          const declined = other && outcomes.length % 2 === 1;
          const [appFrom, seenFrom, hostFrom] = [app.log.length, seen.length, host.requests.length];
          await page.goto(`${app.origin}/?${query}`);
          if (other) {
            // Asked first, in a modal dialog that starts on "Don't load"; nothing was fetched from the host.
            await expect(page.getByTestId('model-origin')).toBeVisible();
            await expect(page.getByTestId('model-origin')).toContainText(new URL(host.url).host);
            await expect(page.getByTestId('model-origin-decline')).toBeFocused();
            expect(host.requests.slice(hostFrom), query).toEqual([]);
            // Every other time the answer is no (Escape): then the host never hears from this page.
            if (declined) {
              await page.keyboard.press('Escape');
              await expect(page.getByTestId('model-origin')).toHaveCount(0);
            } else {
              await page.keyboard.press('Shift+Tab');
              await expect(page.getByTestId('model-origin-load')).toBeFocused();
              await page.keyboard.press('Enter');
            }
          }
          const state = await settled(page, query);
          outcomes.push(`${query.replace(encodeURIComponent(host.url), 'OTHER')} → ${state}${declined ? ' (no)' : ''}`);
          expect(state, query).not.toBe('ready:server');
          if (declined) expect(host.requests.slice(hostFrom), query).toEqual([]);
          // The link's wish for a server is not granted, and the page says so.
          const serverAsked = engine === 'server' || (where === 'server' && engine !== 'webgpu' && engine !== 'wasm');
          await expect(page.getByTestId('link-notes')).toHaveCount(serverAsked ? 1 : 0);
          const allowed = other && !declined ? [app.origin, hostOrigin] : [app.origin];
          expect(app.log.slice(appFrom).filter(toApi), query).toEqual([]);
          expect(leaks(seen.slice(seenFrom), allowed), query).toEqual([]);
          // Nothing the link set was stored: the routing and the remembered model are as they were.
          const stored = await page.evaluate(
            ([rk, lk]) => [localStorage.getItem(rk!), localStorage.getItem(lk!)],
            [ROUTING_KEY, LAST_KEY],
          );
          expect(
            stored.map((s) => JSON.parse(s!) as unknown),
            query,
          ).toEqual([routing, last]);
        }
    console.log(
      `${outcomes.length} links (service workers: ${serviceWorkers}) in ${((Date.now() - t0) / 1000).toFixed(1)} s:\n` +
        outcomes.join('\n'),
    );
    // Over the whole run: the app's origin never saw /v1/, the model host only after a yes.
    expect(app.log.filter(toApi)).toEqual([]);
    expect(leaks(seen, [app.origin, hostOrigin])).toEqual([]);
    await context.close();
    return { outcomes, seen };
  }

  test('no engine/where/model link sends anything to /v1/ or another origin, and none is remembered', async () => {
    test.setTimeout(300_000);
    // This origin's model first: stored by the first link, the plain visits after it load it by themselves.
    const { outcomes } = await visitLinks(
      'block',
      ['/models/tiny/', '', host.url],
      ['auto', 'webgpu', 'wasm', 'server'],
      ['auto', 'device', 'server'],
    );
    expect(outcomes).toHaveLength(36);
  });

  test('with the service worker in control, its requests do not leave either', async () => {
    test.setTimeout(300_000);
    const { seen } = await visitLinks('allow', ['/models/tiny/', '', host.url], ['server', 'auto'], ['server']);
    expect(seen.some((l) => l.endsWith('(service worker)'))).toBe(true);
  });
});

test("the routing panel's Save ends a link's route to the server: later jobs stay on the device", async ({
  baseURL,
}) => {
  test.setTimeout(180_000);
  const g = JSON.parse(readFileSync(resolve(ARTIFACTS, 'goldens', 'tiny', 'goldens.json'), 'utf8')) as {
    max_new_tokens: number;
    clips: { id: string; files: string[]; windows: { token_ids: number[] }[] }[];
  };
  const clip = g.clips.find((c) => c.id === 'jfk')!;
  const context = await browser.newContext({ baseURL: baseURL! });
  const seen = contextRequests(context);
  const page = await context.newPage();
  // Automatic (the default), and a link that routes this load to the server: allowed once, it runs there.
  await page.goto(`/?model=/models/tiny/&variant=fp32&engine=server&maxNewTokens=${g.max_new_tokens}`);
  await page.getByTestId('consent-allow').click();
  await expect(page.getByTestId('engine')).toHaveAttribute('data-provider', 'server', { timeout: 30_000 });
  // Settings → Where to transcribe → Only on this device → Save: the model is reloaded on the device.
  await page.getByTestId('routing').locator('summary').click();
  await page.getByTestId('where-device').check();
  const from = seen.length;
  await page.getByTestId('save-routing').click();
  await expect(page.getByTestId('engine')).toHaveAttribute('data-provider', 'wasm', { timeout: 60_000 });
  await page.getByTestId('file-input').setInputFiles(clipWav(clip.id, clip.files));
  await expect(page.getByTestId('transcript')).toBeVisible({ timeout: 60_000 });
  const ids = await page
    .getByTestId('windows')
    .locator('li')
    .evaluateAll((lis) => lis.map((li) => JSON.parse(li.getAttribute('data-token-ids') || '[]') as number[]));
  expect(ids).toEqual(clip.windows.map((w) => w.token_ids));
  await expect(page.getByTestId('windows').locator('li[data-engine="server"]')).toHaveCount(0);
  expect(seen.slice(from).filter((l) => new URL(l.split(' ')[1]!).pathname.startsWith('/v1/'))).toEqual([]);
  // The link's engine was never remembered: a plain visit does not go back to the server either.
  const remembered = await page.evaluate(() => localStorage.getItem('glm-asr.model'));
  expect(JSON.parse(remembered ?? '{}')).not.toMatchObject({ engine: 'server' });
  await context.close();
});
