/**
 * `npm run bench -- server`: OpenAI's `POST /v1/audio/transcriptions` on the app's server (server/server.ts `start()`
 * in-process on 127.0.0.1, `--concurrency 1`, a queue large enough for every client) against the same pipeline
 * called in-process (GlmAsrPipeline.transcribe on onnxruntime-node, N callers sharing one pipeline, one job at a time
 * like the server), side by side in one run, for the tiny model (fp32) and the full-size random-weight model at the
 * variant the server serves it at on this CPU (q8 with int8 dot products, else q4: server/api/models.ts; or
 * GLMASR_BENCH_SERVER_VARIANTS, e.g. "q4,q8", side by side).
 * Both sides use the server's default intra-op pool (server/ort/node.ts).
 *
 * For 1, 2, 4 and 8 concurrent clients (GLMASR_BENCH_SERVER_CLIENTS, e.g. "1,4") in a closed loop (each sends its
 * next request when the last one is answered), all sending the same real speech WAV: requests/s, p50/p95 latency,
 * the server's overhead (server p50 / in-process p50 − 1; goal ≤ 10%), errors (every response must be 200 with the
 * in-process text) and the real-time factor (wall seconds per request / audio seconds).  Two rows per model:
 *  - short: GLMASR_BENCH_SERVER_AUDIO (default the 11 s jfk.wav); random weights never emit EOS, so the full model
 *    decodes a fixed number of tokens (GLMASR_BENCH_TOKENS, default 8) on both sides;
 *  - window: 30 s of real speech (one full window) decoding exactly GLMASR_BENCH_WINDOW_TOKENS (default 150, what
 *    real speech gives a 30 s window; 0 leaves the row out) with the repetition guard off on both sides, every
 *    window's token count checked.  Its RTF is the RTF per window, explained by the in-process windows' encoder ms,
 *    prefill ms and decode tok/s.
 * GLMASR_BENCH_SERVER_ROWS ("short,window" by default) picks the rows.  Ends with one JSON summary line.
 */
import { TEST_DIST } from '../e2e/helpers/dist.ts';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { directorySource } from '../server/model-source.ts';
import { start } from '../server/server.ts';
import { isVariant, type ModelManifest, type Variant, type WindowResult } from '../src/core/asr/contract.ts';
import { cpuEncoderVariant } from '../src/core/asr/encoder-variant.ts';
import { hasInt8DotProduct } from '../server/cpu-features.ts';
import { cpuDefaultVariant } from '../server/api/models.ts';
import { createNodeRuntime, intraOpThreads } from '../server/ort/node.ts';
import { GlmAsrPipeline, type TranscribeOptions } from '../src/core/asr/pipeline.ts';
import { decodeWav, encodeWav16, toMono } from '../src/core/dsp/wav.ts';
import { speechPath } from '../tests/helpers/data.ts';
import {
  closedLoop,
  FULL_MODEL,
  fullModelManifest,
  type Level,
  median,
  oneAtATime,
  percentile,
  ROOT,
  speech,
  table,
} from './common.ts';

const CLIENTS = (process.env['GLMASR_BENCH_SERVER_CLIENTS'] ?? '1,2,4,8').split(',').map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`GLMASR_BENCH_SERVER_CLIENTS: ${JSON.stringify(s)} is not a count`);
  return n;
});
const AUDIO = process.env['GLMASR_BENCH_SERVER_AUDIO'] ?? 'en/jfk.wav';
const FULL_TOKENS = Number(process.env['GLMASR_BENCH_TOKENS'] ?? 8);
const WINDOW_TOKENS = Number(process.env['GLMASR_BENCH_WINDOW_TOKENS'] ?? 150);
const WINDOW_SEC = 30;
const ROWS = new Set((process.env['GLMASR_BENCH_SERVER_ROWS'] ?? 'short,window').split(','));
/**
 * Full-size model: requests per level at least this (and one per client).  A short request takes ~19 s on 2 cores
 * (the encoder ~15 s of it) and a 150-token window ~30 s, so the default 1 (1+2+4+8 per side and row) keeps the
 * section within about half an hour.
 */
