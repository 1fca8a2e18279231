/**
 * The one owner of onnxruntime.  Everything that creates sessions, tensors or runs graphs goes through `OrtRuntime`;
 * the pipeline never imports onnxruntime.  The concrete module is injected by workers/ort/web.ts (onnxruntime-web:
 * the native WebGPU build for the WebGPU backend, the plain CPU build for WASM) or server/ort/node.ts
 * (onnxruntime-node); all are pinned to the same version and share onnxruntime-common's types, so this file is
 * isomorphic.
 *
 * Rules kept here:
 *  - runs are serialized (one queue per runtime): ORT's WebGPU EP is not re-entrant and the KV chain is sequential;
 *  - on WebGPU the decoder's `present.*` outputs stay on the GPU (`preferredOutputLocation: 'gpu-buffer'`) and are
 *    fed back as the next step's `past_key_values.*` without a trip through JavaScript.  (ORT keeps small
 *    shape-computing nodes on the CPU by design, so CPU fallback stays enabled.)
 */

import type { Env, InferenceSession, Tensor } from 'onnxruntime-common';
import type { GraphName, LocalBackend } from '../asr/contract.ts';

export type { LocalBackend };

export type { Tensor };

/** The parts of an onnxruntime module the runtime uses (onnxruntime-web and onnxruntime-node both satisfy it). */
export interface OrtModule {
  InferenceSession: typeof InferenceSession;
  Tensor: typeof Tensor;
  env: Env;
}

/** What a session runs: one of GLM-ASR's graphs, or Silero's voice-activity model (../live/silero.ts). */
export type GraphId = GraphName | 'silero_vad';

/** One graph's bytes (browser) or path (Node), with its external-data files. */
export interface GraphSource {
  graph: GraphId;
  model: Uint8Array | string;
  externalData?: { path: string; data: Uint8Array | string }[];
}

export class OrtError extends Error {
  override name = 'OrtError';
  constructor(
    readonly code: 'SESSION_CREATE_FAILED' | 'OUT_OF_MEMORY' | 'DEVICE_LOST_GPU' | 'RUN_FAILED',
    message: string,
  ) {
    super(message);
  }
}

export type Feeds = Record<string, Tensor>;
export type Outputs = Record<string, Tensor>;

export interface Session {
  readonly graph: GraphId;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Input metadata type of `name` as ORT reports it ("float16", "float32", ...), when available. */
  inputType(name: string): string | undefined;
}

/**
 * onnxruntime-web's session config entry for its WebGPU context's `maxNumPendingDispatches`: the commands are submitted
 * every this many dispatches (1.31.1's default: 16), and a tensor released in a run goes back to the buffer cache for
 * reuse only when its commands are submitted.  Read when a WebGPU context is made (one per GPU device): a session
 * created while its context exists keeps that context's value (onnxruntime logs a warning, no error).
 */
export const PENDING_DISPATCHES_KEY = 'ep.webgpuexecutionprovider.maxNumPendingDispatches';

export interface CreateSessionOptions {
  /** Outputs left on the GPU (WebGPU only), e.g. the decoder's present.* for the in-place KV cache. */
  outputsOnGpu?: readonly string[];
  /**
   * WebGPU only: the `maxNumPendingDispatches` of the context this session makes, when it is the first session of a
   * new context (PENDING_DISPATCHES_KEY).  Ignored on WASM.
   */
  maxPendingDispatches?: number;
  /**
   * WASM only: onnxruntime's `session.disable_prepacking`, for graphs whose prepacked weights cost heap and buy nothing
   * there (load.ts, PREPACK_FREE_ON_WASM).  Ignored on WebGPU (its weights live on the GPU, not in CPU kernels) and in
   * onnxruntime-node (whose 4-bit kernels use the prepacked weights).
   */
  disablePrepacking?: boolean;
}

/** onnxruntime's session config entry that keeps its CPU kernels from prepacking constant weights. */
export const DISABLE_PREPACKING_KEY = 'session.disable_prepacking';

interface SessionImpl extends Session {
  readonly session: InferenceSession;
}

function classify(err: unknown): OrtError['code'] {
  const text = String(err instanceof Error ? err.message : err).toLowerCase();
  if (
    /out of memory|oom|bad_alloc|failed to allocate|allocation failed|cannot allocate|memory access out of bounds/.test(
      text,
    )
  )
    return 'OUT_OF_MEMORY';
  if (/device (was )?lost|devicelost|device is lost/.test(text)) return 'DEVICE_LOST_GPU';
  return 'RUN_FAILED';
}

export class OrtRuntime {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly sessions = new Set<SessionImpl>();
  /**
   * `session.run` calls started so far, per graph (benchmarks and tests read it).  Counted because each run on WebGPU
   * is one more command submission on long-lived buffers (the KV cache, the weights), and WebKit has been seen to
   * leak per submission and onnxruntime-web to crash after some hundreds of runs on iOS.
   */
  readonly runs = new Map<GraphId, number>();

  constructor(
    readonly ort: OrtModule,
    readonly backend: LocalBackend,
    private readonly defaults: InferenceSession.SessionOptions = {},
  ) {}

