/**
 * The app's server: the built PWA (dist/) with cross-origin isolation, model directories under /models/<id>/, and
 * OpenAI's transcription API under /v1/ (server/api/) on the same pipeline the app runs, on onnxruntime-node.
 * This file is the wiring and the command line's entry (its options: server/cli.ts); `start()` runs it in-process
 * (tests, benches).  Plain node:http(s).  Before any route: the Host must name this server and the request target
 * must be a clean path (server/guard.ts, server/request-target.ts); /v1/ also checks the Origin.
 *
 *   tsx server/server.ts [--port 8080] [--host 127.0.0.1] [--models DIR] [--preload id@variant]... (--help)
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answerPreflight, bearerCheck, corsHeaders } from './api/auth.ts';
import { ApiError, sendError } from './api/errors.ts';
import { ModelRegistry } from './api/models.ts';
import { JobQueue } from './api/queue.ts';
import { handleTranscription } from './api/transcriptions.ts';
import { HELP, parseCommandLine, type CommandLine } from './cli.ts';
import { FirstRun } from './first-run.ts';
import { hostCheck, originAllowed } from './guard.ts';
import { DEFAULTS, type ServerOptions } from './options.ts';
import { publicModelList } from './public-path.ts';
import { parseTarget } from './request-target.ts';
import { APP_HEADERS, hasDotSegment, ISOLATION_HEADERS, NOSNIFF_HEADERS, serveFile } from './static.ts';
import type { ModelList, PreparingStatus } from '../src/core/remote/openai-api.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export { DEFAULTS, type ServerOptions } from './options.ts';

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
  res.writeHead(status, { ...APP_HEADERS, ...headers, 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

/** The plain JSON error of the non-API routes (the API's are OpenAI's shape, server/api/errors.ts). */
function notFound(res: ServerResponse, message: string): void {
  sendJson(res, 404, { error: { message, type: 'not_found' } });
}

