/**
 * Safari's engine (WebKitGTK): the app shell, the capability line and the planner's choice tell the truth about this
 * browser (no WebGPU, no SharedArrayBuffer), with no console errors, uncaught errors or unhandled rejections; and
 * every golden clip opened as a file decodes to the official implementation's token ids on the WASM path.
 */
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { expect, test } from 'vitest';
import { ARTIFACTS } from '../e2e/helpers/paths.ts';
import { clipWav } from '../e2e/helpers/reference.ts';
import { appUrl, byTestId, browserPerTest, pageErrors, until, waitTestId } from './helpers/driver.ts';

const browser = browserPerTest();

test('the shell renders; the capability line and the planner say what this browser offers (the CPU, one thread) and why; no errors', async () => {
  const b = browser();
  await b.url(appUrl('/?model=/models/tiny/&variant=fp32'));
  // What the browser has, asked directly.
  const facts = (await b.execute(() => ({
    gpu: Boolean((navigator as Navigator & { gpu?: unknown }).gpu),
    sharedArrayBuffer: typeof SharedArrayBuffer === 'function',
    isolated: crossOriginIsolated,
  }))) as { gpu: boolean; sharedArrayBuffer: boolean; isolated: boolean };
  expect(facts.gpu).toBe(false);

  const engine = await waitTestId(b, 'engine', 90_000);
  expect(await engine.getAttribute('data-provider')).toBe('wasm');
  // Threads only where SharedArrayBuffer can be had (here: isolated, but none).
  const threads = facts.isolated && facts.sharedArrayBuffer;
  expect(await engine.getText()).toMatch(threads ? /CPU \(WASM, [2-4] threads\)/ : /CPU \(WASM, 1 thread\)/);
  // Why: the planner's reasons name the missing WebGPU.
  await byTestId(b, 'engine').$('summary').click();
  expect(await (await waitTestId(b, 'engine-reasons')).getText()).toMatch(/WebGPU/);

  await (await waitTestId(b, 'details')).$('summary').click();
  const capability = await (await waitTestId(b, 'capability')).getText();
  expect(capability).toMatch(/^WebGPU unavailable: navigator\.gpu is missing/);
  if (!facts.isolated) expect(capability).toContain('the page is not cross-origin isolated');
  else if (!facts.sharedArrayBuffer) expect(capability).toContain('this browser has no SharedArrayBuffer');
  else expect(capability).not.toContain('(one for the model');
  expect(await (await waitTestId(b, 'record')).isEnabled()).toBe(true);
  // No alert anywhere in the app (the worker's failures, unhandled rejections included, end up as one).
  expect(await b.$$('>>>[role="alert"]').length).toBe(0);
  expect(await pageErrors(b)).toEqual([]);
});

interface Goldens {
  max_new_tokens: number;
  clips: { id: string; files: string[]; windows: { token_ids: number[] }[] }[];
}

test(
  'every golden clip opened as a file decodes to the official token ids (WASM, fp32 tiny)',
  { timeout: 400_000 },
  async () => {
    const b = browser();
    const g = JSON.parse(readFileSync(resolve(ARTIFACTS, 'goldens', 'tiny', 'goldens.json'), 'utf8')) as Goldens;
    await b.url(appUrl(`/?model=/models/tiny/&variant=fp32&engine=wasm&maxNewTokens=${g.max_new_tokens}`));
    await waitTestId(b, 'engine', 90_000);
    for (const clip of g.clips) {
      const file = clipWav(clip.id, clip.files);
      await byTestId(b, 'file-input').addValue(file);
      // The job named after this file is done: its windows' token ids.
      let ids: number[][] = [];
      await until(
        b,
        `${clip.id} was not transcribed`,
        async () => {
          const job = (await b.execute(() => {
            const panel = document.querySelector('asr-app')?.shadowRoot?.querySelector('file-panel')?.shadowRoot;
            return {
              label: panel?.querySelector('[data-testid="job"] strong')?.textContent ?? '',
              done: Boolean(panel?.querySelector('[data-testid="job-done"]')),
              ids: [...(panel?.querySelectorAll('[data-testid="windows"] li') ?? [])].map(
                (li) => JSON.parse(li.getAttribute('data-token-ids') || '[]') as number[],
              ),
            };
          })) as { label: string; done: boolean; ids: number[][] };
          ids = job.ids;
          return job.done && job.label.startsWith(`${basename(file)} (`);
        },
        120_000,
      );
      expect(ids, clip.id).toEqual(clip.windows.map((w) => w.token_ids));
    }
    expect(await b.$$('>>>[role="alert"]').length).toBe(0);
    expect(await pageErrors(b)).toEqual([]);
  },
);
