/**
 * The decoder's KV cache (past_key_values.* in, present.* out, one key and one value tensor per layer).  Two ways to
 * keep it:
 *
 * - **in place** (WebGPU, fused decoder): GroupQueryAttention writes the new keys/values into its past buffer when
 *   `present` is that same buffer, so one GPU buffer per tensor is allocated at the window's token cap and reused
 *   by every step and every later window (grown when a window needs more, never shrunk);
 * - **per step** (everywhere else): each step's present.* become the next step's past and the previous past is
 *   freed.  (onnxruntime-web copies every CPU tensor into its heap, so a shared buffer would save nothing there;
 *   onnxruntime-node writes into one, but measured no faster than a new present per step: docs/onnxruntime-1.31.md.)
 *
 * Isomorphic: tensors through the OrtRuntime only.
 */
import { type ModelManifest, T } from './contract.ts';
import type { OrtRuntime, Outputs, Tensor } from '../ort/runtime.ts';

export type Kv = Record<string, Tensor>;

/** Free the GPU buffers among `tensors` (the KV cache on WebGPU); CPU tensors are left to the garbage collector. */
function disposeGpuTensors(tensors: Record<string, Tensor>): void {
  for (const t of Object.values(tensors)) if (t.location === 'gpu-buffer') t.dispose();
}

export class KvCache {
  /** The in-place cache: per layer [1, KV heads, capacity, head dim]. */
  private shared: { capacity: number; past: Kv } | null = null;

  constructor(
    private readonly runtime: OrtRuntime,
    private readonly model: ModelManifest['model'],
    readonly type: 'float16' | 'float32',
    private inPlace: boolean,
  ) {}

  get mode(): 'in-place' | 'per-step' {
    return this.inPlace ? 'in-place' : 'per-step';
  }

  /**
   * Allocates the in-place cache for `tokens` positions now (memory committed before the model is ready).  Where GPU
   * buffers cannot be made, the cache is per step from now on, and `mode` says so.
   */
  async reserve(tokens: number): Promise<void> {
    if (this.inPlace && !(await this.grow(tokens))) this.inPlace = false;
  }

  /**
   * The cache of one decode: in place with room for `tokens` positions (or, without `tokens`, the in-place cache as
   * reserved), else per step (also for a window whose larger cache could not be allocated).
   */
  async open(tokens?: number): Promise<WindowKv> {
    let shared: Kv | null = null;
    if (this.inPlace) shared = tokens === undefined ? (this.shared?.past ?? null) : await this.grow(tokens);
    return new WindowKv(shared, shared ? this.inPlaceFetches(shared) : undefined, shared ?? this.emptyPast(), this);
  }

  release(): void {
    if (this.shared) disposeGpuTensors(this.shared.past);
    this.shared = null;
  }

  /** The in-place cache with room for `tokens` positions (reused across windows; grown, never shrunk), or null. */
  private async grow(tokens: number): Promise<Kv | null> {
    if (this.shared && this.shared.capacity >= tokens) return this.shared.past;
    const { num_layers, num_key_value_heads, head_dim } = this.model;
    const capacity = Math.max(tokens, this.shared?.capacity ?? 0);
    this.release();
    const past: Kv = {};
    for (let i = 0; i < num_layers; i++) {
      for (const name of [T.pastKey(i), T.pastValue(i)]) {
        const t = await this.runtime.gpuTensor(this.type, [1, num_key_value_heads, capacity, head_dim]);
        if (!t) {
          disposeGpuTensors(past);
          return null;
        }
        past[name] = t;
      }
    }
    this.shared = { capacity, past };
    return past;
  }

  /** Fetches that make the decoder write `present.*` into the in-place cache (logits allocated by ORT). */
  private inPlaceFetches(shared: Kv): Record<string, Tensor | null> {
    const fetches: Record<string, Tensor | null> = { [T.logits]: null };
    for (let i = 0; i < this.model.num_layers; i++) {
      fetches[T.presentKey(i)] = shared[T.pastKey(i)]!;
      fetches[T.presentValue(i)] = shared[T.pastValue(i)]!;
    }
    return fetches;
  }

  private emptyPast(): Kv {
    const { num_layers, num_key_value_heads, head_dim } = this.model;
    const past: Kv = {};
    for (let i = 0; i < num_layers; i++) {
      past[T.pastKey(i)] = this.runtime.empty(this.type, [1, num_key_value_heads, 0, head_dim]);
      past[T.pastValue(i)] = this.runtime.empty(this.type, [1, num_key_value_heads, 0, head_dim]);
    }
    return past;
  }

  /** This step's `present.*` as the next step's past; the previous past is freed (GPU buffers explicitly). */
  takePresent(past: Kv, out: Outputs): Kv {
    disposeGpuTensors(past);
    const next: Kv = {};
    for (let i = 0; i < this.model.num_layers; i++) {
      next[T.pastKey(i)] = out[T.presentKey(i)] as Tensor;
      next[T.pastValue(i)] = out[T.presentValue(i)] as Tensor;
    }
    return next;
  }
}

/** The KV cache as one decode (a window, the warm-up) sees it: the past to feed, the fetches, the step's advance. */
export class WindowKv {
  constructor(
    private readonly shared: Kv | null,
    /** The decoder's fetches (present.* into the in-place cache), or undefined to let the runtime allocate. */
    readonly fetches: Record<string, Tensor | null> | undefined,
    private pastNow: Kv,
    private readonly cache: KvCache,
  ) {}

  /** The past_key_values.* of the next decoder run. */
  get past(): Kv {
    return this.pastNow;
  }

  /** After a decoder run: its present.* are the past from now on (in place: they already are). */
  advance(out: Outputs): void {
    if (!this.shared) this.pastNow = this.cache.takePresent(this.pastNow, out);
  }

  /** The decode is over: a per-step cache's GPU buffers are freed (the in-place cache stays for the next). */
  close(): void {
    if (!this.shared) disposeGpuTensors(this.pastNow);
  }
}
