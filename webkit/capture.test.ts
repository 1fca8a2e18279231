/**
 * Safari's engine (WebKitGTK): capture.  WebKit's mock microphone (WebCore's MockRealtimeAudioSourceGStreamer: a
 * continuous 150 Hz hum and, with echo cancellation off as the app asks, a 3000 Hz tone, plus short bips) reaches the
 * worker as a 16 kHz stream: both tones within 1 Hz, no lost or duplicated frames.  A suspended AudioContext (what
 * an iPhone's interruption looks like to the page) is handled as in Chromium: a message, Resume, and a note in the
 * transcript where audio is missing.
 */
import { afterEach, beforeEach, expect, test } from 'vitest';
import { rawAudio, rawLibrary } from '../e2e/helpers/library.ts';
import {
  appUrl,
  byTestId,
  closeAll,
  inBrowser,
  openBrowser,
  pageErrors,
  until,
  waitTestId,
  type Browser,
} from './helpers/driver.ts';

const RATE = 16_000;
/** WebCore's mock audio source (MockRealtimeAudioSourceGStreamer.cpp: s_HumFrequency, s_NoiseFrequency). */
const HUM_HZ = 150;
const TONE_HZ = 3000;

let b: Browser;
let opened: Browser | undefined;
beforeEach(async () => {
  opened = undefined;
  b = opened = await openBrowser();
});
afterEach(async () => {
  await closeAll(opened);
});

/** The frequency in [lo, hi] Hz with the largest DFT magnitude over `x` (evaluated every 0.01 Hz). */
function peakHz(x: Float32Array, lo: number, hi: number): number {
  let best = lo;
  let bestPower = -1;
  for (let f = lo; f <= hi; f += 0.01) {
    const w = (2 * Math.PI * f) / RATE;
    let re = 0;
    let im = 0;
    for (let n = 0; n < x.length; n++) {
      const v = x[n] as number;
      re += v * Math.cos(w * n);
      im -= v * Math.sin(w * n);
    }
    const power = re * re + im * im;
    if (power > bestPower) {
      bestPower = power;
      best = f;
    }
  }
  return best;
}

const samples = async () => Number(await byTestId(b, 'elapsed').getAttribute('data-elapsed-samples'));

test('the mock microphone reaches the worker as 16 kHz audio: its tones within 1 Hz, no lost or duplicated frames', async () => {
  const seen = new Set<string>();
  for (let attempt = 1; ; attempt++) {
    await b.url(appUrl('/'));
    // A real WebDriver click: WebKit starts an AudioContext only from a user gesture.
    await (await waitTestId(b, 'record')).click();
    await until(b, 'the recording did not reach 4 s', async () => (await samples()) >= 4 * RATE, 30_000);
    await byTestId(b, 'stop').click();
    await (await waitTestId(b, 'details')).$('summary').click();
    const stats = await waitTestId(b, 'capture-stats');
    const lost = await stats.$('[data-lost]');
    expect(await lost.getAttribute('data-lost')).toBe('0');
    expect(await lost.getAttribute('data-duplicated')).toBe('0');
    const inputRate = Number(await stats.$('[data-input-rate]').getAttribute('data-input-rate'));
    const inputSamples = Number(await stats.$('[data-input-samples]').getAttribute('data-input-samples'));
    const kept = Number(await stats.$('[data-samples]').getAttribute('data-samples'));
    // Every input sample became 16 kHz audio (the resampler's count, to within its filter's delay).
    expect(Math.abs(kept - (inputSamples * RATE) / inputRate)).toBeLessThan(64);

    // The recording as the library keeps it: a steady stretch, past the start.
    const latest = async () => (await rawLibrary(inBrowser(b))).docs.find((d) => !seen.has(d['id'] as string));
    await until(b, 'the recording was not stored', async () => {
      const doc = await latest();
      return (doc?.['audio'] as { complete?: boolean } | undefined)?.complete === true;
    });
    const id = (await latest())!['id'] as string;
    seen.add(id);
    const audio = await rawAudio(inBrowser(b), id);
    expect(audio.length).toBe(kept);
    const stretch = audio.subarray(RATE, 3 * RATE);
    const hum = peakHz(stretch, HUM_HZ - 5, HUM_HZ + 5);
    const tone = peakHz(stretch, TONE_HZ - 5, TONE_HZ + 5);
    // Nothing lost or repeated anywhere, by the audio itself: the hum's phase in each 0.5 s block (exactly 75 of its
    // cycles) stays put; a block of 128 samples lost or repeated would move it by 0.2 of a cycle. Without a loss it
    // moved 0.002-0.019 cycle over runs (the bips leak into a block unevenly): the bound is half a 128-sample loss.
    const phases: number[] = [];
    for (let at = RATE; at + RATE / 2 <= audio.length - RATE / 4; at += RATE / 2) {
      let re = 0;
      let im = 0;
      for (let n = 0; n < RATE / 2; n++) {
        const v = audio[at + n] as number;
        const w = (2 * Math.PI * HUM_HZ * (at + n)) / RATE;
        re += v * Math.cos(w);
        im -= v * Math.sin(w);
      }
      phases.push(Math.atan2(im, re) / (2 * Math.PI));
    }
    const drift = Math.max(
      ...phases.slice(1).map((p, i) => {
        const d = Math.abs(p - (phases[i] as number)) % 1;
        return Math.min(d, 1 - d);
      }),
    );
    console.log(
      `WebKit mock microphone at ${inputRate} Hz: ${hum.toFixed(2)} Hz and ${tone.toFixed(2)} Hz; hum phase moved at most ${drift.toFixed(4)} cycle over ${phases.length} blocks`,
    );
    expect(phases.length).toBeGreaterThanOrEqual(4);
    const clean = Math.abs(hum - HUM_HZ) < 1 && Math.abs(tone - TONE_HZ) < 1 && drift < 0.1;
    if (!clean && attempt === 1) {
      // Every check of the app's own passed (frames, length): the break is upstream (WebKit's capture under load,
      // like Chromium's fake device in e2e/capture.spec.ts).  Record once more; that recording must pass.
      console.log('WebKit mock microphone: the audio broke with every check of ours passing: recording again');
      continue;
    }
    expect(Math.abs(hum - HUM_HZ)).toBeLessThan(1);
    expect(Math.abs(tone - TONE_HZ)).toBeLessThan(1);
    expect(drift).toBeLessThan(0.1);
    break;
  }
  expect(await pageErrors(b)).toEqual([]);
});

