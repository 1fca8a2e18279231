/**
 * `npm run bench -- server`: OpenAI's `POST /v1/audio/transcriptions` on the app's server (server/server.ts `start()`
 * in-process on 127.0.0.1, `--concurrency 1`, a queue large enough for every client) against the same pipeline
 * called in-process (GlmAsrPipeline.transcribe on onnxruntime-node, N callers sharing one pipeline, one job at a time
 * like the server), side by side in one run, for the tiny model (fp32) and the full-size random-weight model (q4).
 *
 * For 1, 2, 4 and 8 concurrent clients in a closed loop (each sends its next request when the last one is answered),
 * all sending the same real speech WAV: requests/s, p50/p95 latency, the server's overhead (server p50 / in-process
 * p50 − 1; goal ≤ 10%), errors (every response must be 200 with the in-process text) and the real-time factor
 * (wall seconds per request / audio seconds).  Random weights never emit EOS, so the full model decodes a fixed
 * number of tokens (GLMASR_BENCH_TOKENS, default 8) on both sides.  Ends with one JSON summary line.
 */
import { TEST_DIST } from '../e2e/helpers/dist.ts';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { directorySource } from '../server/model-source.ts';
import { start } from '../server/server.ts';
import type { Variant } from '../src/core/asr/contract.ts';
import { createNodeRuntime } from '../server/ort/node.ts';
import { GlmAsrPipeline, type TranscribeOptions } from '../src/core/asr/pipeline.ts';
import { decodeWav, toMono } from '../src/core/dsp/wav.ts';
import { speechPath } from '../tests/helpers/data.ts';
import { FULL_MODEL, fullModelManifest, percentile, ROOT, table } from './common.ts';

const CLIENTS = [1, 2, 4, 8];
const AUDIO = process.env['GLMASR_BENCH_SERVER_AUDIO'] ?? 'en/jfk.wav';
const FULL_TOKENS = Number(process.env['GLMASR_BENCH_TOKENS'] ?? 8);
/**
 * Full-size model: requests per level at least this (and one per client).  One request takes ~19 s on 2 cores (the
 * encoder ~15 s of it), so the default 1 (1+2+4+8 per side) keeps the section near 10 minutes.
 */
const FULL_REQUESTS = Number(process.env['GLMASR_BENCH_SERVER_FULL_REQUESTS'] ?? 1);

interface Part {
  name: string;
  dir: string;
  variant: Variant;
  /** Requests per concurrency level (at least one per client). */
  requests: number;
  /** Unmeasured requests on each side first (the first in-process one gives the reference text). */
  warmups: number;
  maxNewTokens?: number;
}

interface Level {
  clients: number;
  requests: number;
  wallMs: number;
  latencies: number[];
  errors: number;
  firstError?: string;
}

/** `total` requests from `clients` callers, each starting its next request when its last one ended. */
async function closedLoop(clients: number, total: number, one: () => Promise<string | null>): Promise<Level> {
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (issued < total) {
        issued++;
        const start = performance.now();
        let error: string | null;
        try {
          error = await one();
        } catch (err) {
          error = err instanceof Error ? err.message : String(err);
        }
        latencies.push(performance.now() - start);
        if (error !== null) {
          errors++;
          firstError ??= error;
        }
      }
    }),
  );
  return { clients, requests: total, wallMs: performance.now() - t0, latencies, errors, firstError };
}

/** Calls run one at a time in arrival order (what `--concurrency 1` does on the server). */
function oneAtATime(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const result = tail.then(fn);
    tail = result.catch(() => undefined);
    return result;
  };
}

interface PartResult {
  name: string;
  variant: Variant;
  audioSec: number;
  maxNewTokens: number | null;
  text: string;
  levels: { server: Level; inProcess: Level }[];
}

