/**
 * GLM-ASR in the browser, through the app's UI: the tiny fp32 model served by the app server, the ASR worker on
 * onnxruntime-web (WASM and WebGPU on SwiftShader).  Expected token ids come from the official implementation
 * (the converter's goldens) and, for recorded audio, from the Node reference pipeline on the same samples.
 */
import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { launchWithFakeMic } from './helpers/browser.ts';
import { rawLibrary } from './helpers/library.ts';
import { ARTIFACTS, speechFile } from './helpers/paths.ts';
import { cliFormat, clipWav, longFile, referenceDecode } from './helpers/reference.ts';

interface Goldens {
  max_new_tokens: number;
  clips: { id: string; files: string[]; windows: { token_ids: number[]; text: string }[] }[];
}
const goldens = (model: string) =>
  JSON.parse(readFileSync(resolve(ARTIFACTS, 'goldens', model, 'goldens.json'), 'utf8')) as Goldens;

async function openWithModel(page: Page, engine: 'wasm' | 'webgpu', extra = '') {
  await page.goto(`/?model=/models/tiny/&variant=fp32&engine=${engine}${extra}`);
  await expect(page.getByTestId('engine')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('engine')).toHaveAttribute('data-provider', engine);
}

async function transcribeFile(page: Page, path: string) {
  await page.getByTestId('file-input').setInputFiles(path);
  await expect(page.getByTestId('transcript')).toBeVisible({ timeout: 110_000 });
  return page
    .getByTestId('windows')
    .locator('li')
    .evaluateAll((lis) => lis.map((li) => JSON.parse(li.getAttribute('data-token-ids') || '[]') as number[]));
}

for (const engine of ['wasm', 'webgpu'] as const) {
  test(`every golden clip decodes to the official token ids in Chromium (${engine}, fp32 tiny)`, async ({ page }) => {
    test.setTimeout(engine === 'webgpu' ? 600_000 : 300_000);
    const g = goldens('tiny');
    // Stored in 64 KiB pieces: onnxruntime reads the weights from the store range by range (piece-bytes.ts), and most
    // tensors span pieces, so a byte out of place in that assembly would change the tokens.
    await openWithModel(page, engine, `&maxNewTokens=${g.max_new_tokens}&chunkKiB=64`);
    // The fused decoder; on WebGPU its KV cache is written in place (one buffer per layer per window).
    await expect(page.getByTestId('engine')).toHaveAttribute('data-decoder', 'fused');
    await expect(page.getByTestId('engine')).toHaveAttribute('data-kv', engine === 'webgpu' ? 'in-place' : 'per-step');
    for (const clip of g.clips) {
      const ids = await transcribeFile(page, clipWav(clip.id, clip.files));
      expect(ids, clip.id).toEqual(clip.windows.map((w) => w.token_ids));
    }
  });
}

test('a multi-window file through the file input: per-window times, text equal to the reference decode', async ({
  page,
}) => {
  test.setTimeout(300_000);
  const clip = goldens('tiny').clips.find((c) => c.windows.length > 1)!;
  const file = clipWav(clip.id, clip.files);
  const reference = referenceDecode('tiny', 'fp32', file);
  await openWithModel(page, 'wasm');
  const ids = await transcribeFile(page, file);
  expect(ids).toEqual(reference.windows.map((w) => w.token_ids));
  await expect(page.getByTestId('transcript')).toHaveText(reference.text);
  const times = page.getByTestId('windows').locator('.time');
  await expect(times).toHaveCount(reference.windows.length);
  await expect(times.nth(1)).toContainText('0:');
  await page.screenshot({ path: 'test-results/transcribe-multi-window.png', fullPage: true });

  // Save as TXT, SRT and VTT: the same bytes as the CLI's --format and the server's response_format for this file.
  const audio = new Blob([readFileSync(file)], { type: 'audio/wav' });
  const formats = [
    ['txt', 'text'],
    ['srt', 'srt'],
    ['vtt', 'vtt'],
  ] as const;
  // The CLI runs synchronously, so it runs before any request: a blocked event loop cannot see the server close an
  // idle keep-alive socket, and the next POST written on it fails with EPIPE.
  const cli = Object.fromEntries(formats.map(([format]) => [format, cliFormat('tiny', 'fp32', file, format)]));
  for (const [format, responseFormat] of formats) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`export-${format}`).click()]);
    expect(download.suggestedFilename()).toBe(`${basename(file).replace(/\.wav$/, '')}.${format}`);
    const saved = readFileSync((await download.path())!, 'utf8');
    expect(saved, `${format}: app vs CLI`).toBe(cli[format]);
    const form = new FormData();
    form.set('file', audio, basename(file));
    form.set('model', 'tiny@fp32');
    form.set('response_format', responseFormat);
    const res = await fetch(new URL('/v1/audio/transcriptions', page.url()), { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect(saved, `${format}: app vs server`).toBe(await res.text());
    if (format === 'srt') expect(saved).toMatch(/^1\n00:00:00,000 --> /);
  }
});

