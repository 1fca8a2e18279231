import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeWav, toMono } from '../workers/dsp/wav.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SPEECH_DIR = resolve(process.env['SPEECH_DIR'] ?? resolve(ROOT, '..', 'shared', 'data', 'speech'));

/** `seconds` of real speech at 16 kHz: the shared clips concatenated (repeated as needed). */
export function speech(seconds: number): { samples: Float32Array; source: string } {
  const manifest = resolve(SPEECH_DIR, 'manifest.tsv');
  const total = Math.round(seconds * 16_000);
  const out = new Float32Array(total);
  if (!existsSync(manifest)) {
    // Absent shared data: a deterministic speech-like stand-in (the timing does not depend on content).
    for (let i = 0; i < total; i++) out[i] = 0.3 * Math.sin(i * 0.07) * Math.sin(i * 0.0009) + 0.01 * Math.sin(i * 1.3);
    return { samples: out, source: `synthetic (${manifest} absent)` };
  }
  const files = readFileSync(manifest, 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.split('\t')[2])
    .filter((f): f is string => !!f && f.endsWith('.wav'));
  let pos = 0;
  for (let i = 0; pos < total; i++) {
    const clip = toMono(decodeWav(readFileSync(resolve(SPEECH_DIR, files[i % files.length]!))).channels);
    const n = Math.min(clip.length, total - pos);
    out.set(clip.subarray(0, n), pos);
    pos += n;
  }
  return { samples: out, source: `${files.length} clips of ${SPEECH_DIR}` };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
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

export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
