/**
 * The first start (server/first-run.ts) through the real command line, with the seeded tiny checkpoint standing in
 * for the hub (`--model-source <dir>`): it converts, serves and lists the model; a second start reuses it; a start
 * stopped mid-conversion never serves a partial model and the next one resumes; an unreachable hub and
 * `--no-convert` give their paragraph and a working app.  The first start's wall time is printed.
 */
import { existsSync, mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, relative, resolve } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { ModelList } from '../../src/core/remote/openai-api.ts';
import { ARTIFACTS, ROOT } from '../helpers/data.ts';
import { type ServerProcess, spawnServer } from '../helpers/server-process.ts';

const CKPT = resolve(ARTIFACTS, 'ckpt/tiny');

const running: ServerProcess[] = [];
afterEach(() => {
  for (const run of running.splice(0)) if (run.child.exitCode === null) run.child.kill('SIGKILL');
});

/**
 * A stand-in for the built app (`--dist`): `npm test` runs these tests before `npm run build`, and what is proven
 * here is that the server answers with its app while it prepares the model, whatever the app's bytes are
 * (e2e/served-models.spec.ts runs the real built app against a first start).
 */
const SHELL = '<!doctype html><title>first-run test shell</title>';
const DIST = resolve(mkdtempSync(resolve(tmpdir(), 'first-dist-')), 'dist');
mkdirSync(DIST);
writeFileSync(resolve(DIST, 'index.html'), SHELL);

async function expectShell(url: string): Promise<void> {
  const res = await fetch(`${url}/`);
  expect(res.status).toBe(200);
  expect(await res.text()).toBe(SHELL);
}

/** The server's command line on a stand-in app (signals reach the server itself, as from a terminal's npm start). */
function serve(args: string[], env: Record<string, string> = {}): ServerProcess {
  const run = spawnServer(['--quiet', '--dist', DIST, ...args], { env });
  running.push(run);
  return run;
}

async function models(url: string, headers: Record<string, string> = {}): Promise<ModelList> {
  return (await (await fetch(`${url}/v1/models`, { headers })).json()) as ModelList;
}

/** What the app's model card reads (no key). */
async function index(url: string): Promise<ModelList> {
  return (await (await fetch(`${url}/models/index.json`)).json()) as ModelList;
}

/** The checkpoint as a visitor may see it: relative to the project, where the command is run. */
const CKPT_PUBLIC = relative(ROOT, CKPT);

/** No directory of this machine in what every visitor of the app is shown. */
function expectNoPaths(list: ModelList, ...dirs: string[]): void {
  const text = JSON.stringify(list);
  for (const dir of [ROOT, tmpdir(), ...dirs]) expect(text).not.toContain(dir);
}

