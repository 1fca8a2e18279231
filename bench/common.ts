import { TEST_DIST } from '../e2e/helpers/dist.ts';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { ROOT } from '../tests/helpers/data.ts';
import type { ModelManifest } from '../src/core/asr/contract.ts';

// Paths and real speech are shared with the tests.
export { ROOT, speech } from '../tests/helpers/data.ts';
export { table } from '../eval/report.ts';

/** The full-size random-weight model (`npm run model:full-random`), or GLMASR_BENCH_MODEL. */
export const FULL_MODEL = resolve(
  process.env['GLMASR_BENCH_MODEL'] ?? resolve(homedir(), '.cache/glm-asr-web/full-random'),
);

/** The op-by-op reference build of the same checkpoint (the "before" of the fused decoder), or GLMASR_BENCH_REFERENCE. */
export const REFERENCE_MODEL = resolve(
  process.env['GLMASR_BENCH_REFERENCE'] ?? resolve(homedir(), '.cache/glm-asr-web/full-random-unfused'),
);

/** Decoder node count of `model`'s variant (the converter's `inspect`, which reads the graph itself). */
export function decoderNodes(model: string, variant: string): number {
  const out = execFileSync(
    resolve(ROOT, 'tools/py'),
    ['-m', 'glmasr_onnx', 'inspect', '--model', model, '--variant', variant],
    { encoding: 'utf8' },
  );
  return (JSON.parse(out) as Record<string, { nodes: number }>)['decoder_model_merged']!.nodes;
}

/**
 * The full-size model's manifest when it (and, with `needsApp`, the built app) exist; otherwise says why the section
 * is skipped.
 */
export function fullModelManifest(needsApp = true): ModelManifest | null {
  if (!existsSync(resolve(FULL_MODEL, 'manifest.json'))) {
    console.log(`SKIPPED: no model at ${FULL_MODEL}. Create it with \`npm run model:full-random\` (about 10 minutes).`);
    return null;
  }
  if (needsApp && !existsSync(resolve(TEST_DIST, 'index.html'))) {
    console.log('SKIPPED: the test build of the app is missing (npm run build:test).');
    return null;
  }
  return JSON.parse(readFileSync(resolve(FULL_MODEL, 'manifest.json'), 'utf8')) as ModelManifest;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** The `p`-th percentile (0–100) of `values`, linearly interpolated between the closest ranks (numpy's default). */
export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const at = ((s.length - 1) * p) / 100;
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, s.length - 1);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (at - lo);
}

/** Median wall time in ms of `fn` over `runs` runs after `warmup` runs. */
export async function time(fn: () => unknown, runs: number, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** One closed-loop run: `requests` calls from `clients` callers. */
export interface Level {
  clients: number;
  requests: number;
  wallMs: number;
  latencies: number[];
  errors: number;
  firstError?: string;
}

/** `total` requests from `clients` callers, each starting its next request when its last one ended. */
export async function closedLoop(clients: number, total: number, one: () => Promise<string | null>): Promise<Level> {
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (issued < total) {
        issued++;
        const start = performance.now();
        let error: string | null;
        try {
          error = await one();
        } catch (err) {
          error = err instanceof Error ? err.message : String(err);
        }
        latencies.push(performance.now() - start);
        if (error !== null) {
          errors++;
          firstError ??= error;
        }
      }
    }),
  );
  return { clients, requests: total, wallMs: performance.now() - t0, latencies, errors, firstError };
}

/** Calls run one at a time in arrival order (what `--concurrency 1` does on the server). */
export function oneAtATime(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const result = tail.then(fn);
    tail = result.catch(() => undefined);
    return result;
  };
}

/** Copy bandwidth in GB/s (bytes read + bytes written per second), best of 5 over a 512 MiB buffer. */
export function copyBandwidth(): number {
  const n = 512 * 1024 * 1024;
  const a = new Uint8Array(n).fill(1);
  const b = new Uint8Array(n);
  let best = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    b.set(a);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, (2 * n) / s / 1e9);
  }
  return best;
}
