/**
 * `npm run bench -- upload`: the server's memory under long uploads.  The server runs as its own process (its
 * command line, tiny test model, `--concurrency 1 --queue 16`), so its resident memory is read from
 * /proc/<pid>/status without the bench's own; it is sampled every 20 ms.  The upload is a 119-minute Opus file
 * (one minute encoded at 6 kbit/s, its packets copied 119 times: ~5 MB; decoded it is 119 × 60 × 16000 × 4 B =
 * 457 MB of samples).
 *
 * Side by side in one run: the peak RSS above the idle server for 1 upload and for 8 concurrent uploads (1 running,
 * 7 queued).  Goal: bounded by the decode concurrency, not the queue length: the 8-client rise at most 1.5× the
 * 1-client rise (were each queued request holding its samples, it would be ~8×).  Every answer must be 200.
 * `max_new_tokens=1` keeps the tiny model's decode short, but its encoder still runs over all 238 windows (~2 min a
 * job on one busy core), so the 8-client phase stops after GLMASR_BENCH_UPLOAD_ANSWERS jobs (default 2) are answered
 * and cancels the rest: the queue stays full of uploads throughout, and the second job shows the first one's samples
 * freed before its own decode.  Exits non-zero when the goal is missed or a request fails.  Ends with one JSON
 * summary line.
 *
 * GLMASR_BENCH_UPLOAD_CLIENTS (default 8), GLMASR_BENCH_UPLOAD_PORT (default 4310).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { ARTIFACTS } from '../tests/helpers/data.ts';
import { type ListeningServer, rssMiB, startServerProcess } from '../tests/helpers/server-process.ts';
import { ROOT, table } from './common.ts';

const CLIENTS = Number(process.env['GLMASR_BENCH_UPLOAD_CLIENTS'] ?? 8);
/** Jobs answered before the rest are cancelled (the first two show one decode's samples freed before the next). */
const ANSWERS = Number(process.env['GLMASR_BENCH_UPLOAD_ANSWERS'] ?? 2);
const PORT = Number(process.env['GLMASR_BENCH_UPLOAD_PORT'] ?? 4310);
const MINUTES = 119;
const CACHE = resolve(ROOT, 'build', 'bench-upload');
const MODELS = resolve(ARTIFACTS, 'models');
const GOAL_RATIO = 1.5;

function ffmpeg(args: string[]): void {
  const r = spawnSync('ffmpeg', ['-y', '-hide_banner', '-loglevel', 'error', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr}`);
}

/** The long upload, made once and kept under build/. */
function longOpus(): string {
  const out = resolve(CACHE, `tone-${MINUTES}min.ogg`);
  if (existsSync(out)) return out;
  mkdirSync(CACHE, { recursive: true });
  const minute = resolve(CACHE, 'tone-1min.ogg');
  ffmpeg(['-f', 'lavfi', '-i', 'sine=f=300:d=60:sample_rate=16000', '-c:a', 'libopus', '-b:a', '6k', minute]);
  ffmpeg(['-stream_loop', String(MINUTES - 1), '-i', minute, '-c', 'copy', out]);
  return out;
}

/** The server's command line on PORT with the tiny test model (its pid is the server's, not a launcher's). */
function startServer(): Promise<ListeningServer> {
  return startServerProcess(
    [
      ...['--models', MODELS, '--preload', 'tiny@fp32', '--threads', '1'],
      ...['--concurrency', '1', '--queue', '16', '--quiet', '--no-convert'],
    ],
    { port: PORT },
  );
}

interface Phase {
  clients: number;
  answered: number;
  wallS: number;
  baseMb: number;
  peakMb: number;
  failures: string[];
}

/** One multipart POST on node:http (no client-side timeout: a queued request may wait many minutes). */
function post(url: string, file: Uint8Array, name: string): { done: Promise<string | null>; cancel: () => void } {
  const b = `bench${Math.random().toString(16).slice(2)}`;
  const field = (k: string, v: string) => `--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`;
  const body = Buffer.concat([
    Buffer.from(field('model', 'tiny@fp32') + field('max_new_tokens', '1')),
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n\r\n`),
    file,
    Buffer.from(`\r\n--${b}--\r\n`),
  ]);
  let cancelled = false;
  const req = request(`${url}/v1/audio/transcriptions`, {
    method: 'POST',
    headers: { 'Content-Type': `multipart/form-data; boundary=${b}`, 'Content-Length': body.length },
  });
  const done = new Promise<string | null>((resolvePromise) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        let ok = false;
        try {
          ok = res.statusCode === 200 && typeof (JSON.parse(text) as { text?: unknown }).text === 'string';
        } catch {
          // not JSON: reported below
        }
        resolvePromise(ok ? null : `${res.statusCode} ${text.slice(0, 200)}`);
      });
    });
    req.on('error', (err) => resolvePromise(cancelled ? 'cancelled' : String(err)));
  });
  req.end(body);
  return {
    done,
    cancel: () => {
      cancelled = true;
      req.destroy();
    },
  };
}

