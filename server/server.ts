/**
 * The app's server: the built PWA (dist/) with cross-origin isolation, model directories under /models/<id>/, and
 * OpenAI's transcription API under /v1/ (server/api/) on the same pipeline the app runs, on onnxruntime-node.
 * This file is the CLI and the wiring; `start()` runs it in-process (tests, benches).  Plain node:http(s).
 *
 *   tsx server/server.ts [--port 8080] [--host 127.0.0.1] [--models DIR] [--preload id@variant]... (--help)
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { answerPreflight, bearerCheck, corsHeaders } from './api/auth.ts';
import { ApiError, sendError } from './api/errors.ts';
import { ModelRegistry } from './api/models.ts';
import { JobQueue } from './api/queue.ts';
import { handleTranscription } from './api/transcriptions.ts';
import { ISOLATION_HEADERS, safeJoin, serveFile } from './static.ts';
import { DEFAULT_SOURCE, FirstRun } from './first-run.ts';
import type { ModelList, PreparingStatus } from '../workers/asr/openai-api.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface ServerOptions {
  port: number;
  host: string;
  dist: string;
  /** Parent directory of the model directories (served under /models/ and by the API). */
  models: string;
  /** Pipelines to load before listening: `id` or `id@variant`, or 'all' (each model at its CPU variant).  Default: none (loaded on first use). */
  preload?: readonly string[] | 'all';
  /** onnxruntime intra-op threads per pipeline (0: one per core). */
  threads?: number;
  /** Most pipelines loaded at once by requests (preloads not counted against it). */
  maxLoaded?: number;
  maxUploadMb?: number;
  maxAudioMin?: number;
  /** Jobs running at once. */
  concurrency?: number;
  /** Jobs waiting beyond those; more is a 429. */
  queue?: number;
  /** Bearer key for /v1/ (none: open). */
  apiKey?: string;
  /** Origins allowed to call /v1/ from a browser ('*' for any). */
  allowOrigins?: readonly string[];
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  bodyIdleTimeoutMs?: number;
  /** PEM files: serve HTTPS. */
  tlsCert?: string;
  tlsKey?: string;
  /** No request log (the default in-process; the command line logs unless --quiet). */
  quiet?: boolean;
}

export const DEFAULTS = {
  threads: 0,
  maxUploadMb: 100,
  maxAudioMin: 120,
  concurrency: 1,
  queue: 16,
  maxLoaded: 4,
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 300_000,
  bodyIdleTimeoutMs: 30_000,
} as const;

export type AppServer = (Server | HttpsServer) & {
  /** The port actually listened on (port 0 → the one the OS chose). */
  readonly port: number;
  /** `http(s)://host:port` */
  readonly url: string;
  readonly models: ModelRegistry;
  readonly jobs: JobQueue;
  /** What GET /v1/models reports as `preparing` (the CLI's first start sets it). */
  setPreparing(status: () => PreparingStatus | null): void;
  /** Close every connection, stop listening and release the pipelines. */
  stop(): Promise<void>;
};

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...ISOLATION_HEADERS, ...headers, 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

interface Context {
  options: ServerOptions;
  models: ModelRegistry;
  /** The first start's preparation (server/first-run.ts), reported by GET /v1/models while it matters. */
  preparing: () => PreparingStatus | null;
  queue: JobQueue;
  checkKey: (req: IncomingMessage) => void;
  origins: ReadonlySet<string>;
}

/** An error answered before the body was read: answer, then drain briefly and close (so the client sees it). */
function answerEarly(req: IncomingMessage, res: ServerResponse, err: unknown, headers: Record<string, string>) {
  if (req.complete || req.destroyed) {
    sendError(res, err, headers);
    return;
  }
  sendError(res, err, { ...headers, Connection: 'close' });
  let drained = 0;
  const cap = 4 << 20; // read at most 4 MiB more, so a client still sending sees the answer instead of a reset
  const destroy = () => req.socket.destroy();
  req.on('data', (c: Buffer) => {
    drained += c.length;
    if (drained > cap) destroy();
  });
  req.resume();
  res.on('finish', () => setTimeout(destroy, 2000).unref());
}

