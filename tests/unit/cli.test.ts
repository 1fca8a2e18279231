/**
 * `npm run transcribe`: one JSON object per file, bad files reported per file without stopping the batch, and
 * the same token ids as the official goldens for a golden clip.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { GOLDENS_MISSING, ROOT, SPEECH_MISSING, speechPath } from '../helpers/data.ts';
import { goldens, modelDir } from '../helpers/goldens.ts';

function cli(args: string[]) {
  return spawnSync(resolve(ROOT, 'node_modules/.bin/tsx'), ['scripts/transcribe.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
}

describe.skipIf(Boolean(SPEECH_MISSING() || GOLDENS_MISSING('tiny')))('transcribe CLI', () => {
  test('--json per file; bad files are reported and the batch goes on', () => {
    const dir = mkdtempSync(resolve(tmpdir(), 'cli-'));
    const text = resolve(dir, 'notes.txt');
    const empty = resolve(dir, 'empty.wav');
    writeFileSync(text, 'not audio');
    writeFileSync(empty, '');
    const clip = goldens('tiny').clips.find((c) => c.id === 'jfk')!;
    const g = goldens('tiny');
    const r = cli([
      '--model',
      modelDir('tiny'),
      '--variant',
      'fp32',
      '--json',
      '--max-new-tokens',
      String(g.max_new_tokens),
      text,
      speechPath(clip.files[0]!),
      empty,
      resolve(dir, 'missing.wav'),
    ]);
    expect(r.status).toBe(1);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { file: string; error?: string; windows?: { token_ids: number[] }[] });
    expect(lines).toHaveLength(4);
    expect(lines[0]!.error).toMatch(/not a readable audio file/);
    expect(lines[1]!.windows!.map((w) => w.token_ids)).toEqual(clip.windows.map((w) => w.token_ids));
    expect(lines[2]!.error).toMatch(/empty/);
    expect(lines[3]!.error).toMatch(/cannot read/);
  });

  test('--help documents the interface; missing arguments fail with usage', () => {
    const help = cli(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--model <dir>');
    expect(help.stdout).toContain('--variant');
    const bad = cli([]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--model and at least one audio file are required');
  });
});
