/** onnxruntime-node for the server and the CLI (CPU EP).  See src/core/ort/runtime.ts. */

import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-common';
import { OrtRuntime, type OrtModule } from '../../src/core/ort/runtime.ts';

/** Intra-op threads `threads` means: itself when positive, else every core this process may use. */
export function intraOpThreads(threads = 0): number {
  return threads > 0 ? Math.floor(threads) : availableParallelism();
}

/**
 * Every session of one pipeline (encoder, embeddings, decoder) gets the same pool size.  The graphs run one node at a
 * time (sequential, one inter-op thread): the runtime already runs one graph at a time, and inside a graph the
 * parallelism worth having is within the big MatMuls, so a second pool would only compete with the first for cores.
 * `availableParallelism()` rather than onnxruntime's own default (the physical cores it detects): the cores this
 * process may run on (its affinity mask, e.g. `taskset` or a container's cpuset) are what count.  Where a core has two
 * hardware threads it counts both; `--threads` sets the pool when the physical cores measure faster.
 */
export function nodeSessionOptions(threads = 0): InferenceSession.SessionOptions {
  return { intraOpNumThreads: intraOpThreads(threads), interOpNumThreads: 1, executionMode: 'sequential' };
}

/** `threads` 0: every core this process may use (`intraOpThreads`). */
export function createNodeRuntime(threads = 0): OrtRuntime {
  return new OrtRuntime(ort as unknown as OrtModule, 'cpu', nodeSessionOptions(threads));
}
