/**
 * Independent witnesses of the network: the app server (server/server.ts on the test build) behind a pass-through
 * proxy that logs every request it forwards — from the page, its workers and its service worker alike, since they
 * all reach the app's origin through it — and the browser context's own request events for every other origin.
 */
import type { BrowserContext } from '@playwright/test';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { start } from '../../server/server.ts';
import { TEST_DIST } from './dist.ts';
import { ARTIFACTS } from './paths.ts';

export interface WitnessedApp {
  /** The origin the browser opens (the proxy's), without a trailing slash. */
  origin: string;
  /** "METHOD /path?query" of every request that reached the app's origin, in order. */
  readonly log: string[];
  close(): Promise<void>;
}

export async function witnessedApp(): Promise<WitnessedApp> {
  const app = await start({
    port: 0,
    host: '127.0.0.1',
    dist: TEST_DIST,
    models: resolve(ARTIFACTS, 'models'),
    quiet: true,
  });
  const target = app.port;
  const log: string[] = [];
  const proxy: Server = createServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    const upstream = request(
      {
        host: '127.0.0.1',
        port: target,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: `127.0.0.1:${target}` },
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
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
    log,
    async close() {
      proxy.closeAllConnections();
      await new Promise<void>((ok) => proxy.close(() => ok()));
      await app.stop();
    },
  };
}

/** Every request the context's pages, workers and service workers start: "METHOD url (who)". */
export function contextRequests(context: BrowserContext): string[] {
  const seen: string[] = [];
  context.on('request', (r) => {
    const who = r.serviceWorker() ? 'service worker' : 'page or worker';
    seen.push(`${r.method()} ${r.url()} (${who})`);
  });
  return seen;
}
