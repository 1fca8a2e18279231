import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { decodeWav, toMono } from '../../src/core/dsp/wav.ts';
import { E2E_FIXTURES } from './paths.ts';

/** `sox in -r RATE -c 1 -b 16 out`: the reference resampler the tests compare against. */
export function soxResample(input: string, rateHz: number, tag = ''): string {
  mkdirSync(E2E_FIXTURES, { recursive: true });
  const out = resolve(E2E_FIXTURES, `${basename(input, '.wav')}${tag}-${rateHz}.wav`);
  // Written under a name of this process's, then renamed: other suites running at the same time make the same file,
  // and a reader must never see one half written.
  const partial = resolve(E2E_FIXTURES, `${basename(input, '.wav')}${tag}-${rateHz}.${process.pid}.partial.wav`);
  execFileSync('sox', [input, '-r', String(rateHz), '-c', '1', '-b', '16', partial]);
  renameSync(partial, out);
  return out;
}

export function readMono(path: string): { samples: Float32Array; rateHz: number } {
  const wav = decodeWav(readFileSync(path));
  return { samples: toMono(wav.channels), rateHz: wav.sampleRateHz };
}

/** Normalized cross-correlation of `a` against `b` at lag (a[i + lag] vs b[i]) over their overlap. */
export function ncc(a: Float32Array, b: Float32Array, lag: number): { value: number; overlap: number } {
  const start = Math.max(0, -lag);
  const end = Math.min(b.length, a.length - lag);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = start; i < end; i++) {
    const x = a[i + lag] as number;
    const y = b[i] as number;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return { value: aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0, overlap: Math.max(0, end - start) };
}

function decimate(x: Float32Array, factor: number): Float32Array {
  const out = new Float32Array(Math.floor(x.length / factor));
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let j = 0; j < factor; j++) s += x[i * factor + j] as number;
    out[i] = s / factor;
  }
  return out;
}

/** Best alignment of `recorded` against `reference` (coarse search on a decimated copy, then sample-exact). */
export function bestAlignment(
  recorded: Float32Array,
  reference: Float32Array,
  maxLag: number,
): { lag: number; value: number; overlap: number } {
  const factor = 8;
  const ra = decimate(recorded, factor);
  const rb = decimate(reference, factor);
  let coarse = 0;
  let best = -Infinity;
  for (let lag = Math.floor(-maxLag / factor); lag <= Math.ceil(maxLag / factor); lag++) {
    const { value, overlap } = ncc(ra, rb, lag);
    if (overlap > rb.length / 2 && value > best) {
      best = value;
      coarse = lag * factor;
    }
  }
  let result = { lag: coarse, value: -Infinity, overlap: 0 };
  for (let lag = coarse - 2 * factor; lag <= coarse + 2 * factor; lag++) {
    const r = ncc(recorded, reference, lag);
    if (r.value > result.value) result = { lag, ...r };
  }
  return result;
}

/**
 * Refine an integer alignment to 1/8 sample: sox upsamples both files eightfold and the lag is searched there.
 * Recording starts at an arbitrary input-rate sample, so the captured 16 kHz stream is offset from the file by a
 * fraction of a sample; at integer lags that alone costs up to a few percent of correlation on 8 kHz-wide speech.
 */
export function subsampleAlignment(
  recordedWav: string,
  referenceWav: string,
  coarseLag: number,
  rateHz = 16_000,
): { lag: number; value: number; overlap: number } {
  const factor = 8;
  // Beside the recording when it has a folder of its own (a test's), else in the shared fixtures.
  const dir = recordedWav.endsWith('.wav') ? dirname(recordedWav) : E2E_FIXTURES;
  const up = (path: string, tag: string) => {
    const out = resolve(dir, `${basename(path, '.wav')}-${tag}-x${factor}.wav`);
    execFileSync('sox', [path, '-r', String(rateHz * factor), '-b', '32', '-e', 'floating-point', out]);
    return readMono(out).samples;
  };
  mkdirSync(dir, { recursive: true });
  const rec = up(recordedWav, 'rec');
  const ref = up(referenceWav, 'ref');
  let best = { lag: coarseLag, value: -Infinity, overlap: 0 };
  for (let lag = (coarseLag - 1) * factor; lag <= (coarseLag + 1) * factor; lag++) {
    const r = ncc(rec, ref, lag);
    if (r.value > best.value) best = { lag: lag / factor, value: r.value, overlap: r.overlap / factor };
  }
  return best;
}
