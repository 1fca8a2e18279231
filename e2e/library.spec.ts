/**
 * The transcript library in Chromium, with real IndexedDB (read back with the raw API, e2e/helpers/library.ts): a
 * transcribed file kept, searched, renamed, played, exported and deleted without leftovers; a recording recovered
 * after a reload in the middle of it; a full disk mid-recording; 200 stored transcripts.
 */
import { expect, test, type Page } from '@playwright/test';
import { Ajv } from 'ajv';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { encodeWavFloat32 } from '../src/core/dsp/wav.ts';
import { readMono } from './helpers/audio.ts';
import { launchWithFakeMic } from './helpers/browser.ts';
import { rawAudio, rawLibrary } from './helpers/library.ts';
import { downloadRecording } from './helpers/live.ts';
import { sampleDocuments, seedLibrary } from './helpers/library-docs.ts';
import { ARTIFACTS, E2E_FIXTURES, ROOT, speechFile } from './helpers/paths.ts';
import { cliFormat, clipWav, referenceDecode } from './helpers/reference.ts';

const schema = JSON.parse(readFileSync(resolve(ROOT, 'src/core/format/transcript.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true }).compile(schema);
const RATE = 16_000;

async function openWithModel(page: Page, extra = '') {
  await page.goto(`/?model=/models/tiny/&variant=fp32&engine=wasm${extra}`);
  await expect(page.getByTestId('engine')).toBeVisible({ timeout: 60_000 });
}

const items = (page: Page) => page.getByTestId('library-item');

test('a transcribed file is kept: listed, searched, renamed, played from a segment, saved as JSON, deleted', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const goldens = JSON.parse(readFileSync(resolve(ARTIFACTS, 'goldens', 'tiny', 'goldens.json'), 'utf8')) as {
    clips: { id: string; files: string[]; windows: unknown[] }[];
  };
  const clip = goldens.clips.find((c) => c.windows.length > 1)!;
  const file = clipWav(clip.id, clip.files);
  const reference = referenceDecode('tiny', 'fp32', file);
  await openWithModel(page);
  await expect(page.getByTestId('library-empty')).toBeVisible();
  await page.getByTestId('file-input').setInputFiles(file);
  await expect(page.getByTestId('transcript')).toHaveText(reference.text, { timeout: 120_000 });

  // Listed, newest first, with its first line; what IndexedDB holds is the document and one record per second.
  await expect(items(page)).toHaveCount(1);
  await expect.poll(async () => (await rawLibrary(page)).docs[0]?.['audio']).toMatchObject({ complete: true });
  const raw = await rawLibrary(page);
  const doc = raw.docs[0]!;
  const samples = (doc['audio'] as { samples: number }).samples;
  // The file's length at 16 kHz, from the file itself.
  const source = readMono(file);
  expect(samples).toBe(Math.round((source.samples.length * RATE) / source.rateHz));
  expect(doc['durationSec']).toBe(samples / RATE);
  expect(raw.audio[doc['id'] as string]).toEqual({ records: Math.ceil(samples / RATE), samples });
  expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
  expect((doc['segments'] as { text: string }[]).map((s) => s.text)).toEqual(reference.windows.map((w) => w.text));

  // Settings show what the library takes beside the models: the document and its audio.
  await page.getByTestId('storage').locator('summary').click();
  const size = page.getByTestId('library-size');
  await expect(size).toHaveAttribute('data-transcripts', '1');
  // Its audio records' bytes as IndexedDB holds them, plus the document as JSON.
  const audioBytes = raw.audio[doc['id'] as string]!.samples * 4;
  expect(Number(await size.getAttribute('data-bytes'))).toBe(audioBytes + JSON.stringify(doc).length);
  await expect(size).toContainText('Transcripts: 1 kept on this device');

  // The finished job offers Save JSON: the document as stored; it agrees with the CLI's --format json.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByTestId('export-json').first().click(),
  ]);
  const saved = JSON.parse(readFileSync((await download.path())!, 'utf8')) as Record<string, unknown>;
  expect(saved).toEqual(doc);
  const cli = JSON.parse(cliFormat('tiny', 'fp32', file, 'json')) as Record<string, unknown>;
  expect(validate(cli), JSON.stringify(validate.errors)).toBe(true);
  // What only the app knows (its id, times, kept audio, engine per segment) aside, the two documents are equal.
  const comparable = (d: Record<string, unknown>) => ({
    ...d,
    id: null,
    createdAt: null,
    updatedAt: null,
    audio: null,
    segments: (d['segments'] as Record<string, unknown>[]).map((s) => ({ ...s, engine: null })),
  });
  expect(comparable(saved)).toEqual(comparable(cli));

  // Renamed, and the name survives a reload; search finds it by its name and by its text.
  await items(page).first().click();
  await page.getByTestId('doc-title').fill('Board meeting notes');
  await page.getByTestId('doc-title').press('Enter');
  await expect.poll(async () => (await rawLibrary(page)).docs[0]?.['title']).toBe('Board meeting notes');
  await page.reload();
  await expect(items(page)).toHaveCount(1);
  await expect(items(page).first()).toContainText('Board meeting notes');
  const search = page.getByTestId('library-search');
  await search.fill('board MEETING');
  await expect(items(page)).toHaveCount(1);
  const word = reference.windows[1]!.text.split(/\s+/).find((w) => w.length > 3)!;
  await search.fill(word);
  await expect(items(page)).toHaveCount(1);
  await search.fill('no-such-word-anywhere');
  await expect(page.getByTestId('library-no-match')).toBeVisible();
  await search.fill('');

  // Played from the second segment: the audio jumps there and that segment is the highlighted one.
  await items(page).first().click();
  const audio = page.getByTestId('doc-audio');
  await expect(audio).toBeAttached();
  await expect.poll(() => audio.evaluate((a: HTMLAudioElement) => a.duration)).toBeCloseTo(samples / RATE, 1);
  const second = page.getByTestId('doc-segment').nth(1);
  await second.click();
  const start = Number(await second.getAttribute('data-start'));
  expect(start).toBe(reference.windows[1]!.start);
  await expect.poll(() => audio.evaluate((a: HTMLAudioElement) => a.currentTime)).toBeGreaterThanOrEqual(start);
  await expect(second).toHaveAttribute('aria-current', 'true');
  await expect(page.getByTestId('doc-segment').first()).toHaveAttribute('aria-current', 'false');

  // Deleted after a confirmation: no document and no audio record is left.
  await page.getByTestId('delete-doc').click();
  await expect(page.getByTestId('confirm')).toBeVisible();
  await page.getByTestId('confirm-delete').click();
  await expect(page.getByTestId('library-empty')).toBeVisible();
  expect(await rawLibrary(page)).toEqual({ docs: [], audio: {} });
});