const FULL_REQUESTS = Number(process.env['GLMASR_BENCH_SERVER_FULL_REQUESTS'] ?? 1);

interface Audio {
  name: string;
  wav: Uint8Array;
  pcm: Float32Array;
  sec: number;
}

interface Row {
  audio: Audio;
  /** Requests per concurrency level (at least one per client). */
  requests: number;
  /** Unmeasured requests on each side first (the first in-process one gives the reference text). */
  warmups: number;
  maxNewTokens?: number;
  /** Decode exactly `maxNewTokens` per window: no repetition guard on either side, and every window checked. */
  fixed?: boolean;
}

interface Model {
  name: string;
  dir: string;
  variant: Variant;
  rows: Row[];
}

interface RowResult {
  name: string;
  variant: Variant;
  audio: string;
  audioSec: number;
  maxNewTokens: number | null;
  fixed: boolean;
  text: string;
  levels: { server: Level; inProcess: Level }[];
  /** The in-process windows of the measured requests (their timings explain the RTF). */
  windows: WindowResult[];
}

/** Why a fixed-length decode is not one (null: every window generated exactly `tokens`). */
function notFixed(tokensPerWindow: readonly number[], tokens: number): string | null {
  const i = tokensPerWindow.findIndex((n) => n !== tokens);
  return i < 0 ? null : `window ${i} generated ${tokensPerWindow[i]} tokens, not ${tokens}`;
}

async function benchRow(model: Model, row: Row, pipeline: GlmAsrPipeline, url: string, id: string): Promise<RowResult> {
  const { audio, fixed = false } = row;
  const opts: TranscribeOptions = {
    ...(row.maxNewTokens ? { maxNewTokens: row.maxNewTokens } : {}),
    ...(fixed ? { repetitionGuard: false } : {}),
  };
  const label = `${model.name} ${audio.name}`;
  const check = (windows: readonly WindowResult[]) =>
    fixed
      ? notFixed(
          windows.map((w) => (w.stopReason === 'max-tokens' ? w.tokenIds.length : -1)),
          row.maxNewTokens!,
        )
      : null;
  // Warm-up on both sides; the in-process text is what every answer must equal.
  const t0 = performance.now();
  const first = await pipeline.transcribe(audio.pcm, opts);
  const warmMs = performance.now() - t0;
  const bad = check(first.windows);
  if (bad) throw new Error(`${label}: in-process ${bad} (EOS or the repetition guard)`);
  const reference = first.text;
  for (let i = 1; i < row.warmups; i++) await pipeline.transcribe(audio.pcm, opts);
  const windows: WindowResult[] = [];
  const gate = oneAtATime();
  const inProcess = async (): Promise<string | null> => {
    const t = await gate(() => pipeline.transcribe(audio.pcm, opts));
    windows.push(...t.windows);
    if (t.text !== reference) return `in-process text differs: ${JSON.stringify(t.text)}`;
    return check(t.windows);
  };
  const viaServer = async (): Promise<string | null> => {
    const form = new FormData();
    form.append('file', new Blob([audio.wav], { type: 'audio/wav' }), audio.name);
    form.append('model', id);
    // verbose_json gives each window's generated ids, so the fixed length is checked on the server's side too.
    form.append('response_format', fixed ? 'verbose_json' : 'json');
    if (row.maxNewTokens) form.append('max_new_tokens', String(row.maxNewTokens));
    if (fixed) form.append('repetition_guard', 'false');
    const res = await fetch(url, { method: 'POST', body: form });
    const body = await res.text();
    if (res.status !== 200) return `HTTP ${res.status}: ${body.slice(0, 200)}`;
    const json = JSON.parse(body) as { text?: unknown; segments?: { tokens: number[] }[] };
    if (json.text !== reference) return `server text differs: ${JSON.stringify(json.text)}`;
    return fixed
      ? notFixed(
          (json.segments ?? []).map((s) => s.tokens.length),
          row.maxNewTokens!,
        )
      : null;
  };
  for (let i = 0; i < row.warmups; i++) {
    const warm = await viaServer();
    if (warm !== null) throw new Error(`${label}: the warm-up request failed: ${warm}`);
  }
  console.log(
    `${label}: warm-up ${(warmMs / 1000).toFixed(2)} s in-process; text ${JSON.stringify(reference.slice(0, 80))}${reference.length > 80 ? '…' : ''}`,
  );

  const levels: RowResult['levels'] = [];
  for (const clients of CLIENTS) {
    const total = Math.max(row.requests, clients);
    // Which side goes first alternates between levels, so a drift in the machine's speed does not favour one.
    const s0 = levels.length % 2 === 0 ? await closedLoop(clients, total, viaServer) : null;
    const p = await closedLoop(clients, total, inProcess);
    const s = s0 ?? (await closedLoop(clients, total, viaServer));
    levels.push({ server: s, inProcess: p });
    console.log(
      `${label} N=${clients}: server ${(s.wallMs / 1000).toFixed(1)} s, in-process ${(p.wallMs / 1000).toFixed(1)} s for ${total} requests`,
    );
  }
  return {
    name: model.name,
    variant: model.variant,
    audio: audio.name,
    audioSec: audio.sec,
    maxNewTokens: row.maxNewTokens ?? null,
    fixed,
    text: reference,
    levels,
    windows,
  };
}