async function api(req: IncomingMessage, res: ServerResponse, path: string, ctx: Context): Promise<void> {
  const headers = corsHeaders(req, ctx.origins);
  try {
    if (req.method === 'OPTIONS') {
      answerPreflight(req, res, ctx.origins);
      return;
    }
    ctx.checkKey(req);
    if (path === '/v1/audio/transcriptions') {
      if (req.method !== 'POST')
        throw new ApiError(405, 'invalid_request_error', 'method_not_allowed', `use POST on ${path}`);
      await handleTranscription(req, res, {
        models: ctx.models,
        queue: ctx.queue,
        headers,
        limits: {
          maxUploadBytes: (ctx.options.maxUploadMb ?? DEFAULTS.maxUploadMb) * 2 ** 20,
          maxAudioSec: (ctx.options.maxAudioMin ?? DEFAULTS.maxAudioMin) * 60,
          bodyIdleMs: ctx.options.bodyIdleTimeoutMs ?? DEFAULTS.bodyIdleTimeoutMs,
        },
      });
      return;
    }
    if (path === '/v1/models' || path.startsWith('/v1/models/')) {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        throw new ApiError(405, 'invalid_request_error', 'method_not_allowed', `use GET on ${path}`);
      await ctx.models.scan();
      const list = ctx.models.list();
      if (path === '/v1/models') {
        const preparing = ctx.preparing();
        sendJson(res, 200, preparing ? { ...list, preparing } : list, headers);
        return;
      }
      const id = decodeURIComponent(path.slice('/v1/models/'.length));
      const one = list.data.find((m) => m.id === id);
      if (!one) throw new ApiError(404, 'not_found_error', 'model_not_found', `no model ${id}`, 'model');
      sendJson(res, 200, one, headers);
      return;
    }
    throw new ApiError(404, 'not_found_error', 'unknown_endpoint', `no API endpoint ${req.method} ${path}`);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'client_closed') {
      res.destroy();
      return;
    }
    answerEarly(req, res, err, headers);
  }
}

export function handler(ctx: Context) {
  const dist = resolve(ctx.options.dist);
  const models = resolve(ctx.options.models);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (path === '/v1' || path.startsWith('/v1/')) {
      await api(req, res, path, ctx);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, {
        error: { message: `${req.method} is not allowed on ${path}`, type: 'invalid_request_error' },
      });
      return;
    }
    if (path === '/healthz') {
      sendJson(res, 200, {
        ok: true,
        jobs: { running: ctx.queue.running, queued: ctx.queue.queued, uploading: ctx.queue.uploading },
        models: ctx.models.loadedKeys(),
      });
      return;
    }
    if (path === '/models/index.json') {
      // The served models for the app's model card, outside the API: no key needed, and a page that keeps audio on
      // the device never calls /v1/.
      await ctx.models.scan();
      const list = ctx.models.list();
      const preparing = ctx.preparing();
      const index: ModelList = { object: 'list', data: list.data.filter((m) => !m.glmasr?.variant) };
      sendJson(res, 200, preparing ? { ...index, preparing } : index, { 'Cache-Control': 'no-store' });
      return;
    }
    if (path.startsWith('/models/')) {
      const file = safeJoin(models, path.slice('/models'.length));
      if (!file || !(await serveFile(req, res, file, 'revalidate'))) {
        sendJson(res, 404, { error: { message: `no such model file: ${path}`, type: 'not_found' } });
      }
      return;
    }
    const file = safeJoin(dist, path === '/' ? '/index.html' : path);
    const immutable = path.startsWith('/assets/');
    if (file && (await serveFile(req, res, file, immutable ? 'immutable' : 'revalidate'))) return;
    if (path.startsWith('/assets/') || /\.[a-z0-9]+$/i.test(path)) {
      sendJson(res, 404, { error: { message: `not found: ${path}`, type: 'not_found' } });
      return;
    }
    // SPA fallback: any other path is the app.
    if (!(await serveFile(req, res, resolve(dist, 'index.html'), 'revalidate'))) {
      sendJson(res, 503, { error: { message: 'the app is not built: run `npm run build`', type: 'server_error' } });
    }
  };
}