  async createSession(source: GraphSource, opts: CreateSessionOptions = {}): Promise<Session> {
    const options: InferenceSession.SessionOptions = {
      ...this.defaults,
      executionProviders: [this.backend],
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    };
    if (source.externalData?.length) options.externalData = source.externalData;
    if (this.backend === 'wasm' && opts.disablePrepacking)
      options.extra = { ...this.defaults.extra, [DISABLE_PREPACKING_KEY]: '1' };
    if (this.backend === 'webgpu') {
      if (opts.outputsOnGpu?.length) {
        options.preferredOutputLocation = Object.fromEntries(opts.outputsOnGpu.map((n) => [n, 'gpu-buffer' as const]));
      }
      // A fresh object each time: onnxruntime adds its own entries to `extra`.
      if (opts.maxPendingDispatches !== undefined)
        options.extra = { ...this.defaults.extra, [PENDING_DISPATCHES_KEY]: String(opts.maxPendingDispatches) };
    }
    let session: InferenceSession;
    try {
      session =
        typeof source.model === 'string'
          ? await this.ort.InferenceSession.create(source.model, options)
          : await this.ort.InferenceSession.create(source.model, options);
    } catch (err) {
      const code = classify(err);
      throw new OrtError(
        code === 'RUN_FAILED' ? 'SESSION_CREATE_FAILED' : code,
        `${source.graph} on ${this.backend}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const meta = new Map<string, string>();
    for (const m of session.inputMetadata ?? []) {
      if (m.isTensor) meta.set(m.name, m.type);
    }
    const impl: SessionImpl = {
      graph: source.graph,
      session,
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      inputType: (name) => meta.get(name),
    };
    this.sessions.add(impl);
    return impl;
  }

  /**
   * Run `session` after every earlier run of this runtime has finished.  `fetches` names the outputs wanted, or maps
   * output names to pre-allocated tensors ORT writes into (null: ORT allocates).
   */
  run(session: Session, feeds: Feeds, fetches?: readonly string[] | Record<string, Tensor | null>): Promise<Outputs> {
    const impl = session as SessionImpl;
    this.runs.set(impl.graph, (this.runs.get(impl.graph) ?? 0) + 1);
    const next = this.queue.then(async () => {
      try {
        return (await (Array.isArray(fetches)
          ? impl.session.run(feeds, fetches as string[])
          : fetches
            ? impl.session.run(feeds, fetches as InferenceSession.FetchesType)
            : impl.session.run(feeds))) as unknown as Outputs;
      } catch (err) {
        throw new OrtError(classify(err), `${impl.graph}: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  float32(data: Float32Array, dims: readonly number[]): Tensor {
    return new this.ort.Tensor('float32', data, dims);
  }
  int64(data: BigInt64Array, dims: readonly number[]): Tensor {
    return new this.ort.Tensor('int64', data, dims);
  }
  /** An empty (zero-length along `dims`' zero axis) tensor of the KV dtype. */
  empty(type: 'float32' | 'float16', dims: readonly number[]): Tensor {
    return type === 'float16'
      ? new this.ort.Tensor('float16', new Uint16Array(0), dims)
      : new this.ort.Tensor('float32', new Float32Array(0), dims);
  }

  /**
   * A GPU-resident tensor of `dims` (uninitialised), for outputs written in place (the decoder's KV cache); null when
   * this runtime is not on WebGPU.  Destroyed by `dispose()`.
   */
  async gpuTensor(type: 'float32' | 'float16', dims: readonly number[]): Promise<Tensor | null> {
    if (this.backend !== 'webgpu') return null;
    const device = (await (this.ort.env.webgpu as { device?: Promise<unknown> } | undefined)?.device) as
      { createBuffer(d: { size: number; usage: number }): { destroy(): void } } | undefined;
    if (!device) return null;
    const bytes = dims.reduce((a, b) => a * b, 1) * (type === 'float16' ? 2 : 4);
    // GPUBufferUsage.STORAGE | COPY_SRC | COPY_DST (numeric: this file is also compiled for Node).
    const buffer = device.createBuffer({ size: Math.ceil(bytes / 16) * 16, usage: 0x80 | 0x04 | 0x08 });
    return this.ort.Tensor.fromGpuBuffer(buffer as never, {
      dataType: type,
      dims,
      dispose: () => buffer.destroy(),
    }) as Tensor;
  }

  /** The graphs of the sessions this runtime holds now, one entry per session (tests and benches read it). */
  get liveSessions(): GraphId[] {
    return [...this.sessions].map((s) => s.graph);
  }

  /**
   * Release one session after every run queued before it (the low-memory mode's swap of graphs, ../asr/one-graph.ts):
   * onnxruntime frees its initializers (on WebGPU, its GPU buffers).  Releasing a session twice does nothing.
   */
  async releaseSession(session: Session): Promise<void> {
    const impl = session as SessionImpl;
    if (!this.sessions.delete(impl)) return;
    await this.queue;
    await impl.session.release();
  }

  /** Release every session of `graph` (the audio encoder and its float32 twin's, say). */
  async releaseGraph(graph: GraphId): Promise<void> {
    for (const s of [...this.sessions]) if (s.graph === graph) await this.releaseSession(s);
  }

  async release(): Promise<void> {
    await this.queue;
    const all = [...this.sessions];
    this.sessions.clear();
    for (const s of all) await s.session.release();
  }
}

/** Data of a CPU float32 tensor (throws for GPU-resident ones: those are never read back on purpose). */
export function cpuFloat32(t: Tensor): Float32Array {
  if (t.location !== 'cpu' && t.location !== 'cpu-pinned') throw new Error(`tensor is on ${t.location}, not the CPU`);
  if (t.type !== 'float32') throw new Error(`expected float32, got ${t.type}`);
  return t.data as Float32Array;
}
