/**
 * The decoder side of one window: the decoder graph's inputs, the prompt fed in chunks where the runtime needs them,
 * then greedy decoding (argmax of the last position's logits) with the KV cache until an id of generation_config's
 * EOS set, the token cap, or a tail that repeats (a model stuck in a loop).  The AbortSignal is checked before each
 * graph run, after a yield to the event loop, so a cancel lands within one step.  Isomorphic.
 */
import { T } from './contract.ts';
import type { StopReason } from './contract.ts';
import { cpuFloat32, type OrtRuntime, type Outputs, type Session, type Tensor } from '../ort/runtime.ts';
import type { Kv, WindowKv } from './kv-cache.ts';

/**
 * Prompt tokens per decoder run for the fused decoder on WebGPU: the longest correct one (see `decoderLayout`).
 * Exported for the benchmark that counts decoder runs per window.
 */
export const WEBGPU_GQA_PREFILL_CHUNK = 31;

/**
 * True when the tail of `ids` is one n-gram (n ≤ 16) repeated back to back: at least 4 times and covering at least
 * 24 tokens (so "no, no, no" survives, a model stuck in a loop does not).
 */
export function repeatsAtTail(ids: readonly number[]): boolean {
  const len = ids.length;
  for (let n = 1; n <= 16; n++) {
    const need = Math.max(4, Math.ceil(24 / n));
    if (n * need > len) break;
    let reps = 1;
    outer: for (let r = 1; r < need; r++) {
      for (let k = 0; k < n; k++) {
        if (ids[len - 1 - k] !== ids[len - 1 - k - r * n]) break outer;
      }
      reps++;
    }
    if (reps >= need) return true;
  }
  return false;
}

/**
 * Let queued messages (a cancel) run: a macrotask boundary, without setTimeout's 4 ms clamp.  onnxruntime's WASM
 * runs resolve through microtasks only, so without this a worker never sees a message until the file is done.
 */
let yieldChannel: InstanceType<typeof MessageChannel> | null = null;
const yieldWaiters: (() => void)[] = [];
export function yieldToEventLoop(): Promise<void> {
  const immediate = (globalThis as { setImmediate?: (cb: () => void) => void }).setImmediate;
  if (immediate) return new Promise((resolve) => immediate(resolve));
  if (!yieldChannel) {
    yieldChannel = new MessageChannel();
    (yieldChannel.port1 as unknown as { onmessage: () => void }).onmessage = () => yieldWaiters.shift()?.();
  }
  return new Promise((resolve) => {
    yieldWaiters.push(resolve);
    yieldChannel!.port2.postMessage(null);
  });
}

/** The decoder graph as loaded: its session, what inputs it takes, how it is fed. */
export interface DecoderGraph {
  readonly runtime: OrtRuntime;
  readonly session: Session;
  readonly hidden: number;
  /** The op-by-op export takes explicit positions and a logits count; the fused graph has neither. */
  readonly takes: { positionIds: boolean; numLogitsToKeep: boolean };
  /** Prompt tokens per decoder run (infinite: the whole prompt in one run). */
  readonly prefillChunk: number;
  /** Whether the KV cache can be kept in place (kv-cache.ts). */
  readonly kvInPlace: boolean;
}

/** What the decoder `session` takes and how it is fed on `runtime`. */
export function decoderLayout(runtime: OrtRuntime, session: Session, hidden: number): DecoderGraph {
  const takes = {
    positionIds: session.inputNames.includes(T.positionIds),
    numLogitsToKeep: session.inputNames.includes(T.numLogitsToKeep),
  };
  const fused = !takes.positionIds;
  const webgpuFused = runtime.backend === 'webgpu' && fused;
  return {
    runtime,
    session,
    hidden,
    takes,
    // onnxruntime-web's WebGPU GroupQueryAttention (1.30 and 1.31.1) returns wrong attention for a prefill of 32
    // tokens or more under SwiftShader (subgroups of 4): 32 new tokens is where it switches to its FlashAttention
    // prefill, whose rows from the subgroup size on are wrong; below 32 it takes the split-reduce path, which matches
    // the CPU to 1e-6 (docs/onnxruntime-1.31.md).  So chunks of 31, the longest below that switch, are correct on
    // every adapter, whatever its subgroup size, in 13 prompt runs per 30 s window instead of 25 with chunks of 16.
    // The unfused graph takes the prompt whole.
    prefillChunk: webgpuFused ? WEBGPU_GQA_PREFILL_CHUNK : Number.POSITIVE_INFINITY,
    // GroupQueryAttention writes into its past buffer in place only in the fused graph, and only on WebGPU is there
    // a GPU buffer to share.
    kvInPlace: webgpuFused,
  };
}

