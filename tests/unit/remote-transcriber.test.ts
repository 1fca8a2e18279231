/**
 * RemoteTranscriber (src/core/remote/remote-transcriber.ts) against real HTTP servers on 127.0.0.1: the project's own server
 * (server/server.ts, tiny model: stream and verbose_json must give the goldens' text and token ids per window), a
 * plain-json-only OpenAI-compatible server standing in for vLLM / llama.cpp (node:http + busboy around the real
 * pipeline on onnxruntime-node: the client must fall back to json), and small servers that misbehave on real
 * sockets (resets, 503, 429 + Retry-After, a closed port, 401, a hang, a stall mid-stream).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import busboy from 'busboy';
import OpenAI, { toFile } from 'openai';
import type { TranscriptionCreateParamsNonStreaming } from 'openai/resources/audio/transcriptions';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SAMPLE_RATE_HZ } from '../../src/core/constants.ts';
import { createNodeRuntime } from '../../server/ort/node.ts';
import { GlmAsrPipeline } from '../../src/core/asr/pipeline.ts';
import { RemoteTranscriber } from '../../src/core/remote/remote-transcriber.ts';
import { BackendUnavailable, type WindowSpan } from '../../src/core/asr/window-transcriber.ts';
import type { TranscribeEvent } from '../../src/core/asr/contract.ts';
import { planWindows } from '../../src/core/asr/windows.ts';
import { decodeWav, encodeWavFloat32, toMono } from '../../src/core/dsp/wav.ts';
import { directorySource } from '../../server/model-source.ts';
import { GOLDENS_MISSING, SPEECH_MISSING } from '../helpers/data.ts';
import { clipAudio, type GoldenClip, type Goldens, goldens, modelDir } from '../helpers/goldens.ts';
import { startTestServer } from '../helpers/server.ts';

const skipGoldens = () => Boolean(SPEECH_MISSING() || GOLDENS_MISSING('tiny'));

/* ------------------------------------------------------------------------------------------------------------ */
/* Small real servers                                                                                              */

interface Post {
  fields: Record<string, string>;
  file: { name: string; mime: string; bytes: Buffer } | null;
  auth: string | undefined;
  at: number;
}

interface TestServer {
  base: string;
  /** The root without /v1. */
  root: string;
  port: number;
  posts: Post[];
  server: Server;
  close(): Promise<void>;
}

