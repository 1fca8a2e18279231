/**
 * One graph under onnxruntime's profiler in onnxruntime-web's plain WASM build, the build the app's WASM backend runs
 * (workers/ort/web.ts), here in Node's V8 on one thread (its threads need a browser's workers): the WASM kernels' time
 * by op type, to set beside onnxruntime-node's (server/ort/profile.ts) on the same graph.
 *
 * The WASM build prints its profile on the process's standard output from inside the module (not through
 * `console.log`), so the profile runs in a child process of its own (this file, run by tsx) and the parent reads the
 * child's output.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { opTimes, type Input, type OpTime, type ProfileEvent } from '../server/ort/profile.ts';
import { ROOT } from './common.ts';

/** A graph input every element of which is `fill` (what the benchmarks' profiles feed). */
export interface FilledInput {
  type: 'float32' | 'int64';
  dims: number[];
  fill: number;
}

/** Written by the child before the profile: what it printed before (none expected) is not parsed. */
const PROFILE_MARKER = '\nglmasr-profile:\n';

interface Job {
  model: string;
  externalData: string[];
  inputs: Record<string, FilledInput>;
  runs: number;
}

/** `input` as data, for onnxruntime-node's profile of the same feeds. */
export function materialize(input: FilledInput): Input {
  const n = input.dims.reduce((a, b) => a * b, 1);
  return input.type === 'int64'
    ? { type: 'int64', data: new BigInt64Array(n).fill(BigInt(input.fill)), dims: input.dims }
    : { type: 'float32', data: new Float32Array(n).fill(input.fill), dims: input.dims };
}

/**
 * `runs` runs of the graph at `model` (its external data files, as the manifest lists them, beside it); the figures
 * are the last run's.
 */
export function wasmProfileByOp(
  model: string,
  externalData: readonly string[],
  inputs: Record<string, FilledInput>,
  runs = 1,
): OpTime[] {
  const job: Job = { model, externalData: [...externalData], inputs, runs };
  const out = execFileSync(
    resolve(ROOT, 'node_modules/.bin/tsx'),
    [fileURLToPath(import.meta.url), JSON.stringify(job)],
    {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const marker = out.indexOf(PROFILE_MARKER);
  const start = marker < 0 ? -1 : out.indexOf('[', marker);
  if (start < 0) throw new Error('onnxruntime-web printed no profile');
  return opTimes(JSON.parse(out.slice(start, out.lastIndexOf(']') + 1)) as ProfileEvent[]);
}

async function child(job: Job): Promise<void> {
  const ort = await import('onnxruntime-web/wasm');
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(readFileSync(job.model), {
    graphOptimizationLevel: 'all',
    enableProfiling: true,
    logSeverityLevel: 3,
    externalData: job.externalData.map((f) => ({
      path: basename(f),
      data: readFileSync(resolve(dirname(job.model), basename(f))),
    })),
  });
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  for (const [name, i] of Object.entries(job.inputs)) {
    const m = materialize(i);
    feeds[name] = new ort.Tensor(m.type, m.data, m.dims);
  }
  for (let i = 0; i < job.runs; i++) await session.run(feeds);
  process.stdout.write(PROFILE_MARKER);
  session.endProfiling();
  await session.release();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await child(JSON.parse(process.argv[2]!) as Job);
}
