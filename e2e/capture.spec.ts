import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { decodeWav } from '../workers/dsp/wav.ts';
import { bestAlignment, readMono, soxResample, subsampleAlignment } from './helpers/audio.ts';
import { launchDenyingMic, launchWithFakeMic } from './helpers/browser.ts';
import { speechFile } from './helpers/paths.ts';

const CLIP = 'en/jfk.wav'; // 11.0 s of real speech, 16 kHz

/** Record for `seconds` with the AudioContext opened at `contextRate` (the `?contextRate=` knob). */
async function record(page: Page, seconds: number, contextRate?: number) {
  await page.goto(contextRate ? `/?contextRate=${contextRate}` : '/');
  await page.getByTestId('record').click();
  await expect(page.getByTestId('stop')).toBeVisible();
  await expect(page.getByTestId('status')).toContainText('Recording');
  await expect
    .poll(async () => Number((await page.getByTestId('elapsed').textContent())?.split(':')[1]), {
      timeout: (seconds + 20) * 1000,
    })
    .toBeGreaterThanOrEqual(seconds);
  await page.getByTestId('stop').click();
  // Diagnostics are behind Details.
  await page.getByTestId('details').locator('summary').click();
  await expect(page.getByTestId('capture-stats')).toBeVisible();
  const stats = page.getByTestId('capture-stats');
  const attr = async (sel: string, name: string) => Number(await stats.locator(sel).getAttribute(name));
  const result = {
    samples: await attr('[data-samples]', 'data-samples'),
    inputSamples: await attr('[data-input-samples]', 'data-input-samples'),
    inputRate: await attr('[data-input-rate]', 'data-input-rate'),
    frames: await attr('[data-frames]', 'data-frames'),
    lost: await attr('[data-lost]', 'data-lost'),
    duplicated: await attr('[data-lost]', 'data-duplicated'),
    poolMisses: await attr('[data-pool-misses]', 'data-pool-misses'),
  };
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
  const path = (await download.path())!;
  return { ...result, wav: decodeWav(readFileSync(path)), path };
}

/**
 * Record the clip and check it against the reference.  Our side is checked hard every time: the context's rate, no
 * frame lost or repeated between worklet and worker, the exact length.  The content check (cross-correlation with
 * sox's resampling) also depends on Chromium's fake capture device upstream of the app, which now and then drops or
 * inserts a block under load (seen as ncc 0.6-0.73 with every one of our checks passing, in about one run in ten of
 * the whole suite).  When only the content check fails, the recording is made once more and that one must pass.
 */
async function recordAndCheck(rateHz: number, played: string, referencePath: string) {
  const reference = readMono(referencePath).samples;
  const clipSeconds = reference.length / 16_000;
  for (let attempt = 1; ; attempt++) {
    const browser = await launchWithFakeMic(played);
    try {
      const page = await browser.newPage();
      const r = await record(page, clipSeconds + 1.5, rateHz);
      // The worklet ran at the rate asked for (headless Chromium would otherwise open 44.1 kHz): its 48, 44.1 and
      // 16 kHz (pass-through) paths are each proven here.
      expect(r.inputRate, 'AudioContext rate the worklet ran at').toBe(rateHz);
      // No frame lost or repeated between worklet and worker.
      expect(r.lost, 'frames lost between worklet and worker').toBe(0);
      expect(r.duplicated, 'frames duplicated between worklet and worker').toBe(0);
      expect(r.samples).toBeGreaterThanOrEqual(r.frames * 512);
      expect(r.samples).toBeLessThan((r.frames + 1) * 512);
      // Length: 16 kHz samples = input samples x 16000 / input rate (within 0.5 %; by design within 1 sample).
      const expected = (r.inputSamples * 16_000) / r.inputRate;
      expect(Math.abs(r.samples - expected) / expected).toBeLessThanOrEqual(0.005);
      // The downloaded recording is the stream the worker kept.
      expect(r.wav.sampleRateHz).toBe(16_000);
      const recorded = r.wav.channels[0]!;
      expect(recorded.length).toBe(r.samples);
      // Content: normalized cross-correlation with the sox-resampled source over their overlap, at the best
      // alignment (found at whole samples, then refined to 1/8 sample).
      const coarse = bestAlignment(recorded, reference, 3 * 16_000);
      const { lag, value, overlap } = subsampleAlignment(r.path, referencePath, coarse.lag);
      const figures = `context ${r.inputRate} Hz, ${r.samples} samples, lag ${lag}, ncc ${value.toFixed(5)} (${coarse.value.toFixed(5)} at whole samples), overlap ${(overlap / reference.length).toFixed(3)}, pool misses ${r.poolMisses}, attempt ${attempt}`;
      test.info().annotations.push({ type: 'capture', description: figures });
      console.log(`[${rateHz} Hz file] ${figures}`);
      expect(overlap, figures).toBeGreaterThan(0.9 * reference.length);
      if (value < 0.99 && attempt === 1) {
        console.log(`[${rateHz} Hz file] content off with every check of ours passing: recording again`);
        test.info().annotations.push({ type: 'recorded again', description: figures });
        continue;
      }
      expect(value, figures).toBeGreaterThanOrEqual(0.99);
      return;
    } finally {
      await browser.close();
    }
  }
}

for (const rateHz of [48_000, 44_100, 16_000]) {
  test(`fake microphone at ${rateHz / 1000} kHz, AudioContext at ${rateHz / 1000} kHz: the worklet delivers an exact 16 kHz stream`, async () => {
    test.setTimeout(240_000); // room for a second recording
    const source = speechFile(CLIP);
    const played = rateHz === 16_000 ? source : soxResample(source, rateHz);
    // The reference: what the played file is at 16 kHz according to sox.
    const referencePath = rateHz === 16_000 ? source : soxResample(played, 16_000, `-from${rateHz}`);
    await recordAndCheck(rateHz, played, referencePath);
  });
}

test('a denied microphone permission shows its message and keeps the app usable', async () => {
  const browser = await launchDenyingMic();
  try {
    const page = await browser.newPage();
    await page.goto('/');
    await page.getByTestId('record').click();
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('Microphone access is blocked');
    await expect(alert).toHaveAttribute('data-error-code', 'MIC_DENIED');
    await expect(page.getByTestId('record')).toBeEnabled();
  } finally {
    await browser.close();
  }
});