function readForm(req: IncomingMessage): Promise<Omit<Post, 'at' | 'auth'>> {
  return new Promise((resolvePromise, reject) => {
    const fields: Record<string, string> = {};
    let file: Post['file'] = null;
    const parser = busboy({ headers: req.headers });
    parser.on('field', (name, value) => (fields[name] = value));
    parser.on('file', (_name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => (file = { name: info.filename ?? '', mime: info.mimeType, bytes: Buffer.concat(chunks) }));
    });
    parser.on('close', () => resolvePromise({ fields, file }));
    parser.on('error', reject);
    req.pipe(parser);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

const MODELS = ['whisper-large-v3', 'zai-org/GLM-ASR-Nano-2512'];

/**
 * An OpenAI-shaped server on 127.0.0.1: `GET /v1/models` lists MODELS; each `POST /v1/audio/transcriptions` is
 * parsed (fields and file, recorded in `posts`) and handed to `onPost` with its 1-based number.
 */
async function serve(
  onPost: (res: ServerResponse, post: Post, n: number) => void | Promise<void>,
  opts: { apiKey?: string } = {},
): Promise<TestServer> {
  const posts: Post[] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const auth = req.headers.authorization;
    if (opts.apiKey && auth !== `Bearer ${opts.apiKey}`) {
      req.resume();
      sendJson(res, 401, {
        error: { message: 'Incorrect API key provided', type: 'authentication_error', code: 'invalid_api_key' },
      });
      return;
    }
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, {
        object: 'list',
        data: MODELS.map((id) => ({ id, object: 'model', created: 0, owned_by: 't' })),
      });
      return;
    }
    if (req.method === 'POST' && path === '/v1/audio/transcriptions') {
      readForm(req).then(
        async (form) => {
          const post = { ...form, auth, at: performance.now() };
          posts.push(post);
          await onPost(res, post, posts.length);
        },
        (err: unknown) => sendJson(res, 400, { error: { message: String(err) } }),
      );
      return;
    }
    req.resume();
    sendJson(res, 404, { error: { message: `no route ${req.method} ${path}`, type: 'not_found_error' } });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    root: `http://127.0.0.1:${port}`,
    base: `http://127.0.0.1:${port}/v1`,
    port,
    posts,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A port that was just free (listened on, then closed): nobody answers there. */
async function deadPort(): Promise<number> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** 1 s of a 440 Hz tone at 16 kHz: audible, so the client sends it. */
function tone(seconds = 1): Float32Array {
  const out = new Float32Array(Math.round(seconds * SAMPLE_RATE_HZ));
  for (let i = 0; i < out.length; i++) out[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / SAMPLE_RATE_HZ);
  return out;
}
const SPAN: WindowSpan = { index: 0, startSec: 0, endSec: 1 };

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** The golden windows of a clip as the job runner would cut them (planWindows), checked against the goldens. */
function clipWindows(clip: GoldenClip): { pcm: Float32Array; spans: (WindowSpan & { start: number; end: number })[] } {
  const pcm = clipAudio(clip);
  const planned = planWindows(pcm);
  expect(planned, clip.id).toEqual(clip.windows.map((w) => ({ start: w.start, end: w.end })));
  return {
    pcm,
    spans: planned.map((w, index) => ({
      index,
      start: w.start,
      end: w.end,
      startSec: w.start / SAMPLE_RATE_HZ,
      endSec: w.end / SAMPLE_RATE_HZ,
    })),
  };
}

/** The goldens' ids without the EOS that ends them (verbose_json's `tokens` exclude it, openai-api.ts). */
function withoutEos(g: Goldens, ids: number[]): number[] {
  return ids.length && g.eos_token_ids.includes(ids.at(-1)!) ? ids.slice(0, -1) : ids;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* The project's own server                                                                                        */

describe.skipIf(skipGoldens())('our server (server/server.ts, tiny@fp32)', () => {
  let base = '';
  let root = '';
  let stop: () => Promise<void> = async () => {};
  const g = skipGoldens() ? null : goldens('tiny');

  beforeAll(async () => {
    const server = await startTestServer();
    root = server.url;
    base = `${root}/v1`;
    stop = () => server.stop();
  });
  afterAll(() => stop());

  test('connect: lists the models, takes a URL without /v1', async () => {
    const remote = await RemoteTranscriber.connect(root, { model: 'tiny@fp32' });
    expect(remote.baseUrl).toBe(base);
    expect(remote.models).toContain('tiny@fp32');
    expect(remote.label).toBe(`server ${base} (tiny@fp32)`);
    expect(remote.backend).toBe('server');
  });

  test('with --api-key: a wrong or missing key is named (401)', async () => {
    const keyed = await startTestServer({ preload: [], apiKey: 'right-key' });
    try {
      const wrong = await rejection(RemoteTranscriber.connect(`${keyed.url}/v1`, { apiKey: 'wrong-key' }));
      expect(wrong).toBeInstanceOf(BackendUnavailable);
      expect((wrong as Error).message).toMatch(/401.*the API key is wrong/);
      const none = await rejection(RemoteTranscriber.connect(`${keyed.url}/v1`));
      expect((none as Error).message).toMatch(/401.*the API key is missing/);
      const remote = await RemoteTranscriber.connect(`${keyed.url}/v1`, { apiKey: 'right-key' });
      expect(remote.models).toContain('tiny@fp32');
    } finally {
      await keyed.stop();
    }
  });

  test('stream: every golden window gives the goldens text, tokens arrive as they are decoded', async () => {
    const remote = await RemoteTranscriber.connect(base, { model: 'tiny@fp32' });
    let windows = 0;
    let events = 0;
    for (const clip of g!.clips) {
      const { pcm, spans } = clipWindows(clip);
      for (const span of spans) {
        const received: TranscribeEvent[] = [];
        const r = await remote.transcribeWindow(pcm.subarray(span.start, span.end), span, {
          maxNewTokens: g!.max_new_tokens,
          onEvent: (e) => received.push(e),
        });
        const golden = clip.windows[span.index]!;
        expect(r.text, `${clip.id}/${span.index}`).toBe(golden.text);
        expect(r.tokenIds).toEqual([]);
        expect(r.index).toBe(span.index);
        expect(r.decodeMs).toBeGreaterThan(0);
        // One event per delta: the server sends one per decoded token that extends the text (a token ending inside
        // a UTF-8 character waits for the next), so at most one per token before the EOS, and they add up to the text.
        const tokens = received.flatMap((e) => (e.type === 'token' ? [e] : []));
        expect(tokens.length, `${clip.id}/${span.index} events`).toBeGreaterThan(0);
        expect(tokens.length).toBeLessThanOrEqual(withoutEos(g!, golden.token_ids).length);
        expect(tokens.map((e) => e.generated)).toEqual(tokens.map((_, i) => i + 1));
        expect(tokens.every((e) => r.text.startsWith(e.text))).toBe(true);
        expect(tokens.at(-1)!.text).toBe(r.text);
        expect(tokens.every((e) => e.index === span.index && e.tokenId === -1 && e.cap === g!.max_new_tokens)).toBe(
          true,
        );
        events += tokens.length;
        windows++;
      }
    }
    expect(remote.mode).toBe('stream');
    console.log(`[our server] stream: ${windows} windows equal the goldens' text (${events} token events)`);
  });

  test('verbose_json: the goldens text and token ids per window', async () => {
    const remote = await RemoteTranscriber.connect(base, { model: 'tiny@fp32', mode: 'verbose_json' });
    for (const clip of g!.clips) {
      const { pcm, spans } = clipWindows(clip);
      for (const span of spans) {
        const r = await remote.transcribeWindow(pcm.subarray(span.start, span.end), span, {
          maxNewTokens: g!.max_new_tokens,
        });
        const golden = clip.windows[span.index]!;
        expect(r.text, `${clip.id}/${span.index}`).toBe(golden.text);
        expect(r.tokenIds, `${clip.id}/${span.index}`).toEqual(withoutEos(g!, golden.token_ids));
        expect(r.stopReason).toBe(golden.token_ids.length >= g!.max_new_tokens ? 'max-tokens' : 'eos');
      }
    }
    expect(remote.mode).toBe('verbose_json');
  });
});

/* ------------------------------------------------------------------------------------------------------------ */
/* A plain-json-only OpenAI-compatible server (stands for vLLM / llama.cpp's server)                               */

describe.skipIf(skipGoldens())('a server that only speaks plain json', () => {
  let pipeline: GlmAsrPipeline;
  let srv: TestServer;
  const g = skipGoldens() ? null : goldens('tiny');

  beforeAll(async () => {
    pipeline = await GlmAsrPipeline.load(createNodeRuntime(1), directorySource(modelDir('tiny')), 'fp32');
    srv = await serve(async (res, post) => {
      if (post.fields['stream'] === 'true') {
        sendJson(res, 400, {
          error: { message: 'stream is not supported', type: 'invalid_request_error', param: null, code: null },
        });
        return;
      }
      const format = post.fields['response_format'] ?? 'json';
      if (format !== 'json') {
        sendJson(res, 400, {
          error: { message: `response_format ${format} is not supported`, type: 'invalid_request_error', code: null },
        });
        return;
      }
      if (!post.file || !MODELS.includes(post.fields['model'] ?? '')) {
        sendJson(res, 400, {
          error: { message: 'file and a served model are required', type: 'invalid_request_error' },
        });
        return;
      }
      const pcm = toMono(decodeWav(new Uint8Array(post.file.bytes)).channels);
      const cap = Number(post.fields['max_new_tokens']);
      const t = await pipeline.transcribe(pcm, Number.isInteger(cap) && cap > 0 ? { maxNewTokens: cap } : {});
      sendJson(res, 200, { text: t.text, usage: { type: 'duration', seconds: t.audioSec } });
    });
  });
  afterAll(async () => {
    await srv?.close();
    await pipeline?.release();
  });

  test('the client falls back to json (detected once) and gives the goldens text per window', async () => {
    const remote = await RemoteTranscriber.connect(srv.base);
    expect(remote.model).toBe('zai-org/GLM-ASR-Nano-2512'); // /glm-?asr/i over the first listed
    let windows = 0;
    for (const clip of g!.clips) {
      const { pcm, spans } = clipWindows(clip);
      for (const span of spans) {
        const r = await remote.transcribeWindow(pcm.subarray(span.start, span.end), span, {
          maxNewTokens: g!.max_new_tokens,
        });
        expect(r.text, `${clip.id}/${span.index}`).toBe(clip.windows[span.index]!.text);
        expect(r.tokenIds).toEqual([]);
        expect(r.stopReason).toBe('eos');
        windows++;
      }
    }
    expect(remote.mode).toBe('json');
    // stream → 400, verbose_json → 400, then json; every later window asks for json at once.
    const asked = srv.posts.map((p) =>
      p.fields['stream'] === 'true' ? 'stream' : (p.fields['response_format'] ?? ''),
    );
    expect(asked).toEqual(['stream', 'verbose_json', ...Array<string>(windows).fill('json')]);
    const first = srv.posts[0]!;
    expect(first.file?.name).toBe('window-0.wav');
    expect(first.file?.mime).toBe('audio/wav');
    expect(first.fields['max_new_tokens']).toBe(String(g!.max_new_tokens));
    expect(decodeWav(new Uint8Array(first.file!.bytes)).format).toBe('float32');
    console.log(`[json-only server] ${windows} windows, ${srv.posts.length} requests (2 for detection)`);
  });

  test('the stand-in is OpenAI-compatible: the official openai client gets the same text, and a typed 400 for stream', async () => {
    const client = new OpenAI({ baseURL: srv.base, apiKey: 'unused', maxRetries: 0 });
    const clip = g!.clips.find((c) => c.windows.length === 1)!;
    const wav = encodeWavFloat32(clipAudio(clip), SAMPLE_RATE_HZ);
    const file = await toFile(wav, 'clip.wav', { type: 'audio/wav' });
    const out = await client.audio.transcriptions.create({
      file,
      model: 'zai-org/GLM-ASR-Nano-2512',
      response_format: 'json',
      max_new_tokens: g!.max_new_tokens,
    } as TranscriptionCreateParamsNonStreaming); // max_new_tokens: our extension, sent as an extra form field
    expect(out.text).toBe(clip.windows[0]!.text);
    const err = await rejection(
      client.audio.transcriptions.create({ file, model: 'zai-org/GLM-ASR-Nano-2512', stream: true }),
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
  });
});

/* ------------------------------------------------------------------------------------------------------------ */
/* Faults on real sockets                                                                                          */

describe('faults', () => {
  const ok = (res: ServerResponse) => sendJson(res, 200, { text: 'hello', usage: { type: 'duration', seconds: 1 } });

  test('a URL without /v1 is found under /v1; bad URLs and non-API answers are named', async () => {
    const srv = await serve(ok);
    try {
      const remote = await RemoteTranscriber.connect(`${srv.root}/`);
      expect(remote.baseUrl).toBe(srv.base);
      const err = await rejection(RemoteTranscriber.connect(`${srv.root}/api`));
      expect(err).toBeInstanceOf(BackendUnavailable);
      expect((err as BackendUnavailable).reason).toBe('server-error');
      expect((err as Error).message).toContain(`${srv.root}/api/models`);
      expect((err as Error).message).toContain('404');
      const bad = await rejection(RemoteTranscriber.connect('not a url'));
      expect((bad as Error).message).toMatch(/not a URL/);
    } finally {
      await srv.close();
    }
  });

  test('connection reset twice, then an answer: three attempts, the default backoff between them', async () => {
    const srv = await serve((res, _post, n) => {
      if (n <= 2) res.socket?.resetAndDestroy();
      else ok(res);
    });
    try {
      const remote = await RemoteTranscriber.connect(srv.base);
      const t0 = performance.now();
      const r = await remote.transcribeWindow(tone(), SPAN, {});
      const ms = performance.now() - t0;
      expect(r.text).toBe('hello');
      expect(srv.posts.length).toBe(3);
      const gaps = [srv.posts[1]!.at - srv.posts[0]!.at, srv.posts[2]!.at - srv.posts[1]!.at];
      console.log(`[reset×2] 3 attempts, ${ms.toFixed(0)} ms, gaps ${gaps.map((x) => x.toFixed(0)).join(', ')} ms`);
      expect(gaps[0]).toBeGreaterThanOrEqual(490);
      expect(gaps[0]).toBeLessThan(800);
      expect(gaps[1]).toBeGreaterThanOrEqual(990);
      expect(gaps[1]).toBeLessThan(1300);
    } finally {
      await srv.close();
    }
  });

  test('always 503: BackendUnavailable(server-error) after exactly 3 attempts, within the backoff bound', async () => {
    const srv = await serve((res) =>
      sendJson(res, 503, { error: { message: 'overloaded', type: 'server_error', code: null } }),
    );
    try {
      const remote = await RemoteTranscriber.connect(srv.base);
      const t0 = performance.now();
      const err = await rejection(remote.transcribeWindow(tone(), SPAN, {}));
      const ms = performance.now() - t0;
      console.log(`[503] ${srv.posts.length} attempts, gave up after ${ms.toFixed(0)} ms: ${(err as Error).message}`);
      expect(err).toBeInstanceOf(BackendUnavailable);
      expect((err as BackendUnavailable).backend).toBe('server');
      expect((err as BackendUnavailable).reason).toBe('server-error');
      expect((err as Error).message).toContain('503');
      expect((err as Error).message).toContain('overloaded');
      expect(srv.posts.length).toBe(3);
      expect(ms).toBeGreaterThanOrEqual(1500);
      expect(ms).toBeLessThan(1800);
    } finally {
      await srv.close();
    }
  });

  test('429 with Retry-After: 1 once: waits that second, then succeeds; a huge Retry-After is capped', async () => {
    const srv = await serve((res, _post, n) => {
      if (n === 1)
        sendJson(res, 429, { error: { message: 'queue full', type: 'rate_limit_error' } }, { 'Retry-After': '1' });
      else if (n === 3) sendJson(res, 429, { error: { message: 'queue full' } }, { 'Retry-After': '3600' });
      else ok(res);
    });
    try {
      const remote = await RemoteTranscriber.connect(srv.base, { maxRetryAfterMs: 300 });
      // maxRetryAfterMs 300 would cap a 1 s Retry-After: use a second client with the default cap for the first case.
      const plain = await RemoteTranscriber.connect(srv.base);
      let t0 = performance.now();
      expect((await plain.transcribeWindow(tone(), SPAN, {})).text).toBe('hello');
      const waited = srv.posts[1]!.at - srv.posts[0]!.at;
      console.log(
        `[429 Retry-After: 1] 2 attempts, ${(performance.now() - t0).toFixed(0)} ms, waited ${waited.toFixed(0)} ms`,
      );
      expect(srv.posts.length).toBe(2);
      expect(waited).toBeGreaterThanOrEqual(990);
      expect(waited).toBeLessThan(1300);
      t0 = performance.now();
      expect((await remote.transcribeWindow(tone(), SPAN, {})).text).toBe('hello');
      const capped = srv.posts[3]!.at - srv.posts[2]!.at;
      console.log(`[429 Retry-After: 3600, cap 300 ms] waited ${capped.toFixed(0)} ms`);
      expect(capped).toBeGreaterThanOrEqual(290);
      expect(capped).toBeLessThan(600);
    } finally {
      await srv.close();
    }
  });

  test('a port nobody listens on: server-unreachable, at once for connect, after 3 attempts mid-job', async () => {
    const port = await deadPort();
    let t0 = performance.now();
    const err = await rejection(RemoteTranscriber.connect(`http://127.0.0.1:${port}/v1`));
    const connectMs = performance.now() - t0;
    expect(err).toBeInstanceOf(BackendUnavailable);
    expect((err as BackendUnavailable).reason).toBe('server-unreachable');
    expect((err as Error).message).toContain(`http://127.0.0.1:${port}/v1/models`);
    expect((err as Error).message).toContain('ECONNREFUSED');
    expect(connectMs).toBeLessThan(500);

    // A server that goes away between windows.
    const srv = await serve(ok);
    const remote = await RemoteTranscriber.connect(srv.base, { retryDelaysMs: [100, 200] });
    expect((await remote.transcribeWindow(tone(), SPAN, {})).text).toBe('hello');
    await srv.close();
    t0 = performance.now();
    const gone = await rejection(remote.transcribeWindow(tone(), { ...SPAN, index: 1 }, {}));
    const goneMs = performance.now() - t0;
    console.log(
      `[closed port] connect failed in ${connectMs.toFixed(0)} ms; mid-job gave up in ${goneMs.toFixed(0)} ms`,
    );
    expect(gone).toBeInstanceOf(BackendUnavailable);
    expect((gone as BackendUnavailable).reason).toBe('server-unreachable');
    expect((gone as Error).message).toMatch(/gave up after 3 attempts/);
    expect(goneMs).toBeGreaterThanOrEqual(300);
    expect(goneMs).toBeLessThan(800);
  });

  test('401: a missing or wrong key is named; the right one is sent as a Bearer token', async () => {
    const srv = await serve(ok, { apiKey: 'right-key' });
    try {
      const wrong = await rejection(RemoteTranscriber.connect(srv.base, { apiKey: 'wrong-key' }));
      expect(wrong).toBeInstanceOf(BackendUnavailable);
      expect((wrong as Error).message).toMatch(/401.*the API key is wrong.*Incorrect API key provided/);
      const none = await rejection(RemoteTranscriber.connect(srv.base));
      expect((none as Error).message).toMatch(/the API key is missing/);
      const remote = await RemoteTranscriber.connect(srv.base, { apiKey: 'right-key' });
      expect((await remote.transcribeWindow(tone(), SPAN, {})).text).toBe('hello');
      expect(srv.posts[0]!.auth).toBe('Bearer right-key');
    } finally {
      await srv.close();
    }
  });

  test('abort mid-request rejects at once with the reason and is never retried', async () => {
    const srv = await serve(() => {}); // never answers
    try {
      const remote = await RemoteTranscriber.connect(srv.base);
      const controller = new AbortController();
      const reason = new Error('cancelled by the test');
      const pending = rejection(remote.transcribeWindow(tone(), SPAN, { signal: controller.signal }));
      while (srv.posts.length === 0) await new Promise((r) => setTimeout(r, 10));
      const t0 = performance.now();
      controller.abort(reason);
      const err = await pending;
      const ms = performance.now() - t0;
      expect(err).toBe(reason);
      await new Promise((r) => setTimeout(r, 1000)); // longer than the first backoff
      console.log(
        `[abort, waiting for headers] rejected ${ms.toFixed(1)} ms after abort; requests: ${srv.posts.length}`,
      );
      expect(ms).toBeLessThan(50);
      expect(srv.posts.length).toBe(1);
    } finally {
      await srv.close();
    }
  });

  test('abort while the event stream is being read rejects at once with the reason', async () => {
    const srv = await serve((res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.write(`data: ${JSON.stringify({ type: 'transcript.text.delta', delta: 'hel' })}\n\n`);
      // … and then nothing more
    });
    try {
      const remote = await RemoteTranscriber.connect(srv.base);
      const controller = new AbortController();
      const events: TranscribeEvent[] = [];
      const pending = rejection(
        remote.transcribeWindow(tone(), SPAN, {
          signal: controller.signal,
          maxNewTokens: 7,
          onEvent: (e) => {
            events.push(e);
            controller.abort('stop now');
          },
        }),
      );
      const err = await pending;
      expect(err).toBe('stop now');
      expect(events).toEqual([{ type: 'token', index: 0, tokenId: -1, text: 'hel', generated: 1, cap: 7 }]);
      await new Promise((r) => setTimeout(r, 700));
      expect(srv.posts.length).toBe(1);
    } finally {
      await srv.close();
    }
  });

  test('a server that never answers: the request time limit, retried, then server-unreachable', async () => {
    const srv = await serve(() => {});
    try {
      const remote = await RemoteTranscriber.connect(srv.base, { timeoutMs: 300, retryDelaysMs: [50] });
      const t0 = performance.now();
      const err = await rejection(remote.transcribeWindow(tone(), SPAN, {}));
      const ms = performance.now() - t0;
      console.log(`[hang, 300 ms limit] ${srv.posts.length} attempts, ${ms.toFixed(0)} ms: ${(err as Error).message}`);
      expect(err).toBeInstanceOf(BackendUnavailable);
      expect((err as BackendUnavailable).reason).toBe('server-unreachable');
      expect((err as Error).message).toMatch(/no complete answer within 0\.3 s/);
      expect(srv.posts.length).toBe(3);
      expect(ms).toBeGreaterThanOrEqual(3 * 300 + 2 * 50);
      expect(ms).toBeLessThan(1600);
    } finally {
      await srv.close();
    }
  });

  test('a stream cut off before transcript.text.done is retried', async () => {
    const srv = await serve((res, _post, n) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ type: 'transcript.text.delta', delta: 'he' })}\n\n`);
      if (n === 1) {
        setTimeout(() => res.socket?.resetAndDestroy(), 100); // after the client has read the first delta
        return;
      }
      // CRLF line ends and a comment line are valid SSE too.
      res.write(`: keep-alive\r\ndata: ${JSON.stringify({ type: 'transcript.text.delta', delta: 'llo' })}\r\n\r\n`);
      res.end(`data: ${JSON.stringify({ type: 'transcript.text.done', text: 'hello', usage: {} })}\n\n`);
    });
    try {
      const remote = await RemoteTranscriber.connect(srv.base, { retryDelaysMs: [50] });
      const events: TranscribeEvent[] = [];
      const r = await remote.transcribeWindow(tone(), SPAN, { onEvent: (e) => events.push(e) });
      expect(r.text).toBe('hello');
      expect(srv.posts.length).toBe(2);
      expect(events.map((e) => (e.type === 'token' ? e.text : ''))).toEqual(['he', 'he', 'hello']);
      expect(remote.mode).toBe('stream');
    } finally {
      await srv.close();
    }
  });

  test("vLLM's stream shape (chat chunks, then [DONE]) gives the text; an unknown shape moves to JSON", async () => {
    // vLLM's TranscriptionStreamResponse: {object: 'transcription.chunk', choices: [{delta: {content}}]} ... [DONE]
    const chunk = (content: string) =>
      `data: ${JSON.stringify({ id: 'trsc-1', object: 'transcription.chunk', created: 1, model: 'm', choices: [{ delta: { content } }] })}\n\n`;
    const vllm = await serve((res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.end(chunk('he') + chunk('') + chunk('llo') + 'data: [DONE]\n\n');
    });
    const odd = await serve((res, post) => {
      if (post.fields['stream'] === 'true') {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.end(`data: ${JSON.stringify({ something: 'else' })}\n\ndata: [DONE]\n\n`);
      } else sendJson(res, 200, { text: 'from json', segments: [{ tokens: [5, 6] }] });
    });
    try {
      const remote = await RemoteTranscriber.connect(vllm.base);
      const events: TranscribeEvent[] = [];
      const r = await remote.transcribeWindow(tone(), SPAN, { onEvent: (e) => events.push(e) });
      expect(r.text).toBe('hello');
      expect(events.map((e) => (e.type === 'token' ? e.text : ''))).toEqual(['he', 'hello']);
      expect(remote.mode).toBe('stream');
      expect(vllm.posts.length).toBe(1);
      const other = await RemoteTranscriber.connect(odd.base, { retryDelaysMs: [10] });
      const r2 = await other.transcribeWindow(tone(), SPAN, {});
      expect(r2.text).toBe('from json');
      expect(r2.tokenIds).toEqual([5, 6]);
      expect(other.mode).toBe('verbose_json');
      expect(odd.posts.map((p) => p.fields['stream'] ?? p.fields['response_format'])).toEqual(['true', 'verbose_json']);
    } finally {
      await vllm.close();
      await odd.close();
    }
  });

  test('a chunk stream cut before [DONE] is retried, never taken as the text; deltas without done move to JSON; text is trimmed', async () => {
    const chunk = (content: string) => `data: ${JSON.stringify({ choices: [{ delta: { content } }] })}\n\n`;
    const cut = await serve((res, _post, n) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.end(n === 1 ? chunk(' half') : chunk(' whole') + chunk(' text') + 'data: [DONE]\n\n');
    });
    const noDone = await serve((res, post) => {
      if (post.fields['stream'] === 'true') {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.end(`data: ${JSON.stringify({ type: 'transcript.text.delta', delta: ' hi' })}\n\ndata: [DONE]\n\n`);
      } else sendJson(res, 200, { text: ' hi there ' });
    });
    try {
      const a = await RemoteTranscriber.connect(cut.base, { retryDelaysMs: [10] });
      const events: TranscribeEvent[] = [];
      const r = await a.transcribeWindow(tone(), SPAN, { onEvent: (e) => events.push(e) });
      expect(r.text).toBe('whole text');
      expect(cut.posts.length).toBe(2);
      expect(events.map((e) => (e.type === 'token' ? e.text : ''))).toEqual(['half', 'whole', 'whole text']);
      const b = await RemoteTranscriber.connect(noDone.base, { retryDelaysMs: [10] });
      const r2 = await b.transcribeWindow(tone(), SPAN, {});
      expect(r2.text).toBe('hi there');
      expect(b.mode).toBe('verbose_json');
    } finally {
      await cut.close();
      await noDone.close();
    }
  });

  test("an error event mid-stream in the openai SDK's shape ({error}) is a server error, retried", async () => {
    const srv = await serve((res, _post, n) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      if (n === 1)
        res.end(`data: ${JSON.stringify({ error: { message: 'decoder failed', type: 'server_error' } })}\n\n`);
      else res.end(`data: ${JSON.stringify({ type: 'transcript.text.done', text: 'ok', usage: {} })}\n\n`);
    });
    try {
      const remote = await RemoteTranscriber.connect(srv.base, { retryDelaysMs: [10] });
      const r = await remote.transcribeWindow(tone(), SPAN, {});
      expect(r.text).toBe('ok');
      expect(srv.posts.length).toBe(2);
    } finally {
      await srv.close();
    }
  });

  test('400 for bad input is not retried: a plain Error with the server message', async () => {
    const srv = await serve((res) =>
      sendJson(res, 400, {
        error: { message: 'the audio is truncated', type: 'invalid_request_error', code: 'not_audio' },
      }),
    );
    try {
      const remote = await RemoteTranscriber.connect(srv.base);
      const err = await rejection(remote.transcribeWindow(tone(), SPAN, {}));
      expect(err).not.toBeInstanceOf(BackendUnavailable);
      expect((err as Error).message).toMatch(/400.*the audio is truncated/);
      expect(srv.posts.length).toBe(1);
    } finally {
      await srv.close();
    }
  });

  test('a server that ignores stream and answers verbose JSON: its ids are used, later windows ask verbose_json', async () => {
    const srv = await serve((res) =>
      sendJson(res, 200, {
        text: ' hi',
        segments: [
          { id: 0, tokens: [5, 6] },
          { id: 1, tokens: [7] },
        ],
      }),
    );
    try {
      const remote = await RemoteTranscriber.connect(srv.base);
      const r = await remote.transcribeWindow(tone(), SPAN, {});
      expect(r).toMatchObject({ text: 'hi', tokenIds: [5, 6, 7], stopReason: 'eos', index: 0, promptTokens: 0 });
      await remote.transcribeWindow(tone(), { ...SPAN, index: 1 }, {});
      expect(srv.posts.map((p) => [p.fields['stream'], p.fields['response_format']])).toEqual([
        ['true', undefined],
        [undefined, 'verbose_json'],
      ]);
      expect(srv.posts[1]!.file?.name).toBe('window-1.wav');
    } finally {
      await srv.close();
    }
  });

  test('silence and too-short windows give an empty result without a request; NaN is refused', async () => {
    const srv = await serve(ok);
    try {
      const remote = await RemoteTranscriber.connect(srv.base);
      const silent = await remote.transcribeWindow(new Float32Array(16000), SPAN, {});
      expect(silent).toMatchObject({ text: '', tokenIds: [], stopReason: 'no-audio', audioTokens: 12 });
      const short = await remote.transcribeWindow(tone(0.004), SPAN, {});
      expect(short).toMatchObject({ text: '', stopReason: 'no-audio', audioTokens: 0 });
      const bad = tone();
      bad[10] = Number.NaN;
      expect(((await rejection(remote.transcribeWindow(bad, SPAN, {}))) as Error).message).toMatch(
        /sample 10 is not a finite/,
      );
      expect(srv.posts.length).toBe(0);
    } finally {
      await srv.close();
    }
  });
});
