/**
 * Safari's engine (WebKitGTK): the service worker.  After one visit that stored the model, the app starts and
 * transcribes a golden clip to the official token ids with its server stopped (its own server here, so stopping it
 * leaves the other tests' server alone).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test } from 'vitest';
import { ARTIFACTS, speechFile } from '../e2e/helpers/paths.ts';
import { serveApp, type ServedApp } from './helpers/app.ts';
import { browserPerTest, byTestId, pageErrors, until, waitTestId } from './helpers/driver.ts';

let app: ServedApp | null;
const browser = browserPerTest(
  async () => {
    app = await serveApp();
  },
  async () => app?.close(),
);

test('after one visit with a stored model, the app starts and transcribes with the server stopped', async () => {
  const b = browser();
  const g = JSON.parse(readFileSync(resolve(ARTIFACTS, 'goldens', 'tiny', 'goldens.json'), 'utf8')) as {
    max_new_tokens: number;
    clips: { id: string; files: string[]; windows: { token_ids: number[] }[] }[];
  };
  const jfk = g.clips.find((c) => c.id === 'jfk')!;
  const path = `/?model=/models/tiny/&variant=fp32&engine=wasm&maxNewTokens=${g.max_new_tokens}`;
  await b.url(`${app!.url}${path}`);
  expect(await (await waitTestId(b, 'engine', 90_000)).getAttribute('data-storage')).toBe('stored');
  // The service worker is installed and controls the page.
  await until(b, 'no service worker controls the page', async () =>
    Boolean(await b.execute(() => navigator.serviceWorker?.controller?.state === 'activated')),
  );

  await app!.close();
  app = null;
  await b.refresh();
  const engine = await waitTestId(b, 'engine', 90_000);
  expect(await engine.getAttribute('data-storage')).toBe('stored');
  await byTestId(b, 'file-input').addValue(speechFile(jfk.files[0]!));
  await waitTestId(b, 'transcript', 60_000);
  const ids = (await b.execute(() =>
    [
      ...(document
        .querySelector('asr-app')
        ?.shadowRoot?.querySelector('file-panel')
        ?.shadowRoot?.querySelectorAll('[data-testid="windows"] li') ?? []),
    ].map((li) => JSON.parse(li.getAttribute('data-token-ids') || '[]') as number[]),
  )) as number[][];
  expect(ids).toEqual(jfk.windows.map((w) => w.token_ids));
  expect(await pageErrors(b)).toEqual([]);
});
