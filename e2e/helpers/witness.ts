/**
 * Independent witnesses of the network: the app server (server/server.ts on the test build) behind a pass-through
 * proxy that logs every request it forwards — from the page, its workers and its service worker alike, since they
 * all reach the app's origin through it — and the browser context's own request events for every other origin.
 */
import type { BrowserContext } from '@playwright/test';
import { proxiedApp } from './test-app.ts';

export interface WitnessedApp {
  /** The origin the browser opens (the proxy's), without a trailing slash. */
  origin: string;
  /** "METHOD /path?query" of every request that reached the app's origin, in order. */
  readonly log: string[];
  close(): Promise<void>;
}

export async function witnessedApp(): Promise<WitnessedApp> {
  const log: string[] = [];
  const app = await proxiedApp({ onRequest: (req) => log.push(`${req.method} ${req.url}`) });
  return { origin: app.origin, log, close: () => app.close() };
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
