/**
 * `npm run eval -- --engine wasm`: the built app in Chromium's WASM engine, each clip opened through the UI, gives the
 * node engine's tokens (the pipeline is token-exact across runtimes) and reports a bad clip without stopping.
 */
import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ARTIFACTS, E2E_FIXTURES, ROOT, speechFile } from './helpers/paths.ts';

interface ClipLine {
  type: string;
  id: string;
  error?: string;
  output?: { text: string; windows: number[][] };
}

function evalCli(args: string[]) {
  const r = spawnSync(resolve(ROOT, 'node_modules/.bin/tsx'), ['scripts/eval.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const clips = r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ClipLine)
    .filter((l) => l.type === 'clip');
  return { ...r, clips };
}

test('the WASM engine of npm run eval gives the node engine tokens, clip by clip', async () => {
  test.setTimeout(180_000);
  mkdirSync(E2E_FIXTURES, { recursive: true });
  const set = resolve(E2E_FIXTURES, 'eval-wasm.tsv');
  writeFileSync(resolve(E2E_FIXTURES, 'eval-not-audio.wav'), 'not audio');
  writeFileSync(
    set,
    [
      'id\tlang\tfile\ttext',
      `jfk\ten\t${speechFile('en/jfk.wav')}\tAnd so my fellow Americans`,
      `bad\ten\teval-not-audio.wav\tnothing`,
      `zh\tzh\t${speechFile('zh/aishell-BAC009S0764W0121.wav')}\t甚至出现交易几乎停滞的情况`,
    ].join('\n') + '\n',
  );
  const common = ['--model', resolve(ARTIFACTS, 'models/tiny'), '--set', set, '--variants', 'fp32'];
  const opts = ['--max-new-tokens', '24', '--json', '--no-cache'];
  const node = evalCli([...common, ...opts, '--threads', '1']);
  const wasm = evalCli([...common, ...opts, '--engine', 'wasm']);
  expect(wasm.status, wasm.stderr).toBe(1); // the bad clip
  expect(wasm.clips.map((c) => c.id)).toEqual(['jfk', 'bad', 'zh']);
  expect(wasm.clips[1]!.error).toBeTruthy();
  expect(wasm.clips[0]!.output!.windows).toEqual(node.clips[0]!.output!.windows);
  expect(wasm.clips[2]!.output!.windows).toEqual(node.clips[2]!.output!.windows);
  expect(wasm.clips[0]!.output!.text).toBe(node.clips[0]!.output!.text);
  expect(wasm.stderr).toMatch(/Chromium's WASM/);
});
