/**
 * The app's server: the built PWA (dist/) with cross-origin isolation, model directories under /models/<id>/, and
 * (issue 5 onwards) the OpenAI-compatible transcription endpoint.  Plain node:http, no framework.
 *
 *   tsx server/server.ts [--port 8080] [--host 127.0.0.1] [--dist dist] [--models build/test-artifacts/models]
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ISOLATION_HEADERS, safeJoin, serveFile } from './static.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface ServerOptions {
  port: number;
  host: string;
  dist: string;
  models: string;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { ...ISOLATION_HEADERS, 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

export function handler(options: ServerOptions) {
  const dist = resolve(options.dist);
  const models = resolve(options.models);
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, {
        error: { message: `${req.method} is not allowed on ${path}`, type: 'invalid_request_error' },
      });
      return;
    }
    if (path === '/healthz') {
      sendJson(res, 200, { ok: true });
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

export function start(options: ServerOptions) {
  const server = createServer((req, res) => {
    handler(options)(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(error), type: 'server_error' } });
      else res.destroy();
    });
  });
  return new Promise<typeof server>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolvePromise(server));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env['PORT'] ?? '8080' },
      host: { type: 'string', default: process.env['HOST'] ?? '127.0.0.1' },
      dist: { type: 'string', default: resolve(ROOT, 'dist') },
      models: { type: 'string', default: process.env['MODELS_DIR'] ?? resolve(ROOT, 'models') },
    },
  });
  const options: ServerOptions = {
    port: Number(values.port),
    host: values.host,
    dist: values.dist,
    models: values.models,
  };
  start(options).then(
    () => console.log(`GLM-ASR web app on http://${options.host}:${options.port}/  (models from ${options.models})`),
    (error: unknown) => {
      console.error(`could not listen on ${options.host}:${options.port}: ${String(error)}`);
      process.exit(1);
    },
  );
}
