/**
 * `npm run bench -- live`: live dictation in Chromium with the fake microphone, the tiny model on WASM (fp32).
 *  - End of speech → final text, per utterance of a fixture (LJ Speech clips trimmed to the voice, 1.5 s apart): the
 *    audio captured between the utterance's true end and the moment its final was ready (the worker stamps each final
 *    with the capture position and the wall clock), so in audio time, which runs at the wall clock's pace while
 *    recording, plus the time until the final's element appeared in the page (a MutationObserver's wall clock).  It
 *    is the hangover (the end of speech is only known after 500 ms below the threshold) plus the decode and the
 *    render; the goal is ≤ hangover + 300 ms.
 *  - The VAD's cost per second of audio, and the longest a frame waited for it.
 */
import { chromium } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
import { start } from '../server/server.ts';
import { SEGMENTER_DEFAULTS } from '../workers/asr/vad/segmenter.ts';
import { decodeWav, toMono } from '../workers/dsp/wav.ts';
import { bestAlignment } from '../e2e/helpers/audio.ts';
import { utteranceFixture, vadStats } from '../e2e/helpers/live.ts';
import { ARTIFACTS } from '../tests/helpers/data.ts';
import { median, percentile, ROOT, table } from './common.ts';

const PORT = 4393;
const RATE = 16_000;
const CLIPS = [
  'en/lj-LJ001-0002.wav',
  'en/lj-LJ001-0004.wav',
  'en/lj-LJ001-0011.wav',
  'en/lj-LJ001-0003.wav',
  'en/lj-LJ001-0005.wav',
  'en/lj-LJ001-0007.wav',
  'en/lj-LJ001-0010.wav',
  'en/lj-LJ001-0001.wav',
];
const GAP_SEC = 1.5;

function fixture(): { path: string; audio: Float32Array; ends: number[] } {
  // 1.5 s of silence before, between and (plus 1 s) after the utterances.
  const fx = utteranceFixture('bench-live-utterances', CLIPS, GAP_SEC, GAP_SEC, GAP_SEC + 1);
  return { path: fx.path, audio: fx.audio, ends: fx.truth.map((t) => Math.round(t.end * RATE)) };
}

export async function benchLive(): Promise<void> {
  console.log('\n## live: end of speech → final text, and the VAD’s cost (tiny model, WASM, fake microphone)');
  const fx = fixture();
  const seconds = fx.audio.length / RATE;
  const server = await start({
    port: PORT,
    host: '127.0.0.1',
    dist: resolve(ROOT, 'dist'),
    models: resolve(ARTIFACTS, 'models'),
    quiet: true,
  });
  const browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: [
      ...CHROMIUM_ARGS,
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${fx.path}%noloop`,
    ],
    ignoreDefaultArgs: ['--mute-audio'],
  });
  try {
    const page = await browser.newPage({ acceptDownloads: true });
    await page.goto(`http://127.0.0.1:${PORT}/?model=/models/tiny/&variant=fp32&engine=wasm`);
    await page.getByTestId('engine').waitFor({ timeout: 120_000 });
    // When each final appears on screen (wall clock, as the worker stamps its finals).
    // (A string: this file compiles without the DOM's types.)
    await page.evaluate(`(() => {
      const shown = new Map();
      window.__shown = shown;
      const view = () =>
        document.querySelector('asr-app')?.shadowRoot?.querySelector('dictation-panel')?.shadowRoot
          ?.querySelector('live-transcript-view')?.shadowRoot;
      const stamp = () => {
        const now = Date.now();
        for (const li of view()?.querySelectorAll('[data-segment="final"]') ?? []) {
          const key = li.getAttribute('data-start-sample');
          if (!shown.has(key)) shown.set(key, now);
        }
      };
      // The transcript view lives in nested shadow roots: wait for it, then observe it.
      const timer = setInterval(() => {
        const root = view();
        if (!root) return;
        clearInterval(timer);
        new MutationObserver(stamp).observe(root, { subtree: true, childList: true, attributes: true });
      }, 20);
    })()`);
    await page.getByTestId('record').click();
    await page.getByTestId('stop').waitFor();
    const elapsed = async () => Number(await page.getByTestId('elapsed').getAttribute('data-elapsed-samples'));
    while ((await elapsed()) < (seconds + 0.5) * RATE) await page.waitForTimeout(200);
    await page.getByTestId('stop').click();
    await page.getByTestId('vad-stats').waitFor({ state: 'attached', timeout: 120_000 });
    const finals = await page.locator('[data-segment="final"]').evaluateAll((els) =>
      els.map((e) => ({
        start: e.getAttribute('data-start-sample')!,
        end: Number(e.getAttribute('data-end-sample')),
        at: Number(e.getAttribute('data-at-sample')),
        atMs: Number(e.getAttribute('data-at-ms')),
      })),
    );
    const shown = new Map(await page.evaluate<[string, number][]>('[...window.__shown]'));
    const vad = await vadStats(page);
    await page.getByTestId('details').locator('summary').click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
    const recording = toMono(decodeWav(new Uint8Array(readFileSync((await download.path())!))).channels);
    // Where the fixture sits in the recording (the fake microphone starts playing before Record).
    const { lag } = bestAlignment(recording, fx.audio, 3 * RATE);
    const latencies: number[] = [];
    for (const end of fx.ends) {
      const trueEnd = end + lag;
      // The final whose segment ends nearest after the utterance's true end.
      const f = finals.find((x) => Math.abs(x.end - trueEnd) < 0.5 * RATE);
      // Audio captured after the speech until the worker sent the final, then until it was on screen.
      if (f && shown.has(f.start)) latencies.push((f.at - trueEnd) / RATE + (shown.get(f.start)! - f.atMs) / 1000);
    }
    const hangover = SEGMENTER_DEFAULTS.hangoverMs / 1000;
    const ms = (s: number) => `${Math.round(s * 1000)} ms`;
    // The VAD's own cost: frames run with no decode in flight (during one, a call also waits for the decoder).
    const idleSec = (vad.idleFrames * 512) / RATE;
    console.log(
      table([
        ['figure', 'median', 'p95', 'goal'],
        [
          `end of speech → final on screen (${latencies.length}/${fx.ends.length} utterances)`,
          ms(median(latencies)),
          ms(percentile(latencies, 95)),
          `≤ ${ms(hangover + 0.3)} (hangover ${ms(hangover)} + 300 ms)`,
        ],
        [
          'of which after the hangover (decode, queueing, render)',
          ms(median(latencies) - hangover),
          ms(percentile(latencies, 95) - hangover),
          '≤ 300 ms',
        ],
        [
          'VAD per second of audio',
          `${(vad.idleVadMs / idleSec).toFixed(2)} ms`,
          '',
          `${vad.idleFrames} frames with no decode in flight`,
        ],
        [
          'VAD frames run while a decode was in flight',
          `${vad.whileDecoding} of ${vad.frames}`,
          '',
          `all of them: ${Math.round(vad.vadMs)} ms`,
        ],
        ['longest wait of a VAD frame', `${Math.round(vad.maxLagMs)} ms`, '', ''],
      ]),
    );
    if (latencies.length < fx.ends.length)
      console.log(`note: ${fx.ends.length - latencies.length} utterance(s) had no final ending at their speech`);
  } finally {
    await browser.close();
    server.close();
  }
}