/** The model loaded once in-process and once in a server, then each of its rows. */
async function benchModel(model: Model): Promise<RowResult[]> {
  const id = `${basename(model.dir)}@${model.variant}`;
  const t0 = performance.now();
  const source = directorySource(model.dir);
  const manifest = JSON.parse(await source.text('manifest.json')) as ModelManifest;
  // The same computation as the server's for this variant (a q4 takes q8's audio encoder where the CPU allows it:
  // encoder-variant.ts).
  const encoderVariant = cpuEncoderVariant(manifest, model.variant, hasInt8DotProduct());
  const pipeline = await GlmAsrPipeline.load(createNodeRuntime(), source, model.variant, { manifest, encoderVariant });
  const server = await start({
    port: 0,
    host: '127.0.0.1',
    dist: TEST_DIST,
    models: dirname(model.dir),
    preload: [id],
    concurrency: 1,
    queue: Math.max(...CLIENTS) * 2,
    quiet: true,
  }).catch(async (err: unknown) => {
    await pipeline.release();
    throw err;
  });
  console.log(
    `${model.name}: in-process pipeline and server (${id}) loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const results: RowResult[] = [];
  try {
    for (const row of model.rows) {
      try {
        results.push(await benchRow(model, row, pipeline, `${server.url}/v1/audio/transcriptions`, id));
      } catch (err) {
        console.log(`FAILED (${model.name} ${row.audio.name}): ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } finally {
    await server.stop();
    await pipeline.release();
  }
  return results;
}

const rps = (l: Level) => (l.requests * 1000) / l.wallMs;
const p50 = (l: Level) => percentile(l.latencies, 50) / 1000;
const p95 = (l: Level) => percentile(l.latencies, 95) / 1000;
/** Wall seconds per request / audio seconds. */
const rtf = (l: Level, audioSec: number) => l.wallMs / 1000 / l.requests / audioSec;
const overhead = (s: Level, p: Level) => p50(s) / p50(p) - 1;
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;
const tokensOf = (r: RowResult) => (r.maxNewTokens ? `${r.maxNewTokens}${r.fixed ? ' exact' : ' max'}` : 'default');

