/**
 * The API tests' fixtures: the app's server started in-process on 127.0.0.1 (port 0) with the tiny test model, the
 * golden clips as upload files, and the reference decode of a file by the Node CLI (`npm run transcribe -- --json`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { WebVTTParser } from 'webvtt-parser';
import { encodeWavFloat32 } from '../../workers/dsp/wav.ts';
import { GOLDENS_MISSING, missing, ROOT, SPEECH_MISSING, speechPath } from '../helpers/data.ts';
import type { AppServer } from '../../server/server.ts';
import { clipAudio, type GoldenClip, modelDir } from '../helpers/goldens.ts';

export { startTestServer } from '../helpers/server.ts';

/** Why the API tests cannot run here (locally: skipped; CI=true: thrown). */
export const API_MISSING = () =>
  SPEECH_MISSING() ??
  GOLDENS_MISSING('tiny') ??
  missing(modelDir('tiny'), 'built by scripts/test-artifacts.sh (npm test runs it)');

export const TMP = mkdtempSync(resolve(tmpdir(), 'server-test-'));

/** The clip as one upload: its own WAV when it is one file, else its samples as a float32 WAV (exact). */
export function clipFile(clip: GoldenClip): string {
  if (clip.files.length === 1) return speechPath(clip.files[0]!);
  const out = resolve(TMP, `${clip.id}.wav`);
  writeFileSync(out, encodeWavFloat32(clipAudio(clip), 16_000));
  return out;
}

/** ffmpeg with `args` (inputs and codec options) writing TMP/`name`; returns its path. */
export function ffmpeg(name: string, args: string[]): string {
  const out = resolve(TMP, name);
  const r = spawnSync('ffmpeg', ['-y', '-hide_banner', '-loglevel', 'error', ...args, out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg failed: ${r.stderr}`);
  return out;
}

export interface CliResult {
  text: string;
  windows: { start: number; end: number; token_ids: number[]; text: string }[];
}

/** The Node CLI's decode of `file` (the reference for formats other than the goldens' WAV). */
export function cliDecode(file: string, maxNewTokens: number): CliResult {
  const r = spawnSync(
    resolve(ROOT, 'node_modules/.bin/tsx'),
    [
      'scripts/transcribe.ts',
      '--model',
      modelDir('tiny'),
      '--variant',
      'fp32',
      '--max-new-tokens',
      String(maxNewTokens),
      '--json',
      file,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`CLI decode failed (${r.status}): ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as CliResult;
}

/** GET /healthz (the server is still answering). */
export async function health(server: AppServer): Promise<{ ok: boolean; jobs: { running: number; queued: number } }> {
  const r = await fetch(`${server.url}/healthz`);
  return (await r.json()) as { ok: boolean; jobs: { running: number; queued: number } };
}

/** webvtt-parser (the WebVTT validator) with the spec's full character-reference table (its default lacks `&amp;`). */
export function vttParser(): WebVTTParser {
  const table = createRequire(import.meta.url).resolve('webvtt-parser/html-entities.json');
  return new WebVTTParser(JSON.parse(readFileSync(table, 'utf8')) as Record<string, string>);
}