interface Context {
  options: ServerOptions;
  models: ModelRegistry;
  /** The first start's preparation (server/first-run.ts), reported by GET /v1/models while it matters. */
  preparing: () => PreparingStatus | null;
  queue: JobQueue;
  checkKey: (req: IncomingMessage) => void;
  /** null when the Host header names this server, else why not (server/guard.ts). */
  checkHost: (host: string | undefined) => string | null;
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

async function api(
  req: IncomingMessage,
  res: ServerResponse,
  segments: string[],
  host: string | undefined,
  ctx: Context,
): Promise<void> {
  const headers = { ...corsHeaders(req, ctx.origins), ...NOSNIFF_HEADERS };
  const path = `/${segments.join('/')}`;
  try {
    // Before anything is read or run: a page of another origin may send a simple POST without a preflight.
    if (!originAllowed(req.headers.origin, host, ctx.origins)) {
      throw new ApiError(
        403,
        'invalid_request_error',
        'origin_not_allowed',
        `the origin ${JSON.stringify(req.headers.origin)} is not allowed to call this API (server flag --allow-origin)`,
      );
    }
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
    if (segments[1] === 'models' && segments.length <= 3) {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        throw new ApiError(405, 'invalid_request_error', 'method_not_allowed', `use GET on ${path}`);
      await ctx.models.scan();
      const list = publicModelList(ctx.models.list(), ROOT);
      const id = segments[2];
      if (id === undefined) {
        const preparing = ctx.preparing();
        sendJson(res, 200, preparing ? { ...list, preparing } : list, headers);
        return;
      }
      const one = list.data.find((m) => m.id === id);
      if (!one)
        throw new ApiError(404, 'not_found_error', 'model_not_found', `no model ${JSON.stringify(id)}`, 'model');
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

/** A model directory the registry serves (a directory added since the last scan is found). */
async function served(ctx: Context, id: string): Promise<boolean> {
  if (ctx.models.ids.includes(id)) return true;
  await ctx.models.scan();
  return ctx.models.ids.includes(id);
}

/**
 * /models/index.json: the served models for the app's model card, outside the API (no key needed, and a page that
 * keeps audio on the device never calls /v1/).  `preparing` tells the card which of three cases it is in:
 *  - no `preparing` and models listed: a model is ready;
 *  - `preparing.state` checking, downloading or converting: one is being prepared (poll again);
 *  - `preparing.state` unavailable, failed or skipped: there is none and the server will not get one by itself
 *    (hub unreachable, too little disk, --no-convert, a failed conversion) until its operator acts.
 * The command is for the server's operator; a server that wants an API key is not the visitor's to administer, so
 * it is left out there.
 */
async function modelIndex(res: ServerResponse, ctx: Context): Promise<void> {
  await ctx.models.scan();
  const list = publicModelList(ctx.models.list(), ROOT);
  const index: ModelList = { object: 'list', data: list.data.filter((m) => !m.glmasr?.variant) };
  const status = ctx.preparing();
  let preparing: (Omit<PreparingStatus, 'command'> & { command?: string }) | null = status;
  if (status && ctx.options.apiKey) {
    const { command: _omitted, ...rest } = status;
    preparing = rest;
  }
  sendJson(res, 200, preparing ? { ...index, preparing } : index, { 'Cache-Control': 'no-store' });
}

export function handler(ctx: Context) {
  const dist = resolve(ctx.options.dist);
  const models = resolve(ctx.options.models);
  const modelHeaders = { ...ISOLATION_HEADERS, ...NOSNIFF_HEADERS };
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = parseTarget(req.url);
    // An absolute-form target's authority is the host asked for (and the Host header is ignored).
    const host = target.ok && target.target.authority !== undefined ? target.target.authority : req.headers.host;
    const hostProblem = ctx.checkHost(host);
    if (hostProblem) {
      answerEarly(req, res, new ApiError(403, 'invalid_request_error', 'host_not_allowed', hostProblem), {
        ...NOSNIFF_HEADERS,
      });
      return;
    }
    if (!target.ok) {
      const err = new ApiError(400, 'invalid_request_error', 'bad_request_target', `bad request: ${target.reason}`);
      answerEarly(req, res, err, { ...NOSNIFF_HEADERS });
      return;
    }
    const { path, segments } = target.target;
    if (segments[0] === 'v1') {
      await api(req, res, segments, host, ctx);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const err = new ApiError(
        405,
        'invalid_request_error',
        'method_not_allowed',
        `${req.method} is not allowed on ${path}`,
      );
      answerEarly(req, res, err, { ...APP_HEADERS, Allow: 'GET, HEAD' });
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
    if (segments[0] === 'models') {
      if (path === '/models/index.json') {
        await modelIndex(res, ctx);
        return;
      }
      // Only inside a served model's directory: not the converter's `.NAME.partial`, not a stray file or link
      // beside the models.  A served directory may itself be a link the operator made; nothing inside it may
      // lead out of it.
      const [, id, ...rest] = segments;
      const ok = id !== undefined && rest.length > 0 && !hasDotSegment(segments) && (await served(ctx, id));
      if (!ok || !(await serveFile(req, res, resolve(models, id), rest, 'revalidate', modelHeaders)))
        notFound(res, `no such model file: ${path}`);
      return;
    }
    const file = segments.length ? segments : ['index.html'];
    const immutable = segments[0] === 'assets';
    if (await serveFile(req, res, dist, file, immutable ? 'immutable' : 'revalidate', APP_HEADERS)) return;
    if (immutable || /\.[a-z0-9]+$/i.test(segments.at(-1) ?? '')) {
      notFound(res, `not found: ${path}`);
      return;
    }
    // SPA fallback: any other path is the app.
    if (!(await serveFile(req, res, dist, ['index.html'], 'revalidate', APP_HEADERS))) {
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
  const tls = options.tlsCert || options.tlsKey;
  const ctx: Context = {
    options,
    models,
    queue: new JobQueue(options.concurrency ?? DEFAULTS.concurrency, options.queue ?? DEFAULTS.queue),
    checkKey: bearerCheck(options.apiKey),
    // Set once the port is known (port 0 → the one the OS chose); nothing is answered before.
    checkHost: () => 'the server is starting',
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
      // Anything a route did not answer itself: never crash the server, and never show the client its details
      // (they may name the server's files); the log has them.
      if (options.quiet === false) console.error(`${req.method} ${req.url}: ${String(error)}`);
      if (!res.headersSent) sendJson(res, 500, { error: { message: 'internal error', type: 'server_error' } });
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
  if (tls && !(options.tlsCert && options.tlsKey)) throw new Error('--tls-cert and --tls-key go together');
  const server: Server | HttpsServer = tls
    ? createHttpsServer(
        { ...timeouts, cert: readFileSync(options.tlsCert as string), key: readFileSync(options.tlsKey as string) },
        onRequest,
      )
    : createServer(timeouts, onRequest);
  server.on('close', () => void models.close());
  // CONNECT (a proxy tunnel) is not a request node hands to the handler; unanswered, node drops the connection.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    const body = JSON.stringify({
      error: { message: 'CONNECT is not supported: this is not a proxy', type: 'invalid_request_error' },
    });
    socket.on('error', () => undefined);
    socket.end(
      `HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST, OPTIONS\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `X-Content-Type-Options: nosniff\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
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
  ctx.checkHost = hostCheck({ bindHost: options.host, port, allowHosts: options.allowHosts ?? [] }, tls ? 443 : 80);
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

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let cli: CommandLine;
  try {
    cli = parseCommandLine(process.argv.slice(2), process.env, ROOT);
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : err}\n\n${HELP}`);
    process.exit(2);
  }
  if (cli.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const { options, firstRun } = cli;
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
