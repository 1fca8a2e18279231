/**
 * Which of the model's graphs are resident, and their lifecycle: the audio encoder's session on one side, the
 * embedding and the decoder with the decoder's layout and KV cache on the other.  Two ways to keep them:
 *
 * - 'both' (the normal mode): the three graphs are loaded together and stay resident until `release`;
 * - 'one-at-a-time' (the low-memory mode, one-graph.ts): the audio encoder alone, or the embedding with the decoder.
 *   `reside` swaps them: one side's sessions are released (on WebGPU with their GPU buffers and the KV cache) before
 *   the other is read from the model source again and loaded.
 *
 * Kept apart from the pipeline (pipeline.ts, the transcription recipe) because the swaps have state of their own: a
 * queue that runs them one at a time, the count of swaps that emptied the runtime (the worker's GPU watch reads it)
 * and the callback after each swap.  Also the f16 guard's float32 twin, whose audio encoder goes with the encoder side,
 * and how the decoder was built and keeps its cache, remembered while the decoder side is released.
 *
 * This file loads and releases sessions and reserves the KV cache; it runs no graph: the warm-ups, and the order of
 * the first load with them, are GlmAsrPipeline.load's.  Isomorphic.
 */
import { GRAPHS, type GraphName, type LoadProgress, type ModelManifest, T, type Variant } from './contract.ts';
import type { OrtRuntime, Session } from '../ort/runtime.ts';
import { PipelineError } from './errors.ts';
import { F16Twin } from './f16-twin.ts';
import { decoderLayout, type DecoderGraph } from './greedy.ts';
import { KvCache } from './kv-cache.ts';
import { loadGraphs, type ModelSource } from './load.ts';

/** How the graphs are resident: together, or one side at a time (the low-memory mode, one-graph.ts). */
export type Residency = 'both' | 'one-at-a-time';

/**
 * The low-memory mode's audio encoder submits its GPU commands every 4 dispatches (the context's
 * `maxNumPendingDispatches`, onnxruntime's default 16; ../ort/runtime.ts, PENDING_DISPATCHES_KEY).  A tensor a run
 * releases is reused only once its commands are submitted, so with 16 pending the encoder's run keeps a cache of
 * buffers for 16 dispatches' outputs at once.  Measured on one full-size q4 window (SwiftShader; docs/measurements.md,
 * The encoder's attention on WebGPU): its run held 196 MB of GPU buffers above the weights with 1, 246 MB with 4 and
 * 976 MB with 16 (../memory-model.ts, ENCODER_RUN_PER_ATTENTION_BYTE_LOW_MEMORY).  4, not 1: 50 MB more for a
 * quarter of the submissions (each one a command encoder, which WebKit has kept a record of on every long-lived buffer
 * it used until the buffer goes: docs/onnxruntime-1.31.md, #27584), and the decoder side stays the larger either way.
 * The encoder side has a WebGPU context of its own in this mode (a swap releases the runtime's last session, which
 * ends the context), so the decoder's steps keep onnxruntime's batches (e2e/one-graph.spec.ts counts the submissions).
 */
export const LOW_MEMORY_ENCODER_PENDING_DISPATCHES = 4;

/** One side of the model in the low-memory mode: the audio encoder, or the embedding with the decoder. */
export type GraphSide = 'encoder' | 'decoder';

/** The decoder side as loaded: the embedding and decoder sessions, the decoder's layout, its KV cache. */
export interface DecoderSide {
  embed: Session;
  graph: DecoderGraph;
  kv: KvCache;
}

/** How the decoder was built, keeps its cache, and the cache's element type. */
interface DecoderMeta {
  build: 'fused' | 'export';
  kvCache: 'in-place' | 'per-step';
  kvType: 'float16' | 'float32';
}

