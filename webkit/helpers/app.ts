/**
 * The app as the WebKit suite serves it: the real app server (the test build and the tiny test models), behind a small proxy
 * that puts an error collector at the top of every HTML page.  WebKitWebDriver has no log API and no BiDi, so this is
 * how the tests see console errors, uncaught errors, unhandled rejections and worker errors, including those during
 * the page's load (a listener installed afterwards with `execute` would miss them).  The proxy changes nothing else:
 * the service worker precaches the same pages through it.  The app's CSP admits the collector by its hash alone.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { passThrough, proxiedApp } from '../../e2e/helpers/test-app.ts';

/** Collects into `window.__errors`; a classic script, first in <head>, before any module runs. */
const COLLECTOR_JS = `(() => {
  const errors = (window.__errors = []);
  const add = (s) => errors.push(String(s).slice(0, 500));
  addEventListener('error', (e) => add(e.message ? 'error: ' + e.message + ' @ ' + e.filename + ':' + e.lineno
    : 'resource failed: ' + ((e.target && (e.target.src || e.target.href)) || '?')), true);
  addEventListener('unhandledrejection', (e) => add('unhandled rejection: ' + ((e.reason && e.reason.stack) || e.reason)));
  for (const level of ['error', 'warn']) {
    const original = console[level];
    console[level] = (...args) => { add(level + ': ' + args.map(String).join(' ')); return original.apply(console, args); };
  }
  const W = window.Worker;
  if (W) window.Worker = class extends W { constructor(...a) { super(...a); this.addEventListener('error', (e) => add('worker error: ' + (e.message || '?'))); } };
})()`;
const COLLECTOR = `<script>${COLLECTOR_JS}</script>`;
/** The app's Content-Security-Policy allows scripts from its origin only: the collector is let in by its hash, the
 *  rest of the policy stays as the server sent it (the app runs under it). */
const COLLECTOR_HASH = `'sha256-${createHash('sha256').update(COLLECTOR_JS).digest('base64')}'`;

function allowCollector(csp: string | string[] | undefined): string | undefined {
  if (typeof csp !== 'string') return undefined;
  return /(^|;)\s*script-src\b/.test(csp) ? csp.replace(/((?:^|;)\s*script-src\b)/, `$1 ${COLLECTOR_HASH}`) : csp;
}

export interface ServedApp {
  /** What the browser opens (the proxy). */
  url: string;
  /** Stop the proxy and the app server (the browser then finds nothing there: offline). */
  close(): Promise<void>;
}

/** HTML with the collector first in <head> (and the CSP admitting it); every other response as it is. */
function withCollector(r: IncomingMessage, res: ServerResponse): void {
  if (!(r.headers['content-type'] ?? '').startsWith('text/html')) return passThrough(r, res);
  const chunks: Buffer[] = [];
  r.on('data', (c: Buffer) => chunks.push(c));
  r.on('end', () => {
    const html = Buffer.concat(chunks).toString('utf8');
    const body = Buffer.from(html.replace(/<head[^>]*>/i, (head) => head + COLLECTOR));
    const headers: Record<string, string | string[] | undefined> = {
      ...r.headers,
      'content-length': String(body.length),
    };
    const csp = allowCollector(r.headers['content-security-policy']);
    if (csp) headers['content-security-policy'] = csp;
    delete headers['etag'];
    delete headers['last-modified'];
    res.writeHead(r.statusCode ?? 502, headers);
    res.end(body);
  });
}

export async function serveApp(): Promise<ServedApp> {
  // identity: the collector is spliced into the HTML as text.
  const app = await proxiedApp({ headers: { 'accept-encoding': 'identity' }, respond: withCollector });
  return { url: app.origin, close: () => app.close() };
}
