/**
 * Fuzzing the real server (server/server.ts as a child process, the tiny test model preloaded, an API key set) with
 * structured mutations of whole HTTP requests (tests/server/fuzz/cases.ts): multipart uploads, headers, request
 * targets and audio files.  For every case:
 *  - the answer is a well-formed HTTP response (status line, headers, a body that matches its framing), unless the
 *    client itself cut the request short (then closing without an answer is right: there is no request to answer);
 *  - its status is below 500, apart from 503 `model_capacity`, the documented "no room for another model";
 *  - neither its headers nor its body contain a path of this machine (the project, the served directories, home,
 *    the temporary directory); a model directory's own files are exempt (served as published).
 * After every batch /healthz must answer, and the process must not have exited; an exit is a crash, counted with
 * the exact request that preceded it (the server is then started again, so one crash does not hide the rest).
 *
 * Seeded: FUZZ_SEED=<n> replays a run (the seed is printed either way).  FUZZ_CASES scales the number of cases
 * (default 600, about 30 s here); a longer run belongs to a bench.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ARTIFACTS, missing, ROOT } from '../helpers/data.ts';
import { audioCases, type Context, type FuzzCase, headerCases, multipartCases, urlCases } from './fuzz/cases.ts';
import { rawRequest, type RawResult } from './fuzz/raw-http.ts';
import { type ListeningServer, rssMiB, startServerProcess } from '../helpers/server-process.ts';

const MODELS = resolve(ARTIFACTS, 'models');
const MISSING = missing(resolve(MODELS, 'tiny/manifest.json'), 'built by scripts/test-artifacts.sh (npm test runs it)');
const SEED = Number(process.env['FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const TOTAL = Number(process.env['FUZZ_CASES'] ?? 600);
const API_KEY = 'fuzz-key-0123456789';
const BATCH = 25;

const DIST = resolve(mkdtempSync(resolve(tmpdir(), 'fuzz-dist-')), 'dist');
mkdirSync(resolve(DIST, 'assets'), { recursive: true });
writeFileSync(resolve(DIST, 'index.html'), '<!doctype html><title>fuzz</title>');
writeFileSync(resolve(DIST, 'assets/app.js'), 'export {};');

/** Directories of this machine that no answer may name. */
const PRIVATE = [...new Set([ROOT, MODELS, DIST, resolve(homedir()) + '/', resolve(tmpdir()) + '/'])].filter(
  (p) => p.length > 2,
);

const ARGS = [
  '--quiet',
  '--dist',
  DIST,
  '--models',
  MODELS,
  '--preload',
  'tiny@fp32',
  '--threads',
  '1',
  '--no-convert',
  '--max-upload-mb',
  '4',
  '--max-audio-min',
  '2',
  '--queue',
  '4',
  '--headers-timeout-s',
  '3',
  '--request-timeout-s',
  '20',
  '--body-idle-timeout-s',
  '2',
];

/** The server's command line with ARGS, its last 64 KiB of output kept for the report (`port`: a restart after a
 *  crash takes the port it had, which its exit freed). */
const startServer = (port = 0) =>
  startServerProcess(ARGS, { env: { GLMASR_API_KEY: API_KEY }, port, keepChars: 65536 });

let server: ListeningServer;
/** RSS once started (the model preloaded), to read the run's figure against. */
let rssAtStart = NaN;
beforeAll(async () => {
  if (MISSING) return;
  server = await startServer();
  rssAtStart = rssMiB(server.child.pid!).rss;
});
afterAll(async () => {
  await server?.stop();
});

interface Failure {
  label: string;
  problem: string;
  request: string;
}

/** The request as it can be replayed (printable, control bytes escaped; long bodies elided in the middle). */
function show(bytes: Buffer): string {
  const text = JSON.stringify(bytes.toString('latin1'));
  return text.length > 1500 ? `${text.slice(0, 1000)} …(${bytes.length} bytes)… ${text.slice(-300)}` : text;
}