export class ResidentGraphs {
  /** The audio encoder's session while it is resident. */
  private encoder: Session | null = null;
  /** The embedding and the decoder while they are resident. */
  private decoder: DecoderSide | null = null;
  private f16Twin: F16Twin;
  /** The decoder's build and cache as last loaded (kept while the decoder side is released). */
  private decoderMeta: DecoderMeta = { build: 'fused', kvCache: 'per-step', kvType: 'float32' };
  /** Swaps of the resident side, one at a time; `release` waits for them. */
  private swaps: Promise<unknown> = Promise.resolve();
  private released = false;
  /**
   * How many times a swap released the runtime's last session.  onnxruntime-web 1.31 then ends its WebGPU context:
   * the pooled buffers are destroyed and so is the GPUDevice, and the next session creates a new device (measured:
   * e2e/one-graph.spec.ts).  The worker's GPU watch tells that destroy from a lost device by this count.
   */
  emptied = 0;
  /** Called after a swap made `side` resident (the worker watches the new GPUDevice then). */
  onResident: (side: GraphSide) => void = () => {};

  constructor(
    private readonly runtime: OrtRuntime,
    private readonly manifest: ModelManifest,
    private readonly variant: Variant,
    /** The variant whose audio encoder is loaded (`variant` unless the caller chose another). */
    private readonly encoderVariant: Variant,
    readonly residency: Residency,
    /** Where the graphs are read (again, in the low-memory mode: the source must be re-readable). */
    private readonly source: ModelSource,
    private readonly twinSource: ModelSource,
    /** How many positions the in-place KV cache is reserved for (a full 30 s window's prompt and token cap). */
    private readonly kvPositions: () => number,
  ) {
    this.f16Twin = new F16Twin(runtime, manifest, variant, twinSource);
  }

  /** Which sides are resident now. */
  get resident(): { encoder: boolean; decoder: boolean } {
    return { encoder: this.encoder !== null, decoder: this.decoder !== null };
  }

  /** The f16 guard of the resident audio encoder (a new one after each release of the encoder side). */
  get twin(): F16Twin {
    return this.f16Twin;
  }

  /** The audio encoder's session; MODEL_LOAD_FAILED while the encoder side is released (low-memory mode). */
  encoderNow(): Session {
    if (!this.encoder)
      throw new PipelineError('MODEL_LOAD_FAILED', 'the audio encoder is not loaded (low-memory mode)');
    return this.encoder;
  }

  /** The decoder side; MODEL_LOAD_FAILED while it is released (low-memory mode). */
  decoderNow(): DecoderSide {
    if (!this.decoder) throw new PipelineError('MODEL_LOAD_FAILED', 'the decoder is not loaded (low-memory mode)');
    return this.decoder;
  }

  /** The normal mode's load: the three graphs together (the in-place KV cache is reserved by `prepareKv`). */
  async loadBoth(onProgress: (p: LoadProgress) => void, signal?: AbortSignal): Promise<void> {
    const s = await this.loadSessions(GRAPHS, onProgress, signal);
    this.encoder = s.audio_encoder;
    this.decoder = this.decoderSide(s.embed_tokens, s.decoder_model_merged);
  }

  /**
   * Make `side` the resident one (the low-memory mode): the other side is released first (its sessions; on WebGPU
   * its GPU buffers and the KV cache), then `side` is loaded from the source again if it is not resident.  Swaps run
   * one at a time, in call order; a cancelled swap leaves neither side loaded, and the next call loads what it needs.
   */
  reside(side: GraphSide, signal?: AbortSignal): Promise<void> {
    if (this.residency === 'both') return Promise.resolve(); // everything stays resident
    const next = this.swaps.then(async () => {
      if (this.released) throw new PipelineError('MODEL_LOAD_FAILED', 'the model was released');
      signal?.throwIfAborted();
      if (side === 'encoder') {
        if (this.encoder) return;
        await this.releaseDecoder();
        await this.loadEncoder(() => {}, signal);
      } else {
        if (this.decoder) return;
        await this.releaseEncoder();
        await this.loadDecoder(() => {}, signal);
      }
      this.onResident(side);
    });
    this.swaps = next.catch(() => undefined);
    return next;
  }

