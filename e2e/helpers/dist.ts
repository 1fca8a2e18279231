/**
 * The two builds of the app.  The test build (`npm run build:test`, build/dist-test) is the only one with the test
 * knobs (src/app/knobs.ts): every suite serves it, as playwright.config.ts does (`E2E_DIST` chooses another, e.g. a
 * per-engineer build).  The production build (`npm run build`, dist/) is what `npm start` serves; the production
 * spec checks that it ignores the knobs.
 */
import { resolve } from 'node:path';
import { ROOT } from './paths.ts';

export const TEST_DIST = resolve(ROOT, process.env['E2E_DIST'] ?? 'build/dist-test');
export const PRODUCTION_DIST = resolve(ROOT, 'dist');
