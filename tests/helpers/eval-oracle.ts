/** The eval's Python oracles (tools/eval_oracles: openai-whisper's normalizers, jiwer), run once per call. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { ROOT } from './data.ts';

export function evalOracle<T>(args: string[], input: unknown): T {
  const r = spawnSync(resolve(ROOT, 'tools/py'), ['-m', 'eval_oracles', ...args], {
    cwd: ROOT,
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`tools/py -m eval_oracles ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