for (const how of ['reload', 'crash'] as const) {
  test(`a ${how} in the middle of a recording: the audio kept is within a second of what was captured, and finishing it gives the reference decode`, async () => {
    test.setTimeout(240_000);
    const browser = await launchWithFakeMic(speechFile('en/jfk.wav'));
    try {
      const context = await browser.newContext();
      let page = await context.newPage();
      await openWithModel(page);
      await page.getByTestId('record').click();
      await expect(page.getByTestId('status')).toContainText('Recording');
      const elapsed = page.getByTestId('elapsed');
      await expect
        .poll(async () => Number(await elapsed.getAttribute('data-elapsed-samples')), { timeout: 30_000 })
        .toBeGreaterThanOrEqual(6.5 * RATE);
      // (The count on screen is at most one 100 ms statistics tick old.)
      const captured = Number(await elapsed.getAttribute('data-elapsed-samples'));
      if (how === 'reload') {
        await page.reload();
      } else {
        // The renderer dies at once: no pagehide, no flush; the worker goes with it.
        const cdp = await context.newCDPSession(page);
        const crashed = page.waitForEvent('crash', { timeout: 10_000 });
        void cdp.send('Page.crash').catch(() => undefined); // never answers: the renderer is gone
        await crashed;
        page = await context.newPage();
        await page.goto('/?model=/models/tiny/&variant=fp32&engine=wasm');
      }

      const unfinished = page.getByTestId('unfinished');
      await expect(unfinished).toHaveCount(1, { timeout: 30_000 });
      const id = (await unfinished.getAttribute('data-id'))!;
      const kept = Number(await unfinished.getAttribute('data-samples'));
      const recovered = await rawAudio(page, id);
      expect(recovered.length).toBe(kept);
      console.log(`${how}: captured ${captured} samples before; ${kept} were kept (${captured - kept} fewer)`);
      // At most the last second is lost (the capture may have run on a little after the count was read).
      expect(kept).toBeGreaterThan(captured - RATE);
      expect(kept).toBeLessThan(captured + 0.25 * RATE);

      // Finishing it transcribes the kept audio whole: the same text as the Node pipeline's run on those samples.
      await expect(page.getByTestId('engine')).toBeVisible({ timeout: 60_000 });
      await page.getByTestId('finish-unfinished').click();
      mkdirSync(E2E_FIXTURES, { recursive: true });
      const wav = resolve(E2E_FIXTURES, `library-recovered-${how}.wav`);
      writeFileSync(wav, encodeWavFloat32(recovered, RATE));
      const reference = referenceDecode('tiny', 'fp32', wav);
      await expect(page.getByTestId('transcript')).toHaveText(reference.text, { timeout: 120_000 });
      expect(reference.text.length).toBeGreaterThan(0);
      await expect(unfinished).toHaveCount(0);
      const doc = (await rawLibrary(page)).docs.find((d) => d['id'] === id)!;
      expect(doc['status']).toBe('done');
      expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
      expect((doc['segments'] as { text: string }[]).map((s) => s.text)).toEqual(reference.windows.map((w) => w.text));
    } finally {
      await browser.close();
    }
  });
}