/**
 * `clients` uploads at once; once `answers` of them are answered the rest are cancelled (each later job would be
 * the same: one decode at a time while the others wait with their compressed bytes).
 */
async function phase(file: Uint8Array, clients: number, answers: number): Promise<Phase> {
  // A fresh server each time: a finished job's samples are garbage the next allocation collects, not before, so an
  // idle reading after a phase would count them.
  const server = await startServer();
  try {
    return await measure(server, file, clients, answers);
  } finally {
    await server.stop();
  }
}

async function measure(server: ListeningServer, file: Uint8Array, clients: number, answers: number): Promise<Phase> {
  const pid = server.child.pid!;
  await new Promise((r) => setTimeout(r, 1000));
  const baseMb = rssMiB(pid).rss;
  let peakMb = baseMb;
  const sampler = setInterval(() => (peakMb = Math.max(peakMb, rssMiB(pid).rss)), 20);
  const failures: string[] = [];
  const t0 = performance.now();
  const calls = Array.from({ length: clients }, (_, i) => post(server.url, file, `long-${i}.ogg`));
  let answered = 0;
  await new Promise<void>((allDone) => {
    let settled = 0;
    for (const [i, call] of calls.entries()) {
      void call.done.then((failure) => {
        settled++;
        if (failure === null) answered++;
        else if (failure !== 'cancelled') failures.push(`client ${i}: ${failure}`);
        if (answered + failures.length >= answers) for (const c of calls) c.cancel();
        if (settled === clients) allDone();
      });
    }
  });
  clearInterval(sampler);
  peakMb = Math.max(peakMb, rssMiB(pid).rss);
  return { clients, answered, wallS: (performance.now() - t0) / 1000, baseMb, peakMb, failures };
}

export async function benchUpload(): Promise<void> {
  console.log(`\n## upload: server RSS under ${CLIENTS} concurrent ${MINUTES}-minute uploads (--concurrency 1)\n`);
  if (!existsSync(resolve(MODELS, 'tiny', 'manifest.json'))) {
    console.log(`SKIPPED: no tiny test model under ${MODELS} (node scripts/setup.mjs test).`);
    return;
  }
  const path = longOpus();
  const file = new Uint8Array(readFileSync(path));
  const samplesMb = (MINUTES * 60 * 16_000 * 4) / 2 ** 20;
  console.log(`upload: ${(file.length / 2 ** 20).toFixed(1)} MB of Opus, ${samplesMb.toFixed(0)} MB decoded`);
  const one = await phase(file, 1, 1);
  const many = await phase(file, CLIENTS, Math.min(ANSWERS, CLIENTS));
  const rise = (p: Phase) => p.peakMb - p.baseMb;
  const ratio = rise(many) / rise(one);
  console.log(
    table([
      ['clients', 'answered', 'wall s', 'idle RSS MB', 'peak RSS MB', 'rise MB', 'rise / decoded samples'],
      ...[one, many].map((p) => [
        String(p.clients),
        String(p.answered),
        p.wallS.toFixed(1),
        p.baseMb.toFixed(0),
        p.peakMb.toFixed(0),
        rise(p).toFixed(0),
        (rise(p) / samplesMb).toFixed(2),
      ]),
    ]),
  );
  const failures = [...one.failures, ...many.failures];
  for (const f of failures) console.log(`FAILED ${f}`);
  const met = failures.length === 0 && ratio <= GOAL_RATIO;
  console.log(
    `${CLIENTS}-client rise / 1-client rise: ${ratio.toFixed(2)} (goal ≤ ${GOAL_RATIO}: ${met ? 'met' : 'MISSED'})`,
  );
  console.log(
    JSON.stringify({
      bench: 'upload',
      minutes: MINUTES,
      uploadMb: +(file.length / 2 ** 20).toFixed(2),
      samplesMb: +samplesMb.toFixed(0),
      one: { ...one, riseMb: +rise(one).toFixed(0) },
      many: { ...many, riseMb: +rise(many).toFixed(0) },
      ratio: +ratio.toFixed(2),
      goal: GOAL_RATIO,
      met,
    }),
  );
  if (!met) process.exitCode = 1;
}
