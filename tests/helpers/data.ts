/**
 * Where the unit tests find real speech and the artifacts scripts/test-artifacts.sh builds.  When something is
 * missing they say what and why: locally the dependent tests are skipped with that reason; in CI (CI=true) they fail.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors, type SafeTensor } from './safetensors.ts';
import { decodeWav, toMono } from '../../src/core/dsp/wav.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SPEECH_DIR = resolve(process.env['SPEECH_DIR'] ?? resolve(ROOT, '..', 'shared', 'data', 'speech'));
export const ARTIFACTS = resolve(process.env['GLMASR_TEST_ARTIFACTS'] ?? resolve(ROOT, 'build', 'test-artifacts'));

export function missing(path: string, what: string): string | null {
  if (existsSync(path)) return null;
  const reason = `${path} is absent: ${what}`;
  if (process.env['CI']) throw new Error(reason);
  console.warn(`SKIPPED: ${reason}`);
  return reason;
}

export const SPEECH_MISSING = () =>
  missing(resolve(SPEECH_DIR, 'manifest.tsv'), 'these tests need the real speech of ../shared/data/speech');
export const GOLDENS_MISSING = (name: string) =>
  missing(
    resolve(ARTIFACTS, 'goldens', name),
    'built by scripts/test-artifacts.sh (npm test runs it) from ../shared/data/speech',
  );

export function loadSafetensors(path: string): Map<string, SafeTensor> {
  return readSafetensors(readFileSync(path));
}

export function speechPath(relative: string): string {
  return resolve(SPEECH_DIR, relative);
}

/** `seconds` of real speech at 16 kHz: the shared clips concatenated (repeated as needed). */
export function speech(seconds: number): { samples: Float32Array; source: string } {
  const manifest = resolve(SPEECH_DIR, 'manifest.tsv');
  const total = Math.round(seconds * 16_000);
  const out = new Float32Array(total);
  if (!existsSync(manifest)) {
    // Absent shared data: a deterministic speech-like stand-in (the timing does not depend on content).
    for (let i = 0; i < total; i++) out[i] = 0.3 * Math.sin(i * 0.07) * Math.sin(i * 0.0009) + 0.01 * Math.sin(i * 1.3);
    return { samples: out, source: `synthetic (${manifest} absent)` };
  }
  const files = readFileSync(manifest, 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.split('\t')[2])
    .filter((f): f is string => !!f && f.endsWith('.wav'));
  let pos = 0;
  for (let i = 0; pos < total; i++) {
    const clip = toMono(decodeWav(readFileSync(resolve(SPEECH_DIR, files[i % files.length]!))).channels);
    const n = Math.min(clip.length, total - pos);
    out.set(clip.subarray(0, n), pos);
    pos += n;
  }
  return { samples: out, source: `${files.length} clips of ${SPEECH_DIR}` };
}