test('a full disk mid-recording: the audio written so far is kept and playable, and the message says so', async () => {
  test.setTimeout(120_000);
  const browser = await launchWithFakeMic(speechFile('en/jfk.wav'));
  try {
    const page = await browser.newPage();
    // The library's audio writes fail after 2 s of audio (2 records of 64,000 bytes), as on a full disk.
    await page.goto('/?libraryQuotaAfter=128000');
    await page.getByTestId('record').click();
    const alert = page.getByTestId('library-audio-error');
    await expect(alert).toBeVisible({ timeout: 20_000 });
    await expect(alert).toHaveAttribute('data-error-code', 'STORAGE_FULL');
    await expect(alert).toContainText('Storage is full');
    await expect(alert).toContainText('0:02.0 of audio were kept');
    await expect
      .poll(async () => Number(await page.getByTestId('elapsed').getAttribute('data-elapsed-samples')))
      .toBeGreaterThanOrEqual(4 * RATE);
    await page.getByTestId('stop').click();
    await expect(page.getByTestId('download')).toBeVisible();

    // The library holds exactly what was written before the disk filled, and plays it.
    const raw = await rawLibrary(page);
    expect(raw.docs).toHaveLength(1);
    const id = raw.docs[0]!['id'] as string;
    expect(raw.audio[id]).toEqual({ records: 2, samples: 2 * RATE });
    expect(raw.docs[0]!['audio']).toMatchObject({ samples: 2 * RATE, chunks: 2, complete: false });
    expect((raw.docs[0]!['audio'] as { error: string }).error).toMatch(/^STORAGE_FULL/);
    await items(page).first().click();
    await expect(page.getByTestId('doc-audio-note')).toContainText('0:02.0 kept');
    await expect
      .poll(() => page.getByTestId('doc-audio').evaluate((a: HTMLAudioElement) => a.duration))
      .toBeCloseTo(2, 2);
    // The whole recording is still in the page's memory: Download gives all of it.
    const whole = await downloadRecording(page);
    expect(whole.length).toBeGreaterThanOrEqual(4 * RATE);
  } finally {
    await browser.close();
  }
});

