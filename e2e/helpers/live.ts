/**
 * Live dictation fixtures and read-outs shared by e2e/live.spec.ts and `npm run bench -- live`.
 */
import type { Page } from '@playwright/test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { decodeWav, encodeWav16, toMono } from '../../src/core/dsp/wav.ts';
import { bestAlignment } from './audio.ts';
import { E2E_FIXTURES, speechFile } from './paths.ts';

const RATE = 16_000;
const read = (f: string) => toMono(decodeWav(new Uint8Array(readFileSync(speechFile(f)))).channels);

/**
 * Clips (LJ Speech: trimmed to the voice) with `leadSec` of silence before the first, `gapSec` between them and
 * `tailSec` after the last, written to build/e2e-fixtures/<name>.wav; `truth` says where each clip is (seconds),
 * `truthSamples` the same in samples.
 */
export function utteranceFixture(name: string, files: string[], gapSec: number, leadSec = 1, tailSec = 2) {
  const clips = files.map(read);
  const gap = (s: number) => new Float32Array(Math.round(s * RATE));
  const parts: Float32Array[] = [gap(leadSec)];
  clips.forEach((c, i) => parts.push(c, gap(i === clips.length - 1 ? tailSec : gapSec)));
  const audio = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  const truth: { start: number; end: number }[] = [];
  let at = 0;
  for (const p of parts) {
    if (clips.includes(p)) truth.push({ start: at / RATE, end: (at + p.length) / RATE });
    audio.set(p, at);
    at += p.length;
  }
  mkdirSync(E2E_FIXTURES, { recursive: true });
  const path = resolve(E2E_FIXTURES, `${name}.wav`);
  writeFileSync(path, encodeWav16(audio, RATE));
  const truthSamples = truth.map((t) => ({ start: Math.round(t.start * RATE), end: Math.round(t.end * RATE) }));
  return { path, audio, truth, truthSamples, seconds: audio.length / RATE };
}

/** The recording as the app downloads it (Download under Details, which must be open), as mono samples. */
export async function downloadRecording(page: Page): Promise<Float32Array> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download').click()]);
  return toMono(decodeWav(new Uint8Array(readFileSync((await download.path())!))).channels);
}

/** The last live recording's voice-detection figures, from the `vad-stats` element under Details. */
export async function vadStats(page: Page) {
  const v = page.getByTestId('vad-stats');
  const stat = async (name: string) => Number(await v.getAttribute(name));
  return {
    frames: await stat('data-vad-frames'),
    vadMs: await stat('data-vad-ms'),
    idleFrames: await stat('data-idle-frames'),
    idleVadMs: await stat('data-idle-vad-ms'),
    whileDecoding: await stat('data-while-decoding'),
    maxLagMs: await stat('data-max-lag-ms'),
    decodes: await stat('data-decodes'),
  };
}

/**
 * Installed before the page loads: each final is stamped the moment its element first appears with the capture
 * position the page showed then (the elapsed time's `data-elapsed-samples`) and the wall clock.  Every shadow root
 * is observed as it is attached, so no final can appear before the watch does, wherever the transcript is rendered.
 * (A string: this file is also compiled for the bench, without the DOM's types.)
 */
const WATCH_FINALS = `(() => {
  const shown = new Map();
  window.__finalsShown = shown;
  const panel = () => document.querySelector('asr-app')?.shadowRoot?.querySelector('dictation-panel')?.shadowRoot;
  const stamp = () => {
    const view = panel()?.querySelector('live-transcript-view')?.shadowRoot;
    if (!view) return;
    const finals = view.querySelectorAll('[data-segment="final"]');
    if (finals.length === shown.size) return;
    const elapsed = Number(panel()?.querySelector('[data-testid="elapsed"]')?.getAttribute('data-elapsed-samples'));
    const now = Date.now();
    for (const li of finals) {
      const key = li.getAttribute('data-start-sample');
      if (!shown.has(key)) shown.set(key, { sample: elapsed, ms: now });
    }
  };
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    new MutationObserver(stamp).observe(root, { subtree: true, childList: true });
    return root;
  };
})()`;

/** Call before `page.goto`: from then on every final is stamped as it appears (read them with `shownFinals`). */
export async function watchFinals(page: Page): Promise<void> {
  await page.addInitScript({ content: WATCH_FINALS });
}

