/**
 * The reference decode for browser tests: the app's pipeline in Node (`npm run transcribe -- --json`, onnxruntime-
 * node), which tests/unit/pipeline.test.ts proves token-exact with the official implementation's goldens.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ForcedRequest, ForcedStep } from './forced-decode.ts';
import { ARTIFACTS, E2E_FIXTURES, ROOT, speechFile } from './paths.ts';

export interface ReferenceResult {
  file: string;
  text: string;
  windows: { start: number; end: number; token_ids: number[]; text: string }[];
}

export function referenceDecode(model: string, variant: string, file: string, maxNewTokens?: number): ReferenceResult {
  const args = ['tsx', 'scripts/transcribe.ts', '--model', resolve(ARTIFACTS, 'models', model), '--variant', variant];
  if (maxNewTokens) args.push('--max-new-tokens', String(maxNewTokens));
  const r = spawnSync('npx', [...args, '--json', file], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`reference decode failed (${r.status}): ${r.stderr}\n${r.stdout}`);
  const line = r.stdout.trim().split('\n').pop()!;
  return JSON.parse(line) as ReferenceResult;
}

/** The CLI's `--format` output for `file` (the bytes the app's *Save as* and the server's response_format give;
 * `json`: the transcript document). */
export function cliFormat(
  model: string,
  variant: string,
  file: string,
  format: 'txt' | 'srt' | 'vtt' | 'json',
): string {
  const args = ['tsx', 'scripts/transcribe.ts', '--model', resolve(ARTIFACTS, 'models', model), '--variant', variant];
  const r = spawnSync('npx', [...args, '--format', format, file], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`CLI --format ${format} failed (${r.status}): ${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** A golden clip as one 16 kHz WAV: the file itself, or its files concatenated by sox (sample-exact). */
export function clipWav(id: string, files: string[]): string {
  if (files.length === 1) return speechFile(files[0]!);
  mkdirSync(E2E_FIXTURES, { recursive: true });
  const out = resolve(E2E_FIXTURES, `${id}.wav`);
  const r = spawnSync('sox', [...files.map(speechFile), out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sox failed: ${r.stderr}`);
  return out;
}

/** The 40 s golden clip repeated 10 times (~6.7 min), for cancellation and long-file tests. */
export function longFile(): string {
  const base = clipWav('long-8k-jfk', ['en/ls-1272-128104-0004-8k.wav', 'en/jfk.wav']);
  const out = resolve(E2E_FIXTURES, 'long-x10.wav');
  const r = spawnSync('sox', [base, out, 'repeat', '9'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sox failed: ${r.stderr}`);
  return out;
}

/**
 * The Node reference decode of `file` teacher-forced onto `windows` (another run's token ids per window): per window
 * and step, the reference's own choice and the logits of its choice and of the forced id (forced-decode.ts).
 */
export function forcedDecode(
  model: string,
  variant: string,
  file: string,
  maxNewTokens: number,
  windows: number[][],
): ForcedStep[][] {
  const request: ForcedRequest = { model: resolve(ARTIFACTS, 'models', model), variant, file, maxNewTokens, windows };
  const r = spawnSync('npx', ['tsx', 'e2e/helpers/forced-decode.ts'], {
    cwd: ROOT,
    encoding: 'utf8',
    input: JSON.stringify(request),
  });
  if (r.status !== 0) throw new Error(`forced reference decode failed (${r.status}): ${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ForcedStep[][];
}