test('record with the fake microphone (live), stop, transcribe the whole recording: equal to its reference decode', async () => {
  test.setTimeout(300_000);
  const browser = await launchWithFakeMic(speechFile('en/jfk.wav'));
  try {
    const page = await browser.newPage();
    await openWithModel(page, 'wasm');
    await page.getByTestId('record').click();
    await expect(page.getByTestId('status')).toContainText('Recording');
    await expect
      .poll(async () => Number((await page.getByTestId('elapsed').textContent())?.split(':')[1]), { timeout: 40_000 })
      .toBeGreaterThanOrEqual(12);
    await page.getByTestId('stop').click();
    // Recorded with a model ready: transcribed live, segment by segment (e2e/live.spec.ts checks those).
    await expect(page.locator('[data-segment="final"]').first()).toBeVisible({ timeout: 60_000 });
    await expect(page.getByTestId('live-backlog')).toHaveCount(0, { timeout: 60_000 });
    await expect(page.locator('[data-segment="partial"]')).toHaveCount(0, { timeout: 60_000 });
    // Kept in the library as it was dictated: Save JSON gives the finals shown, each decoded on the CPU (WASM).
    const finals = await page
      .locator('[data-segment="final"] [data-text]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-text')));
    await expect.poll(async () => (await rawLibrary(page)).docs[0]?.['status'], { timeout: 30_000 }).toBe('done');
    const [json] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
    const dictated = JSON.parse(readFileSync((await json.path())!, 'utf8')) as {
      kind: string;
      segments: { text: string; engine: string }[];
    };
    expect(dictated.kind).toBe('recording');
    expect(dictated.segments.map((s) => s.text)).toEqual(finals);
    expect(dictated.segments.every((s) => s.engine === 'wasm')).toBe(true);
    // The whole recording in ≤ 30 s windows, on request.
    await page.getByTestId('transcribe-recording').click();
    await expect(page.getByTestId('transcript')).toBeVisible({ timeout: 120_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
    const recording = (await download.path())!;
    const reference = referenceDecode('tiny', 'fp32', recording);
    await expect(page.getByTestId('transcript')).toHaveText(reference.text);
    expect(reference.text.length).toBeGreaterThan(0);
    // The library's document now holds the whole-recording windows.
    await expect
      .poll(async () => ((await rawLibrary(page)).docs[0]?.['segments'] as { text: string }[]).map((s) => s.text))
      .toEqual(reference.windows.map((w) => w.text));
  } finally {
    await browser.close();
  }
});