export async function start(options: ServerOptions): Promise<AppServer> {
  const models = new ModelRegistry(
    options.models,
    options.threads ?? DEFAULTS.threads,
    options.maxLoaded ?? DEFAULTS.maxLoaded,
  );
  const preload = options.preload ?? [];
  if (preload === 'all' || preload.length) await models.preload(preload === 'all' ? [] : preload);
  else await models.scan();
  const ctx: Context = {
    options,
    models,
    queue: new JobQueue(options.concurrency ?? DEFAULTS.concurrency, options.queue ?? DEFAULTS.queue),
    checkKey: bearerCheck(options.apiKey),
    origins: new Set(options.allowOrigins ?? []),
    preparing: () => null,
  };
  const handle = handler(ctx);
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const t0 = performance.now();
    // The command line logs unless --quiet; in-process users (tests, benches) only when they ask (quiet: false).
    if (options.quiet === false) {
      res.on('close', () => {
        const status = res.headersSent ? res.statusCode : 499;
        const ms = (performance.now() - t0).toFixed(0);
        console.log(`${req.method} ${(req.url ?? '/').split('?')[0]} ${status} ${ms}ms`);
      });
    }
    handle(req, res).catch((error: unknown) => {
      // Anything a route did not answer itself: never crash the server.
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(error), type: 'server_error' } });
      else res.destroy();
    });
  };
  const headersTimeout = options.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs;
  const timeouts = {
    headersTimeout,
    requestTimeout: Math.max(options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs, headersTimeout),
    // How often node checks those two (its default, 30 s, would let a short timeout run long).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, headersTimeout / 4)),
  };
  const tls = options.tlsCert || options.tlsKey;
  if (tls && !(options.tlsCert && options.tlsKey)) throw new Error('--tls-cert and --tls-key go together');
  const server: Server | HttpsServer = tls
    ? createHttpsServer(
        { ...timeouts, cert: readFileSync(options.tlsCert as string), key: readFileSync(options.tlsKey as string) },
        onRequest,
      )
    : createServer(timeouts, onRequest);
  server.on('close', () => void models.close());
  try {
    await new Promise<void>((resolvePromise, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => resolvePromise());
    });
  } catch (err) {
    await models.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return Object.assign(server, {
    port,
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    models,
    jobs: ctx.queue,
    setPreparing: (status: () => PreparingStatus | null) => {
      ctx.preparing = status;
    },
    stop: async () => {
      const closed = new Promise<void>((ok) => server.close(() => ok()));
      server.closeAllConnections();
      await closed;
      await models.close();
    },
  });
}

const HELP = `usage: npm start -- [options]        (or: npx tsx server/server.ts [options])

  --port <n>               port (default 8080, env PORT; 0 = any free port)
  --host <addr>            address (default 127.0.0.1, env HOST; 0.0.0.0 for the LAN)
  --dist <dir>             the built app (default dist/)
  --models <dir>           parent of model directories: served under /models/ and by the API (default models/, env MODELS_DIR)
  --preload <id@variant>   load this model before serving (repeatable; default: every model directory, variant
                           q4, q8, fp32, q4f16 or fp16, the first it has); --preload none loads on first use
  --max-loaded <n>         models loaded on first use stop at this many loaded in all (default ${DEFAULTS.maxLoaded}; 503 beyond)
  --threads <n>            onnxruntime threads per model (default 0: one per core)
  --concurrency <n>        transcription jobs at once (default ${DEFAULTS.concurrency})
  --queue <n>              jobs waiting beyond those; more gets 429 + Retry-After (default ${DEFAULTS.queue})
  --max-upload-mb <n>      largest upload, 413 beyond (default ${DEFAULTS.maxUploadMb})
  --max-audio-min <n>      longest audio, 413 beyond (default ${DEFAULTS.maxAudioMin})
  --api-key <key>          require Authorization: Bearer <key> on /v1/ (default env GLMASR_API_KEY; none: open)
  --allow-origin <origin>  allow browser calls to /v1/ from this origin (repeatable; '*' any; default none)
  --headers-timeout-s <n>  time to receive the request headers (default ${DEFAULTS.headersTimeoutMs / 1000})
  --request-timeout-s <n>  time to receive a whole request, upload included (default ${DEFAULTS.requestTimeoutMs / 1000})
  --body-idle-timeout-s <n>  longest pause inside an upload (default ${DEFAULTS.bodyIdleTimeoutMs / 1000})
  --tls-cert <pem> --tls-key <pem>   serve HTTPS
  --quiet                  no request log

first start (when --models holds no converted model):
  --model-source <src>     checkpoint to download and convert: a hub id owner/name[@revision] or a checkpoint
                           directory (default ${DEFAULT_SOURCE}, env GLMASR_MODEL_SOURCE); resumable
  --no-convert             serve without a model instead
`;