function judge(c: FuzzCase, r: RawResult): string | null {
  if (!r.response) return c.clientCut ? null : `no well-formed answer: ${r.problem}`;
  const { status, headers, body } = r.response;
  if (status >= 500) {
    let code: string | null = null;
    try {
      code = (JSON.parse(body.toString()) as { error?: { code?: string } }).error?.code ?? null;
    } catch {
      // not JSON
    }
    if (!(status === 503 && code === 'model_capacity')) return `status ${status} (${body.toString().slice(0, 300)})`;
  }
  // A model directory's files are served as the operator published them (a manifest converted from a local
  // checkpoint records that checkpoint's path: the converter's matter); everything the server writes is checked.
  const target = c.bytes.subarray(0, 200).toString('latin1').split(' ')[1] ?? '';
  const published = /^\/models\/(?!index\.json)/.test(target) && (status === 200 || status === 206);
  const text = `${Object.values(headers).join('\n')}\n${published ? '' : body.toString('latin1')}`;
  const leaked = PRIVATE.find((p) => text.includes(p));
  if (leaked)
    return `the answer names ${leaked}: ${text.slice(Math.max(0, text.indexOf(leaked) - 100), text.indexOf(leaked) + 100)}`;
  return null;
}

async function healthy(): Promise<string | null> {
  const r = await rawRequest(
    server.port,
    `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`,
    {
      timeoutMs: 15_000,
    },
  );
  if (r.response?.status === 200) return null;
  return `/healthz: ${r.problem ?? `status ${r.response?.status}`}`;
}

test.skipIf(!!MISSING)(
  'the server survives structured fuzzing: every answer well-formed, < 500, without paths; no crash',
  async () => {
    console.log(`fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED}), ${TOTAL} cases`);
    const ctx: Context = { port: server.port, apiKey: API_KEY, origin: `http://127.0.0.1:${server.port}` };
    const kinds: [string, (c: Context) => fc.Arbitrary<FuzzCase>, number][] = [
      ['multipart', multipartCases, 0.3],
      ['headers', headerCases, 0.25],
      ['urls', urlCases, 0.25],
      ['audio', audioCases, 0.2],
    ];
    const failures: Failure[] = [];
    const crashes: Failure[] = [];
    const counts: Record<string, number> = {};
    const statuses: Record<string, number> = {};
    const t0 = performance.now();
    for (const [k, [kind, make, share]] of kinds.entries()) {
      const cases = fc.sample(make(ctx), { seed: SEED + k, numRuns: Math.max(1, Math.round(TOTAL * share)) });
      for (let i = 0; i < cases.length; i += BATCH) {
        for (const c of cases.slice(i, i + BATCH)) {
          counts[kind] = (counts[kind] ?? 0) + 1;
          // Only a request the client cut short is half-closed: a server may take a half-close as the client leaving.
          const r = await rawRequest(server.port, c.bytes, { end: c.clientCut, timeoutMs: 25_000 });
          const s = r.response ? String(r.response.status) : c.clientCut ? 'closed (client cut)' : 'none';
          statuses[s] = (statuses[s] ?? 0) + 1;
          // A crash shows as the process's exit; give it a moment to be noticed after the answer.
          if (!r.response) await new Promise((ok) => setTimeout(ok, 200));
          if (server.exit) {
            crashes.push({
              label: c.label,
              problem: `the server exited (${JSON.stringify(server.exit)}): ${server.log().slice(-1500)}`,
              request: show(c.bytes),
            });
            server = await startServer(ctx.port);
            continue;
          }
          const problem = judge(c, r);
          if (problem) failures.push({ label: c.label, problem, request: show(c.bytes) });
        }
        const health = server.exit ? 'exited' : await healthy();
        if (health) {
          crashes.push({ label: `${kind} batch at ${i}`, problem: health, request: '(the batch above)' });
          await server.stop();
          server = await startServer(ctx.port);
        }
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const mem = rssMiB(server.child.pid!);
    const run = Object.values(counts).reduce((a, b) => a + b, 0);
    console.log(
      `fuzz: ${run} cases in ${seconds.toFixed(1)} s (${JSON.stringify(counts)}); crashes ${crashes.length}; ` +
        `other failures ${failures.length}; statuses ${JSON.stringify(statuses)}; ` +
        `server RSS ${rssAtStart.toFixed(0)} MiB at start, ${mem.rss.toFixed(0)} MiB after the run ` +
        `(peak ${mem.peak.toFixed(0)} MiB); seed ${SEED}`,
    );
    for (const f of [...crashes, ...failures].slice(0, 20))
      console.log(`FAILED ${f.label}\n  ${f.problem}\n  request: ${f.request}`);
    expect(crashes, `crashes (seed ${SEED})`).toEqual([]);
    expect(failures, `failures (seed ${SEED})`).toEqual([]);
    expect(run).toBe(kinds.reduce((n, [, , share]) => n + Math.max(1, Math.round(TOTAL * share)), 0));
  },
  240_000,
);