test('bad files get their own messages and the app stays usable', async ({ page }) => {
  await openWithModel(page, 'wasm');
  const input = page.getByTestId('file-input');
  await input.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not audio at all') });
  await expect(page.locator('[data-error-code="NOT_AUDIO"]')).toBeVisible();
  await input.setInputFiles({ name: 'empty.wav', mimeType: 'audio/wav', buffer: Buffer.alloc(0) });
  await expect(page.locator('[data-error-code="EMPTY_FILE"]')).toBeVisible();
  const wav = readFileSync(speechFile('en/jfk.wav'));
  await input.setInputFiles({ name: 'truncated.mp3', mimeType: 'audio/mpeg', buffer: wav.subarray(0, 30) });
  await expect(page.locator('[data-error-code="NOT_AUDIO"]')).toBeVisible();
  // 2 s of digital silence as a valid 16 kHz WAV
  const silent = Buffer.alloc(44 + 64000);
  silent.write('RIFF', 0);
  silent.writeUInt32LE(36 + 64000, 4);
  silent.write('WAVEfmt ', 8);
  silent.writeUInt32LE(16, 16);
  silent.writeUInt16LE(1, 20);
  silent.writeUInt16LE(1, 22);
  silent.writeUInt32LE(16000, 24);
  silent.writeUInt32LE(32000, 28);
  silent.writeUInt16LE(2, 32);
  silent.writeUInt16LE(16, 34);
  silent.write('data', 36);
  silent.writeUInt32LE(64000, 40);
  await input.setInputFiles({ name: 'silence.wav', mimeType: 'audio/wav', buffer: silent });
  await expect(page.locator('[data-error-code="SILENT_AUDIO"]')).toBeVisible();
  // Still usable: a real file transcribes afterwards.
  await transcribeFile(page, speechFile('en/jfk.wav'));
  await expect(page.getByTestId('transcript')).not.toBeEmpty();
});

test('cancel mid-file stops within a decode step and the app stays usable', async ({ page }) => {
  test.setTimeout(300_000);
  await openWithModel(page, 'wasm');
  // ~6.7 minutes of speech: 14 windows, far more work than the moment it takes to press Cancel.
  const long = longFile();
  await page.getByTestId('file-input').setInputFiles(long);
  await expect(page.getByTestId('cancel')).toBeVisible();
  await expect(page.locator('li[data-window="1"]')).toBeVisible({ timeout: 60_000 });
  const before = await page.getByTestId('windows').locator('li').count();
  await page.getByTestId('cancel').click();
  await expect(page.locator('[data-error-code="CANCELLED"]')).toBeVisible({ timeout: 5_000 });
  await expect(page.getByTestId('cancel')).toHaveCount(0);
  // Stopped where it was: at most the window in flight when the click landed was started after it.
  const after = await page.getByTestId('windows').locator('li').count();
  expect(after).toBeLessThanOrEqual(before + 1);
  expect(after).toBeLessThan(14);
  await transcribeFile(page, speechFile('en/jfk.wav'));
  await expect(page.getByTestId('transcript')).toBeVisible();
});

test('a model URL that does not exist gives a clear message, which fits a phone with its details open', async ({
  page,
}) => {
  await page.setViewportSize({ width: 390, height: 844 });
  // No hyphen in the name, so the URL in the details has no break opportunity of its own.
  await page.goto('/?model=/models/no_such_model_converted_here/&engine=wasm');
  const alert = page.locator('[data-error-code="MODEL_LOAD_FAILED"]');
  await expect(alert).toBeVisible({ timeout: 30_000 });
  await expect(alert).toContainText('404');
  // The details name the whole manifest URL, one long word: it wraps inside the alert.
  await alert.getByText('Details').click();
  await expect(alert).toContainText('/models/no_such_model_converted_here/manifest.json');
  expect(await alert.evaluate((e) => e.scrollWidth - e.clientWidth)).toBe(0);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
});

test('without shader-f16 (SwiftShader) a requested q4f16 runs as q4 on WebGPU, and the UI says so', async ({
  page,
}) => {
  test.setTimeout(300_000);
  await page.goto('/');
  const f16 = await page.evaluate(async () => {
    const adapter = await (navigator as Navigator & { gpu?: GPU }).gpu?.requestAdapter();
    return adapter ? adapter.features.has('shader-f16') : null;
  });
  test.skip(f16 !== false, 'needs a WebGPU adapter without shader-f16');
  await page.goto('/?model=/models/tiny/&variant=q4f16&engine=webgpu');
  const engine = page.getByTestId('engine');
  await expect(engine).toBeVisible({ timeout: 240_000 });
  await expect(engine).toHaveAttribute('data-provider', 'webgpu');
  await expect(engine).toHaveAttribute('data-variant', 'q4');
  await expect(engine).toContainText('q4f16 needs shader-f16; using q4');
});