function positive(name: string, value: string, allowZero = false): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new Error(`--${name} must be a positive number`);
  return n;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let options: ServerOptions;
  let firstRun = { source: DEFAULT_SOURCE, noConvert: false };
  try {
    const { values } = parseArgs({
      options: {
        port: { type: 'string', default: process.env['PORT'] ?? '8080' },
        host: { type: 'string', default: process.env['HOST'] ?? '127.0.0.1' },
        dist: { type: 'string', default: resolve(ROOT, 'dist') },
        models: { type: 'string', default: process.env['MODELS_DIR'] ?? resolve(ROOT, 'models') },
        preload: { type: 'string', multiple: true },
        threads: { type: 'string', default: String(DEFAULTS.threads) },
        'max-loaded': { type: 'string', default: String(DEFAULTS.maxLoaded) },
        concurrency: { type: 'string', default: String(DEFAULTS.concurrency) },
        queue: { type: 'string', default: String(DEFAULTS.queue) },
        'max-upload-mb': { type: 'string', default: String(DEFAULTS.maxUploadMb) },
        'max-audio-min': { type: 'string', default: String(DEFAULTS.maxAudioMin) },
        'api-key': { type: 'string', default: process.env['GLMASR_API_KEY'] },
        'allow-origin': { type: 'string', multiple: true },
        'headers-timeout-s': { type: 'string', default: String(DEFAULTS.headersTimeoutMs / 1000) },
        'request-timeout-s': { type: 'string', default: String(DEFAULTS.requestTimeoutMs / 1000) },
        'body-idle-timeout-s': { type: 'string', default: String(DEFAULTS.bodyIdleTimeoutMs / 1000) },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        quiet: { type: 'boolean', default: false },
        'model-source': { type: 'string', default: process.env['GLMASR_MODEL_SOURCE'] ?? DEFAULT_SOURCE },
        'no-convert': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    firstRun = { source: values['model-source'], noConvert: values['no-convert'] };
    if (values.help) {
      process.stdout.write(HELP);
      process.exit(0);
    }
    const preload = values.preload ?? [];
    options = {
      port: positive('port', values.port, true),
      host: values.host,
      dist: values.dist,
      models: values.models,
      preload: preload.length === 0 ? 'all' : preload.includes('none') ? [] : preload,
      threads: positive('threads', values.threads, true),
      maxLoaded: Math.floor(positive('max-loaded', values['max-loaded'])),
      concurrency: Math.floor(positive('concurrency', values.concurrency)),
      queue: Math.floor(positive('queue', values.queue, true)),
      maxUploadMb: positive('max-upload-mb', values['max-upload-mb']),
      maxAudioMin: positive('max-audio-min', values['max-audio-min']),
      apiKey: values['api-key'] || undefined,
      allowOrigins: values['allow-origin'] ?? [],
      headersTimeoutMs: positive('headers-timeout-s', values['headers-timeout-s']) * 1000,
      requestTimeoutMs: positive('request-timeout-s', values['request-timeout-s']) * 1000,
      bodyIdleTimeoutMs: positive('body-idle-timeout-s', values['body-idle-timeout-s']) * 1000,
      tlsCert: values['tls-cert'],
      tlsKey: values['tls-key'],
      quiet: values.quiet,
    };
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : err}\n\n${HELP}`);
    process.exit(2);
  }
  start(options).then(
    (server) => {
      const loaded = server.models.loadedKeys();
      console.log(
        `GLM-ASR web app on ${server.url}/  API ${server.url}/v1  (models from ${options.models}; ` +
          `loaded: ${loaded.length ? loaded.join(', ') : 'none'}${options.apiKey ? '; API key required' : ''})`,
      );
      const first = new FirstRun({
        models: options.models,
        source: firstRun.source,
        noConvert: firstRun.noConvert,
        root: ROOT,
        log: (line) => console.log(line),
        // Served like every model found at start: preloaded at its CPU variant unless --preload says otherwise.
        onReady: async (id) => {
          if (options.preload === 'all') await server.models.preload([id]).catch(() => undefined);
        },
      });
      server.setPreparing(() => first.status());
      first.run(server.models).catch((err: unknown) => console.error(`first start: ${String(err)}`));
      const shutdown = () => {
        void first
          .stop()
          .then(() => server.stop())
          .then(() => process.exit(0));
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
    },
    (error: unknown) => {
      console.error(
        `could not start on ${options.host}:${options.port}: ${error instanceof Error ? error.message : error}`,
      );
      process.exit(1);
    },
  );
}