/** The feeds of one decoder run: `seq` embedded tokens after `pastLen` cached positions. */
export function decoderFeeds(d: DecoderGraph, embeds: Tensor, seq: number, pastLen: number, past: Kv) {
  const mask = new BigInt64Array(pastLen + seq).fill(1n);
  const feeds: Record<string, Tensor> = {
    [T.inputsEmbeds]: embeds,
    [T.attentionMask]: d.runtime.int64(mask, [1, pastLen + seq]),
    ...past,
  };
  if (d.takes.positionIds) {
    const pos = new BigInt64Array(seq);
    for (let i = 0; i < seq; i++) pos[i] = BigInt(pastLen + i);
    feeds[T.positionIds] = d.runtime.int64(pos, [1, seq]);
  }
  if (d.takes.numLogitsToKeep) feeds[T.numLogitsToKeep] = d.runtime.int64(BigInt64Array.of(1n), []);
  return feeds;
}

/** The id with the largest logit (the first one on ties). */
function argmax(logits: Float32Array): number {
  let best = 0;
  let bestV = logits[0] as number;
  for (let v = 1; v < logits.length; v++) {
    const x = logits[v] as number;
    if (x > bestV) {
      bestV = x;
      best = v;
    }
  }
  return best;
}

export interface GreedyRun {
  /** The prompt's embeddings, audio rows in place: [promptTokens × hidden]. */
  prompt: Float32Array;
  promptTokens: number;
  /** Generated tokens at most. */
  cap: number;
  eos: ReadonlySet<number>;
  /** Stop at a repeating tail (`repeatsAtTail`). */
  repetitionGuard: boolean;
  /** The embedding of one generated id, the next step's input. */
  embed: (ids: readonly number[]) => Promise<Tensor>;
  /** After each generated id that is not EOS, with every id so far. */
  onToken?: (generated: readonly number[]) => void;
  signal?: AbortSignal | undefined;
}

/**
 * Greedy decoding of one window with the KV cache `kv`.  Returns the generated ids (the EOS included when reached),
 * why it stopped, and when the prompt's logits were ready (performance.now(), for the prefill time).
 */
export async function greedyDecode(
  d: DecoderGraph,
  kv: WindowKv,
  run: GreedyRun,
): Promise<{ ids: number[]; stopReason: StopReason; prefilledAt: number }> {
  const { prompt, promptTokens, cap, signal } = run;
  const generated: number[] = [];
  let stopReason: StopReason = 'max-tokens';
  let prefilledAt = 0;
  let inputs: Tensor | null = null;
  // Each generated id's embedding is one embed_tokens run; an id seen before in this window reuses its row (a
  // gather: the same bytes), which saves a run for every repeated token.
  const embedded = new Map<number, Tensor>();
  let pastLen = 0;
  let seq = promptTokens;
  for (let step = 0; step < cap; step++) {
    let out: Outputs;
    if (step === 0) {
      // The prompt, in chunks where the decoder needs them (prefillChunk); the last chunk's logits.
      for (let at = 0; ; at += d.prefillChunk) {
        const n = Math.min(d.prefillChunk, promptTokens - at);
        await yieldToEventLoop();
        signal?.throwIfAborted();
        const chunk = d.runtime.float32(prompt.subarray(at * d.hidden, (at + n) * d.hidden), [1, n, d.hidden]);
        out = await d.runtime.run(d.session, decoderFeeds(d, chunk, n, at, kv.past), kv.fetches);
        kv.advance(out);
        if (at + n === promptTokens) break;
      }
    } else {
      await yieldToEventLoop();
      signal?.throwIfAborted();
      out = await d.runtime.run(d.session, decoderFeeds(d, inputs!, seq, pastLen, kv.past), kv.fetches);
      kv.advance(out);
    }
    // [1, 1, V] with num_logits_to_keep = 1
    const best = argmax(cpuFloat32(out[T.logits] as Tensor));
    if (step === 0) prefilledAt = performance.now();
    generated.push(best);
    if (run.eos.has(best)) {
      stopReason = 'eos';
      break;
    }
    run.onToken?.(generated);
    if (run.repetitionGuard && repeatsAtTail(generated)) {
      stopReason = 'repetition';
      break;
    }
    if (step + 1 === cap) break;
    pastLen += seq;
    seq = 1;
    inputs = embedded.get(best) ?? (await run.embed([best]));
    embedded.set(best, inputs);
  }
  return { ids: generated, stopReason, prefilledAt };
}
