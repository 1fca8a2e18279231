/**
 * The API tests' fixtures: the app's server started in-process on 127.0.0.1 (port 0) with the tiny test model, the
 * golden clips as upload files, and the reference decode of a file by the Node CLI (`npm run transcribe -- --json`).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { WebVTTParser } from 'webvtt-parser';
import { encodeWavFloat32 } from '../../src/core/dsp/wav.ts';
import { GOLDENS_MISSING, missing, ROOT, SPEECH_MISSING, speechPath } from '../helpers/data.ts';
import type { AppServer } from '../../server/server.ts';
import { clipAudio, type GoldenClip, modelDir } from '../helpers/goldens.ts';
import { type ListeningServer, startServerProcess } from '../helpers/server-process.ts';

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
export async function health(
  server: Pick<AppServer, 'url'>,
): Promise<{ ok: boolean; jobs: { running: number; queued: number; uploading: number } }> {
  const r = await fetch(`${server.url}/healthz`);
  return (await r.json()) as { ok: boolean; jobs: { running: number; queued: number; uploading: number } };
}

/** webvtt-parser (the WebVTT validator) with the spec's full character-reference table (its default lacks `&amp;`). */
export function vttParser(): WebVTTParser {
  const table = createRequire(import.meta.url).resolve('webvtt-parser/html-entities.json');
  return new WebVTTParser(JSON.parse(readFileSync(table, 'utf8')) as Record<string, string>);
}

/** The server's answer to raw bytes: the status line's code, the whole reply, and whether the socket was reset. */
export interface RawReply {
  status: number;
  reply: string;
  ms: number;
}

/**
 * Send `parts` on a raw socket (each after `gapMs`), then wait for the server to close it (the requests here say
 * `Connection: close`) or for `endAfterMs` and close it ourselves (`destroy`: the client vanishes mid-body).
 */
export function rawRequest(
  port: number,
  parts: (string | Buffer)[],
  opts: { gapMs?: number; destroyAfterMs?: number; host?: string } = {},
): Promise<RawReply> {
  return new Promise((done) => {
    const t0 = performance.now();
    let reply = '';
    const socket = connect(port, opts.host ?? '127.0.0.1', async () => {
      for (const [i, p] of parts.entries()) {
        if (i && opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
        if (socket.writable) socket.write(p);
      }
      if (opts.destroyAfterMs !== undefined) setTimeout(() => socket.destroy(), opts.destroyAfterMs);
    });
    socket.on('data', (d) => (reply += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () =>
      done({ status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(reply)?.[1] ?? 0), reply, ms: performance.now() - t0 }),
    );
  });
}

/** Request head for POST /v1/audio/transcriptions on `port` with `headers` (CRLF-joined, ending the head). */
export function postHead(port: number, headers: Record<string, string | number>): string {
  const lines = Object.entries({ Host: `127.0.0.1:${port}`, Connection: 'close', ...headers }).map(
    ([k, v]) => `${k}: ${v}`,
  );
  return `POST /v1/audio/transcriptions HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** A multipart part with `name` (and `filename`: a file part) holding `body`, after boundary `b`. */
export function part(b: string, name: string, body: string | Buffer, filename?: string): Buffer {
  const disposition = `form-data; name="${name}"${filename !== undefined ? `; filename="${filename}"` : ''}`;
  return Buffer.concat([
    Buffer.from(`--${b}\r\nContent-Disposition: ${disposition}\r\n\r\n`),
    Buffer.from(body),
    Buffer.from('\r\n'),
  ]);
}

export type ChildServer = ListeningServer;

/**
 * The server's command line as a child process on a free port, with the tiny test models: where a request could
 * crash the process, only another process can watch it die.
 */
export function startChildServer(args: string[] = []): Promise<ChildServer> {
  return startServerProcess([
    '--models',
    modelsRoot(),
    '--preload',
    'tiny@fp32',
    '--threads',
    '1',
    '--no-convert',
    ...args,
  ]);
}

/** The test models' parent directory (tiny, tiny-wide, ...). */
export const modelsRoot = () => resolve(modelDir('tiny'), '..');
