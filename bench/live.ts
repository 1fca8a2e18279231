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
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
import { start } from '../server/server.ts';
import { SEGMENTER_DEFAULTS } from '../workers/asr/vad/segmenter.ts';
import { decodeWav, encodeWav16, toMono } from '../workers/dsp/wav.ts';
import { bestAlignment } from '../e2e/helpers/audio.ts';
import { ARTIFACTS, speechPath } from '../tests/helpers/data.ts';
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
  const clips = CLIPS.map((f) => toMono(decodeWav(new Uint8Array(readFileSync(speechPath(f)))).channels));
  const gap = Math.round(GAP_SEC * RATE);
  const total = gap + clips.reduce((n, c) => n + c.length + gap, 0) + RATE;
  const audio = new Float32Array(total);
  const ends: number[] = [];
  let at = gap;
  for (const c of clips) {
    audio.set(c, at);
    at += c.length;
    ends.push(at);
    at += gap;
  }
  const path = resolve(mkdtempSync(resolve(tmpdir(), 'bench-live-')), 'utterances.wav');
  writeFileSync(path, encodeWav16(audio, RATE));
  return { path, audio, ends };
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
    const v = page.getByTestId('vad-stats');
    const stat = async (name: string) => Number(await v.getAttribute(name));
    const vad = {
      frames: await stat('data-vad-frames'),
      ms: await stat('data-vad-ms'),
      idleFrames: await stat('data-idle-frames'),
      idleMs: await stat('data-idle-vad-ms'),
      whileDecoding: await stat('data-while-decoding'),
      maxLag: await stat('data-max-lag-ms'),
    };
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
          `${(vad.idleMs / idleSec).toFixed(2)} ms`,
          '',
          `${vad.idleFrames} frames with no decode in flight`,
        ],
        [
          'VAD frames run while a decode was in flight',
          `${vad.whileDecoding} of ${vad.frames}`,
          '',
          `all of them: ${Math.round(vad.ms)} ms`,
        ],
        ['longest wait of a VAD frame', `${Math.round(vad.maxLag)} ms`, '', ''],
      ]),
    );
    if (latencies.length < fx.ends.length)
      console.log(`note: ${fx.ends.length - latencies.length} utterance(s) had no final ending at their speech`);
  } finally {
    await browser.close();
    server.close();
  }
}
