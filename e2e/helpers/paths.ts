import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SPEECH_DIR = resolve(process.env['SPEECH_DIR'] ?? resolve(ROOT, '..', 'shared', 'data', 'speech'));
export const ARTIFACTS = resolve(process.env['GLMASR_TEST_ARTIFACTS'] ?? resolve(ROOT, 'build', 'test-artifacts'));
export const E2E_FIXTURES = resolve(ROOT, 'build', 'e2e-fixtures');

/** Absolute path of a file in shared/data/speech, or a clear failure when the data is absent. */
export function speechFile(relative: string): string {
  const path = resolve(SPEECH_DIR, relative);
  if (!existsSync(path)) {
    throw new Error(
      `${path} is missing: this test needs the real speech data of ../shared/data/speech (set SPEECH_DIR to override)`,
    );
  }
  return path;
}