/** Median per-window timings of the measured in-process requests; decode tok/s counts the steps after the prefill. */
function windowStats(r: RowResult) {
  const w = r.windows;
  const tokens = median(w.map((x) => x.tokenIds.length));
  const decodeMs = median(w.map((x) => x.decodeMs));
  return {
    windows: w.length,
    encoderMs: median(w.map((x) => x.encoderMs)),
    prefillMs: median(w.map((x) => x.prefillMs)),
    decodeMs,
    tokens,
    decodeTokPerSec: decodeMs > 0 ? ((tokens - 1) * 1000) / decodeMs : NaN,
  };
}

function readAudio(name: string, wav: Uint8Array): Audio {
  const decoded = decodeWav(wav);
  if (decoded.sampleRateHz !== 16_000) throw new Error(`${name}: ${decoded.sampleRateHz} Hz, this bench needs 16 kHz`);
  const pcm = toMono(decoded.channels);
  return { name, wav, pcm, sec: pcm.length / 16_000 };
}

export async function benchServer(): Promise<void> {
  console.log('\n== Transcription server (POST /v1/audio/transcriptions, --concurrency 1) vs the pipeline in-process');
  const wavPath = speechPath(AUDIO);
  if (!existsSync(wavPath)) {
    console.log(`SKIPPED: ${wavPath} is absent (the real speech of ../shared/data/speech)`);
    return;
  }
  const short = readAudio(basename(AUDIO), new Uint8Array(readFileSync(wavPath)));
  const clips = speech(WINDOW_SEC);
  const window = readAudio(`speech-${WINDOW_SEC}s.wav`, encodeWav16(clips.samples, 16_000));
  console.log(
    `audio: ${AUDIO} (${short.sec.toFixed(2)} s) and ${window.name} (${clips.source}); ${intraOpThreads()} intra-op threads (onnxruntime's pool, the server's default); ` +
      `clients in a closed loop (${CLIENTS.join(', ')}); latency = request sent → answer read`,
  );

  const models: Model[] = [];
  const shortRow = (row: Omit<Row, 'audio'>): Row[] => (ROWS.has('short') ? [{ audio: short, ...row }] : []);
  const windowRow = (requests: number, warmups: number): Row[] =>
    WINDOW_TOKENS > 0 && ROWS.has('window')
      ? [{ audio: window, requests, warmups, maxNewTokens: WINDOW_TOKENS, fixed: true }]
      : [];
  const tiny = resolve(ROOT, 'build/test-artifacts/models/tiny');
  if (existsSync(resolve(tiny, 'manifest.json')))
    models.push({
      name: 'tiny fp32',
      dir: tiny,
      variant: 'fp32',
      rows: [...shortRow({ requests: 24, warmups: 3 }), ...windowRow(8, 2)],
    });
  else console.log(`SKIPPED (tiny): ${tiny} is absent (scripts/test-artifacts.sh builds it)`);
  const full = fullModelManifest(false);
  // The variant the server serves a bare model id at on this CPU, or GLMASR_BENCH_SERVER_VARIANTS (e.g. "q4,q8").
  const asked = process.env['GLMASR_BENCH_SERVER_VARIANTS']?.split(',');
  const fullVariants = full ? (asked ?? [cpuDefaultVariant(full, hasInt8DotProduct())!]) : [];
  for (const variant of fullVariants) {
    if (!isVariant(variant) || !Object.hasOwn(full!.variants, variant)) {
      console.log(`SKIPPED (full-size ${variant}): the full model has no such variant`);
      continue;
    }
    models.push({
      name: `full-size ${variant}`,
      dir: FULL_MODEL,
      variant,
      rows: [
        ...shortRow({ requests: FULL_REQUESTS, warmups: 1, maxNewTokens: FULL_TOKENS }),
        ...windowRow(FULL_REQUESTS, 1),
      ],
    });
  }

  const results: RowResult[] = [];
  for (const model of models) if (model.rows.length) results.push(...(await benchModel(model)));
  if (!results.length) return;

  const head = ['model', 'audio', 'tokens', 'N', 'reqs', 'server req/s', 'p50 s', 'p95 s', 'in-proc req/s', 'p50 s'];
  const rows: (string | number)[][] = [
    [...head, 'p95 s', 'overhead p50', 'errors (both)', 'RTF server', 'RTF in-proc'],
  ];
  for (const r of results)
    for (const { server: s, inProcess: p } of r.levels)
      rows.push([
        r.name,
        `${r.audio} ${r.audioSec.toFixed(1)} s`,
        tokensOf(r),
        s.clients,
        s.requests,
        rps(s).toFixed(2),
        p50(s).toFixed(3),
        p95(s).toFixed(3),
        rps(p).toFixed(2),
        p50(p).toFixed(3),
        p95(p).toFixed(3),
        pct(overhead(s, p)),
        `${s.errors + p.errors}/${s.requests + p.requests}`,
        rtf(s, r.audioSec).toFixed(3),
        rtf(p, r.audioSec).toFixed(3),
      ]);
  console.log(table(rows));
  const timing: (string | number)[][] = [
    ['model', 'audio', 'tokens', 'windows', 'encoder ms', 'prefill ms', 'decode ms', 'decode tok/s', 'window s', 'RTF'],
  ];
  for (const r of results) {
    const w = windowStats(r);
    const sec = (w.encoderMs + w.prefillMs + w.decodeMs) / 1000;
    timing.push([
      r.name,
      r.audio,
      w.tokens,
      w.windows,
      w.encoderMs.toFixed(0),
      w.prefillMs.toFixed(0),
      w.decodeMs.toFixed(0),
      w.decodeTokPerSec.toFixed(2),
      sec.toFixed(2),
      (sec / Math.min(r.audioSec, WINDOW_SEC)).toFixed(3),
    ]);
  }
  console.log('in-process windows (medians; decode tok/s = (tokens − 1) / decode s, the prefill gives the first):');
  console.log(table(timing));
  for (const r of results) {
    const worst = Math.max(...r.levels.map((l) => overhead(l.server, l.inProcess)));
    const errors = r.levels.reduce((n, l) => n + l.server.errors + l.inProcess.errors, 0);
    const first = r.levels.flatMap((l) => [l.server.firstError, l.inProcess.firstError]).find((e) => e);
    console.log(
      `${r.name} ${r.audio} (${tokensOf(r)} tokens): worst server overhead ${pct(worst)} (goal ≤ +10%): ` +
        `${worst <= 0.1 ? 'met' : 'NOT met'}; ${errors} errors${first ? ` (first: ${first})` : ''}`,
    );
  }
  const summary = {
    bench: 'server',
    audio: AUDIO,
    audioSec: short.sec,
    threads: intraOpThreads(),
    models: results.map((r) => {
      const w = windowStats(r);
      return {
        name: r.name,
        variant: r.variant,
        audio: r.audio,
        audioSec: +r.audioSec.toFixed(3),
        maxNewTokens: r.maxNewTokens,
        fixedTokens: r.fixed,
        window: {
          encoderMs: +w.encoderMs.toFixed(1),
          prefillMs: +w.prefillMs.toFixed(1),
          decodeMs: +w.decodeMs.toFixed(1),
          tokens: w.tokens,
          decodeTokPerSec: +w.decodeTokPerSec.toFixed(3),
        },
        levels: r.levels.map(({ server: s, inProcess: p }) => ({
          clients: s.clients,
          requests: s.requests,
          server: { rps: +rps(s).toFixed(3), p50: +p50(s).toFixed(3), p95: +p95(s).toFixed(3), errors: s.errors },
          inProcess: { rps: +rps(p).toFixed(3), p50: +p50(p).toFixed(3), p95: +p95(p).toFixed(3), errors: p.errors },
          overheadP50: +overhead(s, p).toFixed(4),
          rtfServer: +rtf(s, r.audioSec).toFixed(4),
          rtfInProcess: +rtf(p, r.audioSec).toFixed(4),
        })),
      };
    }),
  };
  console.log(JSON.stringify(summary));
}