/** A final on the page (sample positions at 16 kHz in the recording) with when it was sent and when it was shown. */
export interface ShownFinal {
  startSample: number;
  endSample: number;
  text: string;
  /** Samples captured when the worker sent the final, and its wall clock then. */
  atSample: number;
  atMs: number;
  /** The capture position the page showed when the final's element appeared (NaN: never stamped), and the clock. */
  shownSample: number;
  shownMs: number;
}

/** Every final on the page, in order, with the stamps `watchFinals` took. */
export async function shownFinals(page: Page): Promise<ShownFinal[]> {
  const stamps = new Map(
    await page.evaluate<[string, { sample: number; ms: number }][]>('[...(window.__finalsShown ?? new Map())]'),
  );
  const finals = await page.locator('[data-segment="final"]').evaluateAll((els) =>
    els.map((e) => ({
      key: e.getAttribute('data-start-sample') ?? '',
      startSample: Number(e.getAttribute('data-start-sample')),
      endSample: Number(e.getAttribute('data-end-sample')),
      text: e.querySelector('[data-text]')?.getAttribute('data-text') ?? '',
      atSample: Number(e.getAttribute('data-at-sample')),
      atMs: Number(e.getAttribute('data-at-ms')),
    })),
  );
  return finals.map(({ key, ...f }) => ({
    ...f,
    shownSample: stamps.get(key)?.sample ?? NaN,
    shownMs: stamps.get(key)?.ms ?? NaN,
  }));
}

/** Where an utterance is in the recording: sample positions [start, end) at 16 kHz. */
export interface Utterance {
  start: number;
  end: number;
}

/**
 * Where each utterance of a fixture (`audio`, the utterances' positions in it) lies in a recording of it, with how
 * well it matched (normalized cross-correlation).  Each is found by itself, within `searchSec` of where the one
 * before it was found: the fake microphone starts playing before the recording does, and a capture that lost audio
 * between two utterances moves the later ones; one lag for the whole fixture would misplace them.
 */
export function locateUtterances(
  recording: Float32Array,
  audio: Float32Array,
  utterances: Utterance[],
  searchSec = 3,
): (Utterance & { match: number })[] {
  const search = Math.round(searchSec * RATE);
  let shift = 0;
  return utterances.map((u) => {
    const clip = audio.subarray(u.start, u.end);
    const from = Math.max(0, u.start + shift - search);
    const window = recording.subarray(from, Math.min(recording.length, u.end + shift + search));
    const { lag, value } = bestAlignment(window, clip, 2 * search);
    shift = from + lag - u.start;
    return { start: u.start + shift, end: u.end + shift, match: value };
  });
}

export interface UtteranceMatch {
  /** Per utterance, in order: its own final, or why it has none. */
  utterances: ({ final: ShownFinal; why?: undefined } | { final?: undefined; why: string })[];
  /** Finals that belong to no utterance (text from silence, or one final spanning several utterances). */
  extra: ShownFinal[];
}

const overlap = (a: Utterance, f: ShownFinal) =>
  Math.max(0, Math.min(a.end, f.endSample) - Math.max(a.start, f.startSample));

/**
 * Each utterance's own final: the final overlapping it most, provided that final overlaps no other utterance (a
 * final covering two utterances means the end of the first one's speech was missed) and was stamped on screen.
 */
export function matchUtterances(utterances: Utterance[], finals: ShownFinal[]): UtteranceMatch {
  const used = new Set<ShownFinal>();
  const result = utterances.map((u, i) => {
    const best = finals.reduce<ShownFinal | null>(
      (b, f) => (overlap(u, f) > 0 && (!b || overlap(u, f) > overlap(u, b)) ? f : b),
      null,
    );
    if (!best) return { why: `no final overlaps it (${finals.length} final(s) in all)` };
    const other = utterances.findIndex((v, j) => j !== i && overlap(v, best) > 0);
    if (other >= 0) return { why: `its final [${best.startSample}, ${best.endSample}) also covers utterance ${other}` };
    if (!Number.isFinite(best.shownSample)) return { why: 'its final was never seen appearing on screen' };
    used.add(best);
    return { final: best };
  });
  return { utterances: result, extra: finals.filter((f) => !used.has(f)) };
}