test('a suspended AudioContext is handled as an iPhone interruption: a message, Resume, and a note where audio is missing', async () => {
  await b.url(appUrl('/'));
  await (await waitTestId(b, 'record')).click();
  await until(b, 'the recording did not start', async () => (await samples()) >= 1.5 * RATE, 30_000);
  // The system takes the audio away: the page sees its AudioContext leave 'running'.
  await b.execute(async () => {
    const panel = document.querySelector('asr-app')!.shadowRoot!.querySelector('dictation-panel') as unknown as {
      mic: { context: AudioContext | null };
    };
    await panel.mic.context?.suspend();
  });
  const alert = await waitTestId(b, 'interrupted');
  expect(await byTestId(b, 'status').getText()).toBe('Paused by the system');
  expect(await b.$('>>>[data-error-code="CAPTURE_INTERRUPTED"]').isExisting()).toBe(true);
  await b.pause(1000);
  // Resume is a user gesture (WebKit resumes an AudioContext only in one).
  await alert.$('[data-testid="resume"]').click();
  await until(b, 'recording did not go on', async () =>
    (await byTestId(b, 'status').getText()).startsWith('Recording'),
  );
  // The note in the transcript where audio is missing: about the second the context was suspended.
  const gap = b.$('>>>[data-segment="gap"]');
  await gap.waitForExist({ timeout: 10_000 });
  expect(Number(await gap.getAttribute('data-missing'))).toBeGreaterThanOrEqual(1);
  expect(Number(await gap.getAttribute('data-missing'))).toBeLessThan(3);
  const before = await samples();
  await until(b, 'no audio after Resume', async () => (await samples()) > before + RATE, 20_000);
  await byTestId(b, 'stop').click();
  await waitTestId(b, 'download');
  expect(await pageErrors(b)).toEqual([]);
});

test('with a model ready, dictation starts at once: the voice activity model is ready before Record, the worker keeps up', async () => {
  await b.url(appUrl('/?model=/models/tiny/&variant=fp32&engine=wasm'));
  await waitTestId(b, 'engine', 90_000);
  await (await waitTestId(b, 'record')).click();
  await until(b, 'the recording did not reach 3 s', async () => (await samples()) >= 3 * RATE, 30_000);
  await byTestId(b, 'stop').click();
  const vad = await waitTestId(b, 'vad-stats', 60_000);
  await (await waitTestId(b, 'details')).$('summary').click();
  const misses = Number(await byTestId(b, 'capture-stats').$('[data-pool-misses]').getAttribute('data-pool-misses'));
  const frames = Number(await vad.getAttribute('data-vad-frames'));
  console.log(`WebKit live: ${frames} VAD frames, ${misses} buffer pool misses`);
  // Every 32 ms frame went through the VAD.  The worklet's 64 frames (2 s) were enough: the worker took them back
  // as they came.  When the VAD's session was created at the first Record instead, the worker was blocked for about
  // 3 s and the worklet had to allocate 55 frames.
  expect(frames).toBeGreaterThanOrEqual(Math.floor((3 * RATE) / 512));
  expect(misses).toBeLessThanOrEqual(4);
  expect(await pageErrors(b)).toEqual([]);
});
