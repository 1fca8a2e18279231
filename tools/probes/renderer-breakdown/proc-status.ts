/** Processes' resident set split as /proc/<pid>/status does, summed (a process gone meanwhile counts nothing). */
import { readFileSync } from 'node:fs';

export type S = { anon: number; file: number; shmem: number };

export function status(pids: number[]): S {
  const s = { anon: 0, file: 0, shmem: 0 };
  for (const p of pids) {
    try {
      const t = readFileSync(`/proc/${p}/status`, 'utf8');
      const kb = (k: string) => Number(t.match(new RegExp(`${k}:\\s+(\\d+)`))?.[1] ?? 0) * 1024;
      s.anon += kb('RssAnon');
      s.file += kb('RssFile');
      s.shmem += kb('RssShmem');
    } catch {}
  }
  return s;
}

export const MB = (n: number) => (n / 1e6).toFixed(1);
