/**
 * Where the unit tests find real speech and the artifacts scripts/test-artifacts.sh builds.  When something is
 * missing they say what and why: locally the dependent tests are skipped with that reason; in CI (CI=true) they fail.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors, type SafeTensor } from '../../workers/asr/safetensors.ts';

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
