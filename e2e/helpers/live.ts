/**
 * Live dictation fixtures and read-outs shared by e2e/live.spec.ts and `npm run bench -- live`.
 */
import type { Page } from '@playwright/test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { decodeWav, encodeWav16, toMono } from '../../workers/dsp/wav.ts';
import { E2E_FIXTURES, speechFile } from './paths.ts';

const RATE = 16_000;
const read = (f: string) => toMono(decodeWav(new Uint8Array(readFileSync(speechFile(f)))).channels);

/**
 * Clips (LJ Speech: trimmed to the voice) with `leadSec` of silence before the first, `gapSec` between them and
 * `tailSec` after the last, written to build/e2e-fixtures/<name>.wav; `truth` says where each clip is (seconds).
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
  return { path, audio, truth, seconds: audio.length / RATE };
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
