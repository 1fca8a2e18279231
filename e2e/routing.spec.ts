/**
 * Where the app transcribes, through its UI, against the real app server (onnxruntime-node) on 127.0.0.1:
 * the server engine after the one-time consent gives the official goldens' text; a GPU device lost after the first
 * window of the 40 s clip moves the rest to the server (Automatic, allowed) or to the CPU (*Only on this device*,
 * with nothing sent to /v1/ although the server was allowed), and the transcript still equals the goldens.
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ARTIFACTS } from './helpers/paths.ts';
import { clipWav } from './helpers/reference.ts';

interface Goldens {
  max_new_tokens: number;
  clips: { id: string; files: string[]; windows: { token_ids: number[]; text: string }[] }[];
}
const goldens = () =>
  JSON.parse(readFileSync(resolve(ARTIFACTS, 'goldens', 'tiny', 'goldens.json'), 'utf8')) as Goldens;

async function transcribe(page: Page, path: string) {
  await page.getByTestId('file-input').setInputFiles(path);
  await expect(page.getByTestId('transcript')).toBeVisible({ timeout: 110_000 });
  return page
    .getByTestId('windows')
    .locator('li')
    .evaluateAll((lis) =>
      lis.map((li) => ({
        engine: li.getAttribute('data-engine'),
        text: li.querySelector('.text')?.getAttribute('data-text') ?? null,
        ids: JSON.parse(li.getAttribute('data-token-ids') || '[]') as number[],
      })),
    );
}

test('engine=server: consent once, then every golden clip gives the official text from the server', async ({
  page,
}) => {
  test.setTimeout(300_000);
  const g = goldens();
  const api: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/v1/')) api.push(`${r.method()} ${new URL(r.url()).pathname}`);
  });
  await page.goto(`/?model=/models/tiny/&variant=fp32&engine=server&maxNewTokens=${g.max_new_tokens}`);
  // Nothing is sent before the user agrees; the prompt names the server.
  const consent = page.getByTestId('consent');
  await expect(consent).toBeVisible({ timeout: 30_000 });
  const origin = new URL(page.url()).origin;
  await expect(consent).toContainText(`${origin}/v1`);
  expect(api.filter((r) => r.startsWith('POST'))).toEqual([]);
  await page.getByTestId('consent-allow').click();
  const engine = page.getByTestId('engine');
  await expect(engine).toHaveAttribute('data-provider', 'server', { timeout: 30_000 });
  await expect(engine).toContainText(`${origin}/v1`);
  for (const clip of g.clips) {
    const windows = await transcribe(page, clipWav(clip.id, clip.files));
    expect(
      windows.map((w) => w.text),
      clip.id,
    ).toEqual(clip.windows.map((w) => w.text));
    expect(windows.every((w) => w.engine === 'server')).toBe(true);
  }
  expect(api.filter((r) => r === 'POST /v1/audio/transcriptions').length).toBe(
    g.clips.reduce((n, c) => n + c.windows.length, 0),
  );
  // The consent is remembered: a reload goes straight to the server.
  await page.reload();
  await expect(page.getByTestId('engine')).toHaveAttribute('data-provider', 'server', { timeout: 30_000 });
  await expect(page.getByTestId('consent')).toHaveCount(0);
});

/** Allow audio to go to this origin's server once, through the prompt (the stored consent outlives the page). */
async function consentToOriginServer(page: Page, maxNewTokens: number) {
  await page.goto(`/?model=/models/tiny/&variant=fp32&engine=server&maxNewTokens=${maxNewTokens}`);
  await page.getByTestId('consent-allow').click();
  await expect(page.getByTestId('engine')).toHaveAttribute('data-provider', 'server', { timeout: 30_000 });
}

/** The failover tests' start: a long time limit, the 40 s golden clip (two windows), the origin server allowed. */
async function allowServerThenTake40sClip(page: Page) {
  test.setTimeout(600_000);
  const g = goldens();
  const clip = g.clips.find((c) => c.windows.length === 2)!;
  await consentToOriginServer(page, g.max_new_tokens);
  return { g, clip };
}

/** Open the tiny model with the GPU destroyed after window 1; it must start on WebGPU with `fallbacks` next. */
async function openLosingGpuAfterWindow1(page: Page, g: Goldens, fallbacks: string) {
  await page.goto(`/?model=/models/tiny/&variant=fp32&loseGpuAfterWindows=1&maxNewTokens=${g.max_new_tokens}`);
  const engine = page.getByTestId('engine');
  await expect(engine).toHaveAttribute('data-provider', 'webgpu', { timeout: 240_000 });
  await expect(engine).toContainText(`If it fails: ${fallbacks}`);
  return engine;
}

test('Automatic, server allowed: the GPU is lost after window 1 of the 40 s clip, window 2 goes to the server', async ({
  page,
}) => {
  const { g, clip } = await allowServerThenTake40sClip(page);
  const posts: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname.startsWith('/v1/')) posts.push(new URL(r.url()).pathname);
  });
  const engine = await openLosingGpuAfterWindow1(page, g, 'the server, then CPU (WASM)');
  const windows = await transcribe(page, clipWav(clip.id, clip.files));
  expect(windows.map((w) => w.engine)).toEqual(['webgpu', 'server']);
  expect(windows[0]!.ids).toEqual(clip.windows[0]!.token_ids);
  expect(windows.map((w) => w.text)).toEqual(clip.windows.map((w) => w.text));
  expect(posts).toEqual(['/v1/audio/transcriptions']);
  // Said once, naming the window, both engines and why.
  const notice = page.getByTestId('engine-switch');
  await expect(notice).toHaveCount(1);
  await expect(notice).toHaveAttribute('data-window', '1');
  await expect(notice).toContainText('server');
  await expect(notice).toContainText('GPU device was lost');
  await expect(page.getByTestId('engine-changed')).toHaveCount(0);
  await expect(engine).toHaveAttribute('data-provider', 'server');
});

test('Only on this device (server allowed before): the lost GPU moves window 2 to the CPU, nothing reaches /v1/', async ({
  page,
}) => {
  const { g, clip } = await allowServerThenTake40sClip(page);
  await page.goto('/');
  await page.getByTestId('routing').locator('summary').click();
  await page.getByTestId('where-device').check();
  await page.getByTestId('save-routing').click();
  const api: string[] = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/v1/')) api.push(`${r.method()} ${r.url()}`);
  });
  const engine = await openLosingGpuAfterWindow1(page, g, 'CPU (WASM) fp32.');
  const windows = await transcribe(page, clipWav(clip.id, clip.files));
  // Token-exact with the official goldens across the switch.
  expect(windows.map((w) => w.ids)).toEqual(clip.windows.map((w) => w.token_ids));
  expect(windows.map((w) => w.engine)).toEqual(['webgpu', 'wasm']);
  const notice = page.getByTestId('engine-switch');
  await expect(notice).toHaveCount(1);
  await expect(notice).toContainText('CPU (WASM');
  await expect(engine).toHaveAttribute('data-provider', 'wasm');
  expect(api).toEqual([]);
  await page.screenshot({ path: 'test-results/failover.png', fullPage: true });
});