test('200 stored transcripts: all listed newest first, search narrows them, Delete all empties the store', async ({
  page,
}) => {
  await page.goto('/');
  await expect(page.getByTestId('library-empty')).toBeVisible();
  const docs = sampleDocuments(200);
  for (const d of docs) expect(validate(d), JSON.stringify(validate.errors)).toBe(true);
  await seedLibrary(page, docs);
  await page.reload();
  // Fifty rows at a time.
  await expect(page.getByTestId('library-list')).toHaveAttribute('data-matches', '200');
  await expect(items(page)).toHaveCount(50);
  await expect(items(page).first()).toHaveAttribute('data-id', 'seed-0000');
  for (const shown of [100, 150, 200]) {
    await page.getByTestId('library-more').click();
    await expect(items(page)).toHaveCount(shown);
  }
  await expect(page.getByTestId('library-more')).toHaveCount(0);
  await expect(items(page).last()).toHaveAttribute('data-id', 'seed-0199');
  const search = page.getByTestId('library-search');
  await search.fill('marker137');
  await expect(items(page)).toHaveCount(1);
  await expect(items(page).first()).toHaveAttribute('data-id', 'seed-0137');
  // Every word must match: documents containing both words, counted independently here.
  await search.fill('coffee river');
  const both = docs.filter((d) => {
    const text = (d['segments'] as { text: string }[]).map((s) => s.text).join(' ');
    return text.includes('coffee') && text.includes('river');
  }).length;
  expect(both).toBeGreaterThan(0);
  expect(both).toBeLessThan(200);
  await expect(page.getByTestId('library-list')).toHaveAttribute('data-matches', String(both));
  await expect(items(page)).toHaveCount(Math.min(both, 50));

  await search.fill('');
  await page.getByTestId('delete-all').click();
  await expect(page.getByTestId('confirm')).toContainText('Delete all 200 transcripts');
  await page.getByTestId('confirm-cancel').click();
  await expect(page.getByTestId('library-list')).toHaveAttribute('data-matches', '200');
  await page.getByTestId('delete-all').click();
  await page.getByTestId('confirm-delete').click();
  await expect(page.getByTestId('library-empty')).toBeVisible();
  expect(await rawLibrary(page)).toEqual({ docs: [], audio: {} });
});

test('once kept, a recording leaves the worker’s memory: deleted from the library, it is gone', async () => {
  const browser = await launchWithFakeMic(speechFile('en/jfk.wav'));
  try {
    const page = await browser.newPage();
    await page.goto('/');
    await page.getByTestId('record').click();
    await expect
      .poll(async () => Number(await page.getByTestId('elapsed').getAttribute('data-elapsed-samples')))
      .toBeGreaterThanOrEqual(1.5 * RATE);
    await page.getByTestId('stop').click();
    await expect.poll(async () => (await rawLibrary(page)).docs[0]?.['audio']).toMatchObject({ complete: true });
    // Kept whole: Download reads it back from the library, sample for sample.
    const id = (await rawLibrary(page)).docs[0]!['id'] as string;
    const kept = await rawAudio(page, id);
    expect(await downloadRecording(page)).toEqual(kept);
    // Deleted from the library: the worker holds no copy, so nothing is left to download.
    await items(page).first().click();
    await page.getByTestId('delete-doc').click();
    await page.getByTestId('confirm-delete').click();
    await expect(page.getByTestId('library-empty')).toBeVisible();
    await page.getByTestId('download').click();
    await expect(page.locator('[data-error-code="NOT_KEPT"]')).toContainText('no longer kept');
    expect(await rawLibrary(page)).toEqual({ docs: [], audio: {} });
  } finally {
    await browser.close();
  }
});