async function benchPart(part: Part, wav: Uint8Array, pcm: Float32Array): Promise<PartResult> {
  const audioSec = pcm.length / 16_000;
  const opts: TranscribeOptions = part.maxNewTokens ? { maxNewTokens: part.maxNewTokens } : {};
  const model = `${basename(part.dir)}@${part.variant}`;

  let t0 = performance.now();
  const pipeline = await GlmAsrPipeline.load(createNodeRuntime(), directorySource(part.dir), part.variant);
  const server = await start({
    port: 0,
    host: '127.0.0.1',
    dist: TEST_DIST,
    models: dirname(part.dir),
    preload: [model],
    concurrency: 1,
    queue: Math.max(...CLIENTS) * 2,
    quiet: true,
  }).catch(async (err: unknown) => {
    await pipeline.release();
    throw err;
  });
  console.log(
    `${part.name}: in-process pipeline and server (${model}) loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  try {
    // Warm-up on both sides; the in-process text is what every answer must equal.
    t0 = performance.now();
    const reference = (await pipeline.transcribe(pcm, opts)).text;
    const warmMs = performance.now() - t0;
    for (let i = 1; i < part.warmups; i++) await pipeline.transcribe(pcm, opts);
    const gate = oneAtATime();
    const inProcess = async (): Promise<string | null> => {
      const text = (await gate(() => pipeline.transcribe(pcm, opts))).text;
      return text === reference ? null : `in-process text differs: ${JSON.stringify(text)}`;
    };
    const url = `${server.url}/v1/audio/transcriptions`;
    const viaServer = async (): Promise<string | null> => {
      const form = new FormData();
      form.append('file', new Blob([wav], { type: 'audio/wav' }), basename(AUDIO));
      form.append('model', model);
      form.append('response_format', 'json');
      if (part.maxNewTokens) form.append('max_new_tokens', String(part.maxNewTokens));
      const res = await fetch(url, { method: 'POST', body: form });
      const body = await res.text();
      if (res.status !== 200) return `HTTP ${res.status}: ${body.slice(0, 200)}`;
      const text = (JSON.parse(body) as { text?: unknown }).text;
      return text === reference ? null : `server text differs: ${JSON.stringify(text)}`;
    };
    for (let i = 0; i < part.warmups; i++) {
      const warm = await viaServer();
      if (warm !== null) throw new Error(`${part.name}: the warm-up request failed: ${warm}`);
    }
    console.log(
      `${part.name}: warm-up ${(warmMs / 1000).toFixed(2)} s in-process; text ${JSON.stringify(reference.slice(0, 80))}${reference.length > 80 ? '…' : ''}`,
    );

    const levels: PartResult['levels'] = [];
    for (const clients of CLIENTS) {
      const total = Math.max(part.requests, clients);
      // Which side goes first alternates between levels, so a drift in the machine's speed does not favour one.
      const first = levels.length % 2 === 0;
      const s0 = first ? await closedLoop(clients, total, viaServer) : null;
      const p = await closedLoop(clients, total, inProcess);
      const s = s0 ?? (await closedLoop(clients, total, viaServer));
      levels.push({ server: s, inProcess: p });
      console.log(
        `${part.name} N=${clients}: server ${(s.wallMs / 1000).toFixed(1)} s, in-process ${(p.wallMs / 1000).toFixed(1)} s for ${total} requests`,
      );
    }
    return {
      name: part.name,
      variant: part.variant,
      audioSec,
      maxNewTokens: part.maxNewTokens ?? null,
      text: reference,
      levels,
    };
  } finally {
    await server.stop();
    await pipeline.release();
  }
}

const rps = (l: Level) => (l.requests * 1000) / l.wallMs;
const p50 = (l: Level) => percentile(l.latencies, 50) / 1000;
const p95 = (l: Level) => percentile(l.latencies, 95) / 1000;
/** Wall seconds per request / audio seconds. */
const rtf = (l: Level, audioSec: number) => l.wallMs / 1000 / l.requests / audioSec;
const overhead = (s: Level, p: Level) => p50(s) / p50(p) - 1;
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;

export async function benchServer(): Promise<void> {
  console.log('\n== Transcription server (POST /v1/audio/transcriptions, --concurrency 1) vs the pipeline in-process');
  const wavPath = speechPath(AUDIO);
  if (!existsSync(wavPath)) {
    console.log(`SKIPPED: ${wavPath} is absent (the real speech of ../shared/data/speech)`);
    return;
  }
  const wav = new Uint8Array(readFileSync(wavPath));
  const decoded = decodeWav(wav);
  if (decoded.sampleRateHz !== 16_000)
    throw new Error(`${wavPath}: ${decoded.sampleRateHz} Hz, this bench needs 16 kHz`);
  const pcm = toMono(decoded.channels);
  console.log(
    `audio: ${AUDIO} (${(pcm.length / 16_000).toFixed(2)} s); clients in a closed loop; latency = request sent → answer read`,
  );

  const parts: Part[] = [];
  const tiny = resolve(ROOT, 'build/test-artifacts/models/tiny');
  if (existsSync(resolve(tiny, 'manifest.json')))
    parts.push({ name: 'tiny fp32', dir: tiny, variant: 'fp32', requests: 24, warmups: 3 });
  else console.log(`SKIPPED (tiny): ${tiny} is absent (scripts/test-artifacts.sh builds it)`);
  if (fullModelManifest(false))
    parts.push({
      name: 'full-size q4',
      dir: FULL_MODEL,
      variant: 'q4',
      requests: FULL_REQUESTS,
      warmups: 1,
      maxNewTokens: FULL_TOKENS,
    });

  const results: PartResult[] = [];
  for (const part of parts) results.push(await benchPart(part, wav, pcm));
  if (!results.length) return;

  const rows: (string | number)[][] = [
    [
      'model',
      'N',
      'reqs',
      'server req/s',
      'p50 s',
      'p95 s',
      'in-proc req/s',
      'p50 s',
      'p95 s',
      'overhead p50',
      'errors',
      'RTF server',
      'RTF in-proc',
    ],
  ];
  for (const r of results)
    for (const { server: s, inProcess: p } of r.levels)
      rows.push([
        r.name,
        s.clients,
        s.requests,
        rps(s).toFixed(2),
        p50(s).toFixed(3),
        p95(s).toFixed(3),
        rps(p).toFixed(2),
        p50(p).toFixed(3),
        p95(p).toFixed(3),
        pct(overhead(s, p)),
        `${s.errors}/${s.requests}`,
        rtf(s, r.audioSec).toFixed(3),
        rtf(p, r.audioSec).toFixed(3),
      ]);
  console.log(table(rows));
  for (const r of results) {
    const cap = r.maxNewTokens ? `max_new_tokens ${r.maxNewTokens}` : 'default token cap';
    const worst = Math.max(...r.levels.map((l) => overhead(l.server, l.inProcess)));
    const errors = r.levels.reduce((n, l) => n + l.server.errors + l.inProcess.errors, 0);
    const first = r.levels.flatMap((l) => [l.server.firstError, l.inProcess.firstError]).find((e) => e);
    console.log(
      `${r.name} (${cap}): worst server overhead ${pct(worst)} (goal ≤ +10%): ${worst <= 0.1 ? 'met' : 'NOT met'}; ` +
        `${errors} errors${first ? ` (first: ${first})` : ''}`,
    );
  }
  const summary = {
    bench: 'server',
    audio: AUDIO,
    audioSec: results[0]!.audioSec,
    models: results.map((r) => ({
      name: r.name,
      variant: r.variant,
      maxNewTokens: r.maxNewTokens,
      levels: r.levels.map(({ server: s, inProcess: p }) => ({
        clients: s.clients,
        requests: s.requests,
        server: { rps: +rps(s).toFixed(3), p50: +p50(s).toFixed(3), p95: +p95(s).toFixed(3), errors: s.errors },
        inProcess: { rps: +rps(p).toFixed(3), p50: +p50(p).toFixed(3), p95: +p95(p).toFixed(3), errors: p.errors },
        overheadP50: +overhead(s, p).toFixed(4),
        rtfServer: +rtf(s, r.audioSec).toFixed(4),
        rtfInProcess: +rtf(p, r.audioSec).toFixed(4),
      })),
    })),
  };
  console.log(JSON.stringify(summary));
}
