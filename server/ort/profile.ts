/**
 * One run of a graph under onnxruntime-node's profiler, summed by op type: where a graph's time goes (the benchmarks'
 * profiles, `npm run bench -- cpu`).  Same session options as the server's (./node.ts).
 */

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { nodeSessionOptions } from './node.ts';

export interface OpTime {
  op: string;
  /** Kernel time summed over the op's nodes. */
  ms: number;
  nodes: number;
}

export type Input =
  { type: 'float32'; data: Float32Array; dims: number[] } | { type: 'int64'; data: BigInt64Array; dims: number[] };

export interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

/** The kernel time of the last `model_run` among onnxruntime profiler `events`, summed by op type, largest first. */
export function opTimes(events: readonly ProfileEvent[]): OpTime[] {
  const last = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').at(-1);
  const byOp = new Map<string, { us: number; nodes: Set<string> }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !e.args?.op_name) continue;
    if (last && (e.ts < last.ts || e.ts > last.ts + last.dur)) continue;
    const entry = byOp.get(e.args.op_name) ?? { us: 0, nodes: new Set<string>() };
    entry.us += e.dur;
    entry.nodes.add(e.name);
    byOp.set(e.args.op_name, entry);
  }
  return [...byOp].map(([op, v]) => ({ op, ms: v.us / 1000, nodes: v.nodes.size })).sort((a, b) => b.ms - a.ms);
}

/** `runs` runs of the graph; the figures are the last run's (the earlier ones warm it up). */
export async function profileByOp(
  model: string,
  inputs: Record<string, Input>,
  runs = 1,
  threads = 0,
): Promise<OpTime[]> {
  const dir = mkdtempSync(resolve(tmpdir(), 'glmasr-profile-'));
  try {
    const session = await ort.InferenceSession.create(model, {
      ...nodeSessionOptions(threads),
      graphOptimizationLevel: 'all',
      enableProfiling: true,
      profileFilePrefix: resolve(dir, 'run'),
    });
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, i] of Object.entries(inputs)) feeds[name] = new ort.Tensor(i.type, i.data, i.dims);
    for (let i = 0; i < runs; i++) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('onnxruntime wrote no profile');
    return opTimes(JSON.parse(readFileSync(resolve(dir, file), 'utf8')) as ProfileEvent[]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
