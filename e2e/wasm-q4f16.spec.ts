/**
 * q4f16 on the WASM backend: onnxruntime-web's plain CPU build (`onnxruntime-web/wasm`, workers/ort/web.ts) has the
 * GatherBlockQuantized kernel of q4f16's 4-bit embedding, which the WebGPU bundle's asyncify build lacks.  The tiny
 * q4f16 model through the app's UI, token for token against the Node reference decode of the same file
 * (onnxruntime-node, the same graphs); and which onnxruntime .wasm each backend makes the worker fetch.
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { start } from '../server/server.ts';
import { TEST_DIST } from './helpers/dist.ts';
import { ARTIFACTS } from './helpers/paths.ts';
import { clipWav, referenceDecode } from './helpers/reference.ts';

interface Goldens {
  max_new_tokens: number;
  clips: { id: string; files: string[]; windows: { token_ids: number[] }[] }[];
}
const goldens = () =>
  JSON.parse(readFileSync(resolve(ARTIFACTS, 'goldens', 'tiny', 'goldens.json'), 'utf8')) as Goldens;

/** The onnxruntime .wasm files the page and its workers request, by build ('plain' or 'asyncify'). */
function ortWasmRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (r) => {
    const name = new URL(r.url()).pathname.split('/').pop() ?? '';
    if (/^ort-wasm-simd-threaded.*\.wasm$/.test(name)) seen.push(name.includes('.asyncify') ? 'asyncify' : 'plain');
  });
  return seen;
}

async function transcribeFile(page: Page, path: string): Promise<number[][]> {
  await page.getByTestId('file-input').setInputFiles(path);
  await expect(page.getByTestId('transcript')).toBeVisible({ timeout: 200_000 });
  return page
    .getByTestId('windows')
    .locator('li')
    .evaluateAll((lis) => lis.map((li) => JSON.parse(li.getAttribute('data-token-ids') || '[]') as number[]));
}

test('q4f16 runs on WASM: every golden clip token-exact with the Node reference decode; only the plain build loads', async ({
  page,
}) => {
  test.setTimeout(400_000);
  const wasm = ortWasmRequests(page);
  // The goldens' token cap, as the official-goldens tests use: the random tiny model rarely stops by itself, and the
  // two CPU builds' float sums differ in order, so a near-tie deep into a long decode may flip (long-8k-jfk's did after
  // more than 130 tokens).
  const g = goldens();
  await page.goto(`/?model=/models/tiny/&variant=q4f16&engine=wasm&storage=memory&maxNewTokens=${g.max_new_tokens}`);
  const engine = page.getByTestId('engine');
  await expect(engine).toHaveAttribute('data-provider', 'wasm', { timeout: 60_000 });
  await expect(engine).toHaveAttribute('data-variant', 'q4f16');
  for (const clip of g.clips) {
    const file = clipWav(clip.id, clip.files);
    const reference = referenceDecode('tiny', 'q4f16', file, g.max_new_tokens);
    const ids = await transcribeFile(page, file);
    expect(ids, clip.id).toEqual(reference.windows.map((w) => w.token_ids));
    expect(ids.flat().length, clip.id).toBeGreaterThan(0);
  }
  // A device on WASM never fetches the 28.7 MB asyncify build (the model and the VAD both run on the plain one).
  expect(wasm).toContain('plain');
  expect(wasm).not.toContain('asyncify');
});

test('WebGPU: the model on the asyncify build, the voice-activity model on the plain one', async ({ page }) => {
  test.setTimeout(300_000);
  const wasm = ortWasmRequests(page);
  await page.goto('/?model=/models/tiny/&variant=fp32&engine=webgpu&storage=memory');
  await expect(page.getByTestId('engine')).toHaveAttribute('data-provider', 'webgpu', { timeout: 240_000 });
  // The VAD loads with the model (workers/dictation/recordings.ts), on the CPU-only build.
  await expect.poll(() => [...new Set(wasm)].sort(), { timeout: 60_000 }).toEqual(['asyncify', 'plain']);
});

test.describe('offline', () => {
  test.use({ serviceWorkers: 'allow' });

  test('after one visit, both builds come from the precache: WebGPU and WASM each transcribe with the network off', async ({
    page,
  }) => {
    test.setTimeout(400_000);
    const g = goldens();
    const clip = g.clips[0]!;
    const wav = clipWav(clip.id, clip.files);
    const app = await start({ port: 0, host: '127.0.0.1', dist: TEST_DIST, models: resolve(ARTIFACTS, 'models') });
    const query = (engine: string) =>
      `http://127.0.0.1:${app.port}/?model=/models/tiny/&variant=fp32&engine=${engine}&maxNewTokens=${g.max_new_tokens}`;
    try {
      await page.goto(query('webgpu'));
      // Controlled once installed, and installed once everything is precached.
      await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 60_000 });
      await expect(page.getByTestId('engine')).toHaveAttribute('data-provider', 'webgpu', { timeout: 240_000 });
      await app.stop();
      await page.context().setOffline(true);
      for (const engine of ['webgpu', 'wasm']) {
        await page.goto(query(engine));
        const line = page.getByTestId('engine');
        await expect(line).toHaveAttribute('data-provider', engine, { timeout: 240_000 });
        await expect(line).toHaveAttribute('data-storage', 'stored');
        expect(await transcribeFile(page, wav), engine).toEqual(clip.windows.map((w) => w.token_ids));
      }
    } finally {
      await page.context().setOffline(false);
      await app.stop().catch(() => undefined);
    }
  });
});
