/** onnxruntime-node for the server and the CLI (CPU EP).  See src/core/ort/runtime.ts. */

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-common';
import { OrtRuntime, type OrtModule } from '../../src/core/ort/runtime.ts';

/**
 * Session options of every session of one pipeline (encoder, embeddings, decoder).  The graphs run one node at a
 * time (sequential, one inter-op thread): the runtime already runs one graph at a time, and inside a graph the
 * parallelism worth having is within the big MatMuls, so a second pool would only compete with the first for cores.
 *
 * `threads` 0 leaves the intra-op pool to onnxruntime, which sizes it from the machine (one thread per physical core)
 * and pins each thread to its core; a positive `threads` sets the size and nothing is pinned.  On the 2-core machine
 * of `npm run bench -- server` the same two threads pinned ran a 30 s window (encoder, prefill, 32 tokens) in 48 s
 * against 65 s unpinned (medians of two, alternated), so the default is onnxruntime's, not a count of our own.
 */
export function nodeSessionOptions(threads = 0): InferenceSession.SessionOptions {
  return {
    ...(threads > 0 ? { intraOpNumThreads: Math.floor(threads) } : {}),
    interOpNumThreads: 1,
    executionMode: 'sequential',
  };
}

/**
 * The intra-op pool's size for `threads` (for reports): itself when positive, else the physical cores as Linux lists
 * them (distinct physical id / core id pairs of /proc/cpuinfo), else the cores this process may use.
 */
export function intraOpThreads(threads = 0): number {
  if (threads > 0) return Math.floor(threads);
  try {
    const cores = new Set<string>();
    for (const block of readFileSync('/proc/cpuinfo', 'utf8').split('\n\n')) {
      const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(block)?.[1];
      const core = field('core id');
      if (core !== undefined) cores.add(`${field('physical id') ?? 0}/${core}`);
    }
    if (cores.size) return Math.min(cores.size, availableParallelism());
  } catch {
    // Not Linux: the logical count.
  }
  return availableParallelism();
}

/** `threads` 0: onnxruntime's pool, one pinned thread per physical core (`nodeSessionOptions`). */
export function createNodeRuntime(threads = 0): OrtRuntime {
  return new OrtRuntime(ort as unknown as OrtModule, 'cpu', nodeSessionOptions(threads));
}
