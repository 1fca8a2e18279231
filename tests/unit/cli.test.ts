/**
 * `npm run transcribe`: one JSON object per file, bad files reported per file without stopping the batch, and
 * the same token ids as the official goldens for a golden clip.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { Ajv } from 'ajv';
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

  test('--format txt|srt|vtt: the transcript to stdout, or one file per input with --out-dir; bad combinations stop', () => {
    const dir = mkdtempSync(resolve(tmpdir(), 'cli-format-'));
    const clip = speechPath('en/jfk.wav');
    const base = ['--model', modelDir('tiny'), '--variant', 'fp32'];
    const srt = cli([...base, '--format', 'srt', clip]);
    expect(srt.status).toBe(0);
    expect(srt.stdout).toMatch(/^1\n00:00:00,000 --> 00:00:\d\d,\d{3}\n/);
    const vtt = cli([...base, '--format', 'vtt', '--out-dir', dir, clip, clip]);
    expect(vtt.status).toBe(0);
    expect(vtt.stderr).toContain(`-> ${resolve(dir, 'jfk.vtt')}`);
    const written = readFileSync(resolve(dir, 'jfk.vtt'), 'utf8');
    expect(written.startsWith('WEBVTT\n\n00:00:00.000 --> ')).toBe(true);
    // The same cues as the SRT, in WebVTT's notation.
    const times = (doc: string, sep: string) =>
      [...doc.matchAll(new RegExp(`(\\d\\d:\\d\\d:\\d\\d)${sep}(\\d{3})`, 'g'))].map((m) => `${m[1]}.${m[2]}`);
    expect(times(written, '\\.')).toEqual(times(srt.stdout, ','));
    expect(times(written, '\\.').length).toBeGreaterThanOrEqual(4);
    for (const [args, message] of [
      [['--format', 'pdf', clip], '--format must be txt, srt, vtt or json, not "pdf"'],
      [['--format', 'txt', '--json', clip], '--format and --json are two different outputs'],
      [['--format', 'txt', clip, clip], '--format with several files needs --out-dir'],
      [['--out-dir', dir, clip], '--out-dir goes with --format'],
    ] as const) {
      const r = cli([...base, ...args]);
      expect(r.status, message).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });

  test('--format json: the transcript document as the app keeps it, valid against its JSON Schema', () => {
    const clip = speechPath('en/jfk.wav');
    const base = ['--model', modelDir('tiny'), '--variant', 'fp32'];
    const json = cli([...base, '--format', 'json', clip]);
    expect(json.status, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout) as Record<string, unknown>;
    const schema = JSON.parse(readFileSync(resolve(ROOT, 'src/core/format/transcript.schema.json'), 'utf8')) as object;
    const validate = new Ajv({ allErrors: true }).compile(schema);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    // Its segments are the windows --json reports (decoded by onnxruntime-node: "cpu"), its model the manifest.
    const windows = (
      JSON.parse(cli([...base, '--json', clip]).stdout) as { windows: { start: number; end: number; text: string }[] }
    ).windows;
    expect(doc['segments']).toEqual(
      windows.map((w) => ({ start: w.start, end: w.end, text: w.text, final: true, engine: 'cpu' })),
    );
    const manifest = JSON.parse(readFileSync(resolve(modelDir('tiny'), 'manifest.json'), 'utf8')) as Record<
      string,
      string
    >;
    expect(doc['model']).toEqual({ id: manifest['model_id'], revision: manifest['revision'], variant: 'fp32' });
    expect(doc).toMatchObject({ kind: 'file', status: 'done', source: { fileName: 'jfk.wav' }, durationSec: 11 });
    expect(json.stdout.endsWith('}\n')).toBe(true);
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