describe('first start', () => {
  test('converts the checkpoint, serves it, lists it; a second start reuses it', async () => {
    const dir = resolve(mkdtempSync(resolve(tmpdir(), 'first-')), 'models');
    const t0 = performance.now();
    const first = serve(['--models', dir, '--model-source', CKPT, '--preload', 'none']);
    const url = await first.listening;
    // Served at once, while converting: the app shell, and /v1/models with the preparation.
    await expectShell(url);
    const during = await models(url);
    expect(during.data).toEqual([]);
    expect(during.preparing?.state).toBe('converting');
    expect(during.preparing?.command).toContain(`--from ${CKPT_PUBLIC} --out '…/tiny'`);
    expect(during.preparing?.source).toBe(CKPT_PUBLIC);
    expectNoPaths(during, dir);
    expect((await index(url)).preparing?.state).toBe('converting');
    await first.waitFor(/\[first start\] tiny is ready/);
    const seconds = (performance.now() - t0) / 1000;
    console.log(`first start on the tiny checkpoint: ${seconds.toFixed(1)} s to a served model`);
    expect(first.log()).toMatch(/First start: no converted model in .* to the variants q4f16,q4,q8/);
    expect(first.log()).toMatch(/step 15\/15 .* package/);
    const ready = await models(url);
    expect(ready.preparing).toBeUndefined();
    const tiny = ready.data.find((m) => m.id === 'tiny')!;
    // The converter records a local checkpoint by its directory's name (manifest.json is served to every visitor).
    expect(tiny.glmasr).toMatchObject({ model_id: 'tiny', url: '/models/tiny/', source: { path: basename(CKPT) } });
    expectNoPaths(ready, dir);
    expect((await index(url)).preparing).toBeUndefined();
    expect(Object.keys(tiny.glmasr!.variants).sort()).toEqual(['q4', 'q4f16', 'q8']);
    expect(ready.data.map((m) => m.id)).toEqual(['tiny', 'tiny@q8', 'tiny@q4', 'tiny@q4f16']);
    const manifest = (await (await fetch(`${url}/models/tiny/manifest.json`)).json()) as { revision: string };
    expect(tiny.glmasr!.revision).toBe(manifest.revision);
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);

    const second = serve(['--models', dir, '--model-source', CKPT, '--preload', 'none']);
    const url2 = await second.listening;
    const again = await models(url2);
    expect(again.data[0]!.id).toBe('tiny');
    expect(again.preparing).toBeUndefined();
    expect(second.log()).not.toMatch(/First start/);
  });

  test('stopped mid-conversion: nothing partial is served, and the next start resumes', async () => {
    const dir = resolve(mkdtempSync(resolve(tmpdir(), 'first-')), 'models');
    const first = serve(['--models', dir, '--model-source', CKPT, '--preload', 'none']);
    const url = await first.listening;
    await first.waitFor(/step 6\/15 .*variant/);
    const during = await models(url);
    expect(during.data).toEqual([]);
    expect(during.preparing!.progress).toBeGreaterThan(0.2);
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    expect(existsSync(resolve(dir, 'tiny'))).toBe(false);
    expect(existsSync(resolve(dir, '.tiny.partial/steps.json'))).toBe(true);

    const second = serve(['--models', dir, '--model-source', CKPT, '--preload', 'none']);
    const url2 = await second.listening;
    await second.waitFor(/\[first start\] tiny is ready/);
    expect(second.log()).toMatch(/skip: llama \(done in an earlier run, verified\)/);
    expect(second.log()).toMatch(/skip: fused-fp16/);
    expect((await models(url2)).data[0]!.id).toBe('tiny');
    expect(existsSync(resolve(dir, '.tiny.partial'))).toBe(false);
  });

  test('an unreachable hub: one paragraph with the command, and the app is served', async () => {
    const base = mkdtempSync(resolve(tmpdir(), 'first-'));
    const dir = resolve(base, 'models');
    const run = serve(['--models', dir], {
      HF_ENDPOINT: 'http://127.0.0.1:9',
      HF_HUB_CACHE: resolve(base, 'hub'),
      GLMASR_MODEL_SOURCE: 'zai-org/GLM-ASR-Nano-2512',
    });
    const url = await run.listening;
    await run.waitFor(/cannot be reached/, 30_000);
    expect(run.log()).toMatch(
      /The model hub \(http:\/\/127\.0\.0\.1:9\) cannot be reached \(.+\), and zai-org\/GLM-ASR-Nano-2512 is not in the hub cache/,
    );
    expect(run.log()).toContain(
      `npm run model:convert -- --from zai-org/GLM-ASR-Nano-2512 --out ${dir}/glm-asr-nano-2512 --variants q4f16,q4,q8`,
    );
    await expectShell(url);
    const list = await models(url);
    expect(list.preparing).toMatchObject({ state: 'unavailable', id: 'glm-asr-nano-2512' });
    // The app's card: no model, and none coming (not a preparation to wait for), with a command free of paths.
    const card = await index(url);
    expect(card.data).toEqual([]);
    expect(card.preparing).toMatchObject({ state: 'unavailable', source: 'zai-org/GLM-ASR-Nano-2512' });
    expect(card.preparing!.command).toBe(
      "npm run model:convert -- --from zai-org/GLM-ASR-Nano-2512 --out '…/glm-asr-nano-2512' --variants q4f16,q4,q8 --model-id glm-asr-nano-2512",
    );
    expectNoPaths(card, base);
    expect(existsSync(dir) ? (await import('node:fs')).readdirSync(dir) : []).toEqual([]);
  });

  test('--no-convert serves without a model and says how to add one', async () => {
    const dir = resolve(mkdtempSync(resolve(tmpdir(), 'first-')), 'models');
    const run = serve(['--models', dir, '--no-convert', '--model-source', CKPT]);
    const url = await run.listening;
    await run.waitFor(/--no-convert: nothing is downloaded or converted/);
    expect((await models(url)).preparing).toMatchObject({ state: 'skipped' });
    expect((await index(url)).preparing).toMatchObject({
      state: 'skipped',
      command: expect.stringContaining(CKPT_PUBLIC),
    });
    // The operator's terminal has the real paths.
    expect(run.log()).toContain(`npm run model:convert -- --from ${CKPT} --out ${dir}/tiny`);
  });

  test('a server that wants an API key shows visitors no command; its key holders see it', async () => {
    const dir = resolve(mkdtempSync(resolve(tmpdir(), 'first-')), 'models');
    const run = serve(['--models', dir, '--no-convert', '--model-source', CKPT], { GLMASR_API_KEY: 'k-first' });
    const url = await run.listening;
    await run.waitFor(/--no-convert/);
    const card = await index(url);
    expect(card.preparing).toMatchObject({ state: 'skipped', id: 'tiny' });
    expect(card.preparing).not.toHaveProperty('command');
    expect((await models(url, { Authorization: 'Bearer k-first' })).preparing?.command).toContain(
      'npm run model:convert',
    );
  });

  test("a conversion that fails: state failed (none coming), its reason without the machine's paths", async () => {
    const base = mkdtempSync(resolve(tmpdir(), 'first-'));
    const dir = resolve(base, 'models');
    // A checkpoint directory the converter cannot read: config.json is not JSON.
    const broken = resolve(base, 'broken-ckpt');
    mkdirSync(broken);
    writeFileSync(resolve(broken, 'config.json'), 'not json');
    const run = serve(['--models', dir, '--model-source', broken, '--preload', 'none']);
    const url = await run.listening;
    await run.waitFor(/the conversion stopped|could not start/, 180_000);
    const card = await index(url);
    expect(card.data).toEqual([]);
    expect(card.preparing).toMatchObject({ state: 'failed', id: 'broken-ckpt' });
    expect(card.preparing!.message).toMatch(/^The conversion stopped: /);
    expectNoPaths(card, base);
  });
});