  private decoderSide(embed: Session, decoder: Session): DecoderSide {
    const graph = decoderLayout(this.runtime, decoder, this.manifest.model.hidden_size);
    const kvType = decoder.inputType(T.pastKey(0)) === 'float16' ? 'float16' : 'float32';
    const kv = new KvCache(this.runtime, this.manifest.model, kvType, graph.kvInPlace);
    this.decoderMeta = { build: graph.takes.positionIds ? 'export' : 'fused', kvCache: kv.mode, kvType };
    return { embed, graph, kv };
  }

  /** Sessions of `graphs` from the source (the audio encoder's of `encoderVariant`), with byte progress (load.ts). */
  private loadSessions<G extends GraphName>(
    graphs: readonly G[],
    onProgress: (p: LoadProgress) => void,
    signal?: AbortSignal,
  ): Promise<Record<G, Session>> {
    const { runtime, source, manifest, variant } = this;
    const encoder =
      this.residency === 'one-at-a-time' ? { maxPendingDispatches: LOW_MEMORY_ENCODER_PENDING_DISPATCHES } : {};
    return loadGraphs(runtime, source, manifest, variant, graphs, onProgress, signal, this.encoderVariant, encoder);
  }

  /** Load the audio encoder (of `encoderVariant`). */
  async loadEncoder(onProgress: (p: LoadProgress) => void, signal?: AbortSignal): Promise<void> {
    const s = await this.loadSessions(['audio_encoder'], onProgress, signal);
    this.encoder = s.audio_encoder;
  }

  /** Release the audio encoder, and its float32 twin's if an f16 overflow loaded it. */
  async releaseEncoder(): Promise<void> {
    if (!this.encoder) return;
    this.encoder = null;
    if (this.runtime.liveSessions.every((g) => g === 'audio_encoder')) this.emptied++;
    // The twin's encoder is a session of the same graph: every audio_encoder session goes.
    await this.runtime.releaseGraph('audio_encoder');
    this.f16Twin = new F16Twin(this.runtime, this.manifest, this.variant, this.twinSource);
  }

  /** Load the embedding and the decoder, and reserve the in-place KV cache (`prepareKv`). */
  async loadDecoder(onProgress: (p: LoadProgress) => void, signal?: AbortSignal): Promise<void> {
    const s = await this.loadSessions(['embed_tokens', 'decoder_model_merged'], onProgress, signal);
    this.decoder = this.decoderSide(s.embed_tokens, s.decoder_model_merged);
    await this.prepareKv();
  }

  /** Release the embedding, the decoder and the KV cache (the decoder's build and cache stay in `decoderInfo`). */
  async releaseDecoder(): Promise<void> {
    const side = this.decoder;
    if (!side) return;
    this.decoder = null;
    if (this.runtime.liveSessions.length === 2) this.emptied++;
    // The KV cache's buffers first (on WebGPU they belong to the device the last release may end).
    side.kv.release();
    await this.runtime.releaseSession(side.embed);
    await this.runtime.releaseSession(side.graph.session);
  }

  /**
   * On WebGPU with the fused decoder: allocate the in-place KV cache for a full 30 s window now (memory committed
   * before the model is ready, shaders of the in-place path compiled by the warm-up).  Where GPU buffers cannot be
   * made, the cache is per step, and `decoderInfo` says so.
   */
  async prepareKv(): Promise<void> {
    const kv = this.decoderNow().kv;
    if (kv.mode !== 'in-place') return;
    await kv.reserve(this.kvPositions());
    this.decoderMeta.kvCache = kv.mode;
  }

  /** How the decoder was built and keeps its cache (shown in the backend line). */
  get decoderInfo(): { build: 'fused' | 'export'; kvCache: 'in-place' | 'per-step' } {
    return { build: this.decoderMeta.build, kvCache: this.decoder?.kv.mode ?? this.decoderMeta.kvCache };
  }

  /** The KV cache's element type (the decoder's past_key_values input type). */
  get kvType(): 'float16' | 'float32' {
    return this.decoderMeta.kvType;
  }

  /** Release every session (after any swap under way) and the KV cache's GPU buffers. */
  async release(): Promise<void> {
    this.released = true;
    await this.swaps;
    const side = this.decoder;
    this.encoder = null;
    this.decoder = null;
    await this.runtime.release();
    side?.kv.release();
  }
}
