/**
 * The production build (dist/, what `npm start` serves) ignores the test knobs: its bundles hold no knob parameter
 * names (the test build's do, so the check can see them), and a link carrying every knob — a one-token cap, a full
 * library, a full model store, memory-only loads, 1 KiB records, a lost GPU, a 1 ms warm-up, an 8 kHz
 * AudioContext — transcribes golden clips in full and keeps the file in the library.  The app server runs here on
 * dist/ (server/server.ts's start()), not the e2e server's test build.
 */
import { expect, test } from '@playwright/test';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { start, type AppServer } from '../server/server.ts';
import { PRODUCTION_DIST, TEST_DIST } from './helpers/dist.ts';
import { rawLibrary } from './helpers/library.ts';
import { ARTIFACTS } from './helpers/paths.ts';
import { clipWav, referenceDecode } from './helpers/reference.ts';

interface Goldens {
  max_new_tokens: number;
  clips: { id: string; files: string[]; windows: { token_ids: number[]; text: string }[] }[];
}

/** Every knob's URL parameter, set to what would show if it were honoured. */
const KNOBS =
  'maxNewTokens=1&libraryQuotaAfter=0&quotaAfterBytes=0&storage=memory&chunkKiB=1&contextRate=8000' +
  '&loseGpuAfterWindows=1&warmUpTimeoutMs=1&graphs=one';
const KNOB_NAMES = [
  'maxNewTokens',
  'libraryQuotaAfter',
  'quotaAfterBytes',
  'chunkKiB',
  'contextRate',
  'loseGpuAfterWindows',
  'warmUpTimeoutMs',
  'test-knobs',
];

/** The knob names a build's scripts hold as string literals (what parsing them, or their message, needs). */
function knobLiterals(dist: string): string[] {
  const scripts = [
    ...readdirSync(join(dist, 'assets'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => join(dist, 'assets', f)),
    join(dist, 'sw.js'),
  ];
  const text = scripts.map((f) => readFileSync(f, 'utf8')).join('\n');
  return KNOB_NAMES.filter((name) => new RegExp(`[\`'"]${name}[\`'"]`).test(text));
}

let app: AppServer;
let url: string;
test.beforeAll(async () => {
  expect(existsSync(join(PRODUCTION_DIST, 'index.html')), 'dist/ is missing: run npm run build').toBe(true);
  app = await start({
    port: 0,
    host: '127.0.0.1',
    dist: PRODUCTION_DIST,
    models: resolve(ARTIFACTS, 'models'),
    quiet: true,
  });
  url = `http://127.0.0.1:${app.port}/`;
});
test.afterAll(async () => app?.stop());

test('the production bundles carry no knob names; the test build carries every one', () => {
  expect(knobLiterals(PRODUCTION_DIST)).toEqual([]);
  expect(knobLiterals(TEST_DIST)).toEqual(KNOB_NAMES);
});

test('every knob in a link is ignored: golden clips transcribe in full, stored, and the file is kept', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const g = JSON.parse(readFileSync(resolve(ARTIFACTS, 'goldens', 'tiny', 'goldens.json'), 'utf8')) as Goldens;
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${url}?model=/models/tiny/&variant=fp32&engine=wasm&${KNOBS}`);
  const engine = page.getByTestId('engine');
  // Stored in this browser (storage=memory and quotaAfterBytes=0 ignored).
  await expect(engine).toHaveAttribute('data-provider', 'wasm', { timeout: 60_000 });
  await expect(engine).toHaveAttribute('data-storage', 'stored');
  // Its graphs together (graphs=one ignored): live dictation decodes on the device, so the panel has no note on it.
  await expect(page.getByTestId('live-source')).toHaveCount(0);

  // A one-window clip the official decode ended (EOS) within the goldens' 48-token cap, after more than one token:
  // the whole golden, not the knob's 1 token.
  const oneWindow = g.clips.filter((c) => c.windows.length === 1);
  const ended = oneWindow.find(
    (c) => c.windows[0]!.token_ids.length > 1 && c.windows[0]!.token_ids.length < g.max_new_tokens,
  );
  expect(ended, 'a golden clip that ends before the cap').toBeDefined();
  const transcribe = async (file: string) => {
    await page.getByTestId('file-input').setInputFiles(file);
    await expect(page.getByTestId('transcript')).toBeVisible({ timeout: 110_000 });
    return page
      .getByTestId('windows')
      .locator('li')
      .evaluateAll((lis) => lis.map((li) => JSON.parse(li.getAttribute('data-token-ids') || '[]') as number[]));
  };
  expect(await transcribe(clipWav(ended!.id, ended!.files))).toEqual(ended!.windows.map((w) => w.token_ids));
  const texts = await page
    .getByTestId('windows')
    .locator('li .text')
    .evaluateAll((els) => els.map((el) => el.getAttribute('data-text')));
  expect(texts).toEqual(ended!.windows.map((w) => w.text));

  // A clip the goldens cut at 48 tokens runs to the app's own cap: the Node reference decode without a cap, whose
  // first 48 tokens are the golden ones.
  const cut = oneWindow.find((c) => c.windows[0]!.token_ids.length === g.max_new_tokens);
  expect(cut, 'a golden clip cut at the cap').toBeDefined();
  const file = clipWav(cut!.id, cut!.files);
  const reference = referenceDecode('tiny', 'fp32', file);
  expect(reference.windows[0]!.token_ids.slice(0, g.max_new_tokens)).toEqual(cut!.windows[0]!.token_ids);
  expect(reference.windows[0]!.token_ids.length).toBeGreaterThan(g.max_new_tokens);
  expect(await transcribe(file)).toEqual(reference.windows.map((w) => w.token_ids));

  // Both files are kept with all their audio (libraryQuotaAfter=0 ignored): two documents, complete, no alert.
  await expect(page.getByTestId('library-item')).toHaveCount(2);
  await expect
    .poll(async () => (await rawLibrary(page)).docs.map((d) => (d['audio'] as { complete?: boolean }).complete))
    .toEqual([true, true]);
  const raw = await rawLibrary(page);
  for (const doc of raw.docs) {
    const samples = (doc['audio'] as { samples: number }).samples;
    expect(samples).toBeGreaterThan(16_000);
    expect(raw.audio[doc['id'] as string]?.samples).toBe(samples);
  }
  await expect(page.locator('[role=alert]')).toHaveCount(0);
  expect(errors).toEqual([]);
});
