/**
 * Safari's engine (WebKitGTK): the model store in IndexedDB.  A download from a model host on another origin
 * (e2e/helpers/model-server.ts) dropped at four byte offsets and stalled once (the page reloaded), resumed each time;
 * every stored file's sha256 matches; a damaged piece is found on the next load and repaired from the network; and
 * the storage estimate and persistence are shown when the browser answers and said to be unknown when it does not.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, test } from 'vitest';
import { ModelServer, type Interruption } from '../e2e/helpers/model-server.ts';
import { ARTIFACTS } from '../e2e/helpers/paths.ts';
import { storedFiles, storedSha256, tamper } from '../e2e/helpers/stored.ts';
import { appUrl, byTestId, browserPerTest, inBrowser, pageErrors, waitTestId } from './helpers/driver.ts';

const MODEL_DIR = resolve(ARTIFACTS, 'models', 'tiny-wide');
const CHUNK = 64 * 1024;
const manifest = JSON.parse(readFileSync(resolve(MODEL_DIR, 'manifest.json'), 'utf8')) as {
  model_id: string;
  revision: string;
  variants: Record<string, { graphs: Record<string, { files: string[] }> }>;
  files: { path: string; bytes: number }[];
};
const ID = `${manifest.model_id}@${manifest.revision}/fp32`;
const owned = new Set(Object.values(manifest.variants).flatMap((v) => Object.values(v.graphs).flatMap((g) => g.files)));
const fp32 = new Set(Object.values(manifest.variants['fp32']!.graphs).flatMap((g) => g.files));
const FILES = manifest.files.filter((f) => fp32.has(f.path) || !owned.has(f.path));

let server: ModelServer;
const browser = browserPerTest(
  async () => {
    server = new ModelServer(MODEL_DIR);
    await server.start();
  },
  () => server.stop(),
);

const url = () => appUrl(`/?model=${encodeURIComponent(server.url)}&variant=fp32&engine=wasm&chunkKiB=64`);

/** The model host is another origin: the app asks in a dialog before fetching from it; the test says yes. */
async function allowModelHost() {
  const b = browser();
  await (await waitTestId(b, 'model-origin-load', 30_000)).click();
}

async function expectStoredIntact() {
  const b = browser();
  const stored = await storedFiles(inBrowser(b), ID);
  expect(stored.map((f) => f.path).sort()).toEqual(FILES.map((f) => f.path).sort());
  for (const f of stored) {
    expect(f.done, f.path).toBe(true);
    expect(f.pieceSizes, f.path).toEqual(f.sizes);
    expect(await storedSha256(inBrowser(b), ID, f.path), f.path).toBe(server.sha256(f.path));
  }
}

/** Whether the model setup shows an alert (false once the setup is gone: it goes when the model is ready). */
async function setupAlert(b: ReturnType<typeof browser>): Promise<boolean> {
  try {
    return await byTestId(b, 'model-setup').$('[role=alert]').isExisting();
  } catch (err) {
    if (/wasn't found|stale element/.test(String(err))) return false;
    throw err;
  }
}

test('a download dropped at four offsets and cut by a reload resumes each time; a damaged piece is repaired on reload', async () => {
  const b = browser();
  const interruptions: Interruption[] = [
    { path: 'onnx/audio_encoder.onnx_data', offset: 1, mode: 'drop' },
    { path: 'onnx/audio_encoder.onnx_data', offset: 500_003, mode: 'drop' },
    { path: 'onnx/decoder_model_merged.onnx_data', offset: 131_077, mode: 'drop' },
    { path: 'onnx/decoder_model_merged.onnx_data', offset: 500_000, mode: 'stall' },
    { path: 'tokenizer.json', offset: 40_000, mode: 'drop' },
  ];
  server.interruptions = [...interruptions];
  await b.url(url());
  await allowModelHost();
  let reloads = 0;
  const deadline = Date.now() + 150_000;
  while (!(await byTestId(b, 'engine').isExisting())) {
    expect(Date.now(), 'the download did not finish').toBeLessThan(deadline);
    expect(await setupAlert(b)).toBe(false);
    if (server.stalls > 0) {
      // The page goes away in the middle of a download: the worker dies with it.
      await b.pause(300);
      await b.refresh();
      server.releaseStalls();
      await allowModelHost();
      reloads++;
    }
    await b.pause(200);
  }
  expect(server.fired).toHaveLength(interruptions.length);
  expect(reloads).toBe(1);
  expect(await byTestId(b, 'engine').getAttribute('data-storage')).toBe('stored');
  await expectStoredIntact();
  for (const f of FILES) {
    const served = server.served.get(f.path) ?? 0;
    const events = server.fired.filter((i) => i.path === f.path).length;
    expect(served, f.path).toBeGreaterThanOrEqual(f.bytes);
    expect(served - f.bytes, f.path).toBeLessThanOrEqual((events + reloads) * CHUNK);
  }

  // Damaged on disk: found by the next load's check and fetched again, that piece alone.
  await tamper(inBrowser(b), ID, 'onnx/decoder_model_merged.onnx_data', 3, 'flip');
  server.resetCounts();
  await b.refresh();
  await allowModelHost();
  const repaired = await waitTestId(b, 'repaired', 90_000);
  expect(await repaired.getText()).toContain('onnx/decoder_model_merged.onnx_data #3 (checksum mismatch)');
  expect(server.served.get('onnx/decoder_model_merged.onnx_data')).toBe(CHUNK);
  await expectStoredIntact();
  expect(await pageErrors(b)).toEqual([]);
});

test('storage estimate and persistence: shown when the browser answers, said to be unknown when it does not', async () => {
  const b = browser();
  await b.url(url());
  await allowModelHost();
  await waitTestId(b, 'engine', 90_000);
  const has = (await b.execute(() => ({
    estimate: typeof navigator.storage?.estimate === 'function',
    persisted: typeof navigator.storage?.persisted === 'function',
  }))) as { estimate: boolean; persisted: boolean };
  await byTestId(b, 'storage').$('summary').click();
  const usage = await (await waitTestId(b, 'storage-usage')).getText();
  if (has.estimate) expect(usage).toMatch(/^This site uses /);
  else expect(usage).toContain('The browser does not say how much storage this site may use.');
  if (has.persisted) {
    // What the browser says, asked directly.
    const persisted = (await b.execute(() => navigator.storage.persisted())) as boolean;
    expect(usage).toContain(persisted ? 'Storage is persistent' : 'Storage is not persistent');
  } else {
    expect(usage).not.toMatch(/persistent/);
    expect(await byTestId(b, 'persist').isExisting()).toBe(false);
  }
  // The stored model is listed all the same, and nothing failed.
  expect(await (await waitTestId(b, 'stored-models')).getText()).toContain('complete');
  expect(await byTestId(b, 'storage').$('[role=alert]').isExisting()).toBe(false);
  expect(await pageErrors(b)).toEqual([]);
});
