import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ARTIFACTS, ROOT, SPEECH_DIR } from '../../tests/helpers/data.ts';

export { ARTIFACTS, ROOT, SPEECH_DIR };
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
