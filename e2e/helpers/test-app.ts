/**
 * The app server in-process on the test build with the test models (`startTestApp`: the live and library benches),
 * and the same behind a proxy of the suite's own on 127.0.0.1 (`proxiedApp`): the e2e network witness logs what it forwards, the WebKit suite puts an error collector into
 * every HTML page.  The browser opens the proxy's origin; each request goes on to the app unchanged except for the
 * host header and the caller's `headers`.
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { type AppServer, type ServerOptions, start } from '../../server/server.ts';
import { TEST_DIST } from './dist.ts';
import { ARTIFACTS } from './paths.ts';

export interface ProxyOptions {
  /** Sees each request before it is forwarded. */
  onRequest?: (req: IncomingMessage) => void;
  /** Headers added to (or replacing) the forwarded request's. */
  headers?: Record<string, string>;
  /** Answers the browser from the app's response (default: passed through as it is). */
  respond?: (upstream: IncomingMessage, res: ServerResponse) => void;
}

export interface ProxiedApp {
  /** The origin the browser opens (the proxy's), without a trailing slash. */
  origin: string;
  /** Stop the proxy and the app server (the browser then finds nothing there: offline). */
  close(): Promise<void>;
}

/** Pass the app's response through unchanged. */
export function passThrough(upstream: IncomingMessage, res: ServerResponse): void {
  res.writeHead(upstream.statusCode ?? 502, upstream.headers);
  upstream.pipe(res);
}

/** server/server.ts on 127.0.0.1 (any free port unless `options` say), the test build, the test models, quiet. */
export function startTestApp(options: Partial<ServerOptions> = {}): Promise<AppServer> {
  return start({
    port: 0,
    host: '127.0.0.1',
    dist: TEST_DIST,
    models: resolve(ARTIFACTS, 'models'),
    quiet: true,
    ...options,
  });
}

export async function proxiedApp(options: ProxyOptions = {}): Promise<ProxiedApp> {
  const app = await startTestApp();
  const target = app.port;
  const respond = options.respond ?? passThrough;
  const proxy = createServer((req, res) => {
    options.onRequest?.(req);
    const upstream = request(
      {
        host: '127.0.0.1',
        port: target,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: `127.0.0.1:${target}`, ...options.headers },
      },
      (r) => respond(r, res),
    );
    upstream.on('error', (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(upstream);
  });
  const port = await new Promise<number>((ok) =>
    proxy.listen(0, '127.0.0.1', () => ok((proxy.address() as AddressInfo).port)),
  );
  return {
    origin: `http://127.0.0.1:${port}`,
    async close() {
      proxy.closeAllConnections();
      await new Promise<void>((ok) => proxy.close(() => ok()));
      await app.stop();
    },
  };
}
