/**
 * GLM-ASR inference, isomorphic (no DOM, no Node-only APIs): the same code runs in the ASR worker (onnxruntime-web)
 * and in Node (the CLI and the server, onnxruntime-node).  The model's inference recipe (docs/model.md):
 *
 *   16 kHz PCM → ≤ 30 s windows (cut at the quietest point of the last 2 s) → 128-bin log-mel per window →
 *   audio_encoder → prompt from the chat template with one <|pad|> per audio token → embed_tokens, audio rows placed
 *   at the placeholders → greedy decode with KV cache until an id of generation_config's EOS set → detokenize.
 *
 * Windows are independent prompts (each is exactly the official ≤ 30 s case).  Tokens stream to the caller as they
 * are produced.  Every call takes an AbortSignal, checked before each graph run, so a cancel lands within one step.
 *
 * This file holds the pipeline itself (load, warm-up, one window, a whole file); its parts live beside it:
 * load.ts (the model's files and sessions), kv-cache.ts, greedy.ts (the decode loop), f16-twin.ts (the f16 guard),
 * token-cap.ts, job.ts (windows in order, with failover), one-graph.ts (the low-memory mode's jobs).
 *
 * Which graphs are resident: 'both' (the encoder, the embedding and the decoder loaded together: the normal mode) or
 * 'one-at-a-time' (the low-memory mode: the audio encoder alone, or the embedding with the decoder; `reside` swaps
 * them, releasing one side's sessions, and on WebGPU its GPU buffers and the KV cache, before loading the other).
 * A window is encoded (`encodeWindow`) and decoded (`decodeWindow`) in two halves, so one-graph.ts can encode every
 * window of a job before the decoder is loaded.
 */

import { N_MELS, SAMPLE_RATE_HZ, WINDOW_FRAMES, WINDOW_SAMPLES } from '../constants.ts';
import { LogMel, type MelFrontEnd } from '../dsp/mel.ts';
import {
  F16_VARIANTS,
  GRAPHS,
  type GenerationConfig,
  type LoadProgress,
  type TranscribeEvent,
  type Transcript,
  type WindowResult,
  type ModelManifest,
  T,
  type Variant,
} from './contract.ts';
import { cpuFloat32, type OrtRuntime, type Session, type Tensor } from '../ort/runtime.ts';
import { PipelineError } from './errors.ts';
import { F16Twin } from './f16-twin.ts';
import { decoderFeeds, decoderLayout, greedyDecode, yieldToEventLoop, type DecoderGraph } from './greedy.ts';
import { joinWindowTexts, runJob } from './job.ts';
import { KvCache } from './kv-cache.ts';
import { loadGraphs, readModelFiles, type ModelSource } from './load.ts';
import { defaultTokenCap } from './token-cap.ts';
import type { AsrTokenizer } from './tokenizer.ts';
import { emptyWindowResult, type Backend, type WindowTranscriber, type WindowSpan } from './window-transcriber.ts';
import { audioTokenCount } from './windows.ts';

export { joinWindowTexts, PipelineError, type ModelSource };
export { repeatsAtTail } from './greedy.ts';

export interface TranscribeOptions {
  signal?: AbortSignal;
  onEvent?: (event: TranscribeEvent) => void;
  /** Per-window cap on generated tokens; default: min(generation_config.max_new_tokens, 32 + 10 per second). */
  maxNewTokens?: number;
  /** Stop a window whose tail repeats an n-gram (default on). */
  repetitionGuard?: boolean;
}

function now(): number {
  return performance.now();
}

/** How the graphs are resident: together, or one side at a time (the low-memory mode, one-graph.ts). */
export type Residency = 'both' | 'one-at-a-time';

/** One side of the model in the low-memory mode: the audio encoder, or the embedding with the decoder. */
export type GraphSide = 'encoder' | 'decoder';

/** A window's audio features, kept between the two halves of its transcription (one-graph.ts keeps a job's). */
export interface EncodedWindow {
  /** The window's length in samples. */
  samples: number;
  /** [audioTokens × hidden] rows; null for a window too short for the model to hear. */
  features: Float32Array | null;
  /** The variant whose encoder gave them (the float32 twin's after an f16 overflow). */
  variant: Variant;
  encoderMs: number;
}

/** The decoder side as loaded: the embedding and decoder sessions, the decoder's layout, its KV cache. */
interface DecoderSide {
  embed: Session;
  graph: DecoderGraph;
  kv: KvCache;
}

/** Throws WARMUP_FAILED when `data` holds NaN/Inf or only zeros (a device that silently computes nothing). */
function checkWarm(name: string, data: Float32Array, backend: string): void {
  let nonZero = false;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isFinite(v)) throw new PipelineError('WARMUP_FAILED', `${name} has NaN/Inf on ${backend}`);
    if (v !== 0) nonZero = true;
  }
  if (!nonZero) throw new PipelineError('WARMUP_FAILED', `${name} is all zeros on ${backend}`);
}

/** Byte progress of one of several loads as a share of the bytes of them all (the low-memory mode's first load). */
function within(onProgress: (p: LoadProgress) => void, before: number, total: number) {
  return (p: LoadProgress) =>
    onProgress(p.total > 0 && p.stage !== 'session' ? { ...p, loaded: before + p.loaded, total } : p);
}

export class GlmAsrPipeline {
  private readonly eos: ReadonlySet<number>;
  private readonly hidden: number;
  /** The audio encoder's session while it is resident. */
  private encoder: Session | null = null;
  /** The embedding and the decoder while they are resident. */
  private decoder: DecoderSide | null = null;
  private twin: F16Twin;
  /** The decoder's build and cache as last loaded (kept while the decoder side is released). */
  private decoderMeta: { build: 'fused' | 'export'; kvCache: 'in-place' | 'per-step'; kvType: 'float16' | 'float32' } =
    { build: 'fused', kvCache: 'per-step', kvType: 'float32' };
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

  private constructor(
    readonly runtime: OrtRuntime,
    readonly manifest: ModelManifest,
    readonly variant: Variant,
    readonly tokenizer: AsrTokenizer,
    readonly generation: GenerationConfig,
    /** Where the graphs are read (again, in the low-memory mode: the source must be re-readable). */
    private readonly source: ModelSource,
    private readonly twinSource: ModelSource,
    private readonly mel: MelFrontEnd,
    /** The variant whose audio encoder this pipeline runs (`variant` unless the caller chose another). */
    readonly encoderVariant: Variant,
    readonly residency: Residency,
  ) {
    const eos = generation.eos_token_id;
    this.eos = new Set(Array.isArray(eos) ? eos : [eos]);
    this.hidden = manifest.model.hidden_size;
    this.twin = new F16Twin(runtime, manifest, variant, twinSource);
  }

  static async load(
    runtime: OrtRuntime,
    source: ModelSource,
    variant: Variant,
    opts: {
      onProgress?: (p: LoadProgress) => void;
      signal?: AbortSignal;
      /** The manifest when the caller already read it (to choose the variant). */
      manifest?: ModelManifest;
      /** Runs the warm-up (the worker wraps it in GPU error scopes and a time limit). */
      guardWarmUp?: (warmUp: () => Promise<void>) => Promise<void>;
      /**
       * Where the float32 twin's audio encoder is read if an f16 window's audio features overflow (default: `source`;
       * the browser passes the network, since the device stores only the planned variant).
       */
      twinSource?: ModelSource;
      /**
       * The log-mel front end (default: this app's LogMel).  The parity tests give the reference's own log-mel here,
       * to compare graphs from the same input: int8 activations (q4 at accuracy level 4, q8) can turn a 1e-6
       * difference of log-mel into other tokens on the tiny random models.
       */
      mel?: MelFrontEnd;
      /**
       * The audio encoder from this variant of the model instead of `variant`'s (the server's choice on the CPU:
       * encoder-variant.ts).  Must not be an f16 variant (the float32 twin guards `variant`'s encoder only).
       */
      encoderVariant?: Variant;
      /**
       * 'one-at-a-time': the low-memory mode (one-graph.ts).  The embedding and the decoder are loaded and warmed up
       * first, then released, then the audio encoder is loaded and warmed up and stays resident: a job starts by
       * encoding, so it pays one swap (to the decoder), and the encoder is the smaller side.  Default 'both'.
       */
      residency?: Residency;
    } = {},
  ): Promise<GlmAsrPipeline> {
    const { onProgress = () => {}, signal } = opts;
    onProgress({ stage: 'config', loaded: 0, total: 0, detail: source.label });
    const { manifest, generation, tokenizer } = await readModelFiles(source, variant, opts.manifest);
    const encoderVariant = opts.encoderVariant ?? variant;
    if (encoderVariant !== variant && !manifest.variants[encoderVariant])
      throw new PipelineError('MODEL_LOAD_FAILED', `${source.label} has no ${encoderVariant} audio encoder`);
    if (encoderVariant !== variant && F16_VARIANTS.has(encoderVariant))
      throw new PipelineError('MODEL_LOAD_FAILED', `the audio encoder may come from another variant only if not f16`);
    const twinSource = opts.twinSource ?? source;
    const residency = opts.residency ?? 'both';
    const pipeline = new GlmAsrPipeline(
      runtime,
      manifest,
      variant,
      tokenizer,
      generation,
      source,
      twinSource,
      opts.mel ?? new LogMel(),
      encoderVariant,
      residency,
    );
    const guard = (warmUp: () => Promise<void>) => (opts.guardWarmUp ? opts.guardWarmUp(warmUp) : warmUp());
    if (residency === 'both') {
      const s = await loadGraphs(runtime, source, manifest, variant, GRAPHS, onProgress, signal, encoderVariant);
      pipeline.encoder = s.audio_encoder;
      pipeline.decoder = pipeline.decoderSide(s.embed_tokens, s.decoder_model_merged);
      onProgress({ stage: 'warmup', loaded: 0, total: 0, detail: runtime.backend });
      await pipeline.prepareKv();
      await guard(async () => {
        await pipeline.warmUpEncoder();
        await pipeline.warmUpDecoder();
      });
      return pipeline;
    }
    const bytes = (v: Variant, g: 'audio_encoder' | 'embed_tokens' | 'decoder_model_merged') =>
      manifest.variants[v]?.graphs[g].bytes ?? 0;
    const decoderBytes = bytes(variant, 'embed_tokens') + bytes(variant, 'decoder_model_merged');
    const total = decoderBytes + bytes(encoderVariant, 'audio_encoder');
    await pipeline.loadDecoder(within(onProgress, 0, total), signal);
    onProgress({ stage: 'warmup', loaded: 0, total: 0, detail: runtime.backend });
    await guard(() => pipeline.warmUpDecoder());
    await pipeline.releaseDecoder();
    await pipeline.loadEncoder(within(onProgress, decoderBytes, total), signal);
    onProgress({ stage: 'warmup', loaded: 0, total: 0, detail: runtime.backend });
    await guard(() => pipeline.warmUpEncoder());
    return pipeline;
  }

  /** Which sides are resident now. */
  get resident(): { encoder: boolean; decoder: boolean } {
    return { encoder: this.encoder !== null, decoder: this.decoder !== null };
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
    const graph = decoderLayout(this.runtime, decoder, this.hidden);
    const kvType = decoder.inputType(T.pastKey(0)) === 'float16' ? 'float16' : 'float32';
    const kv = new KvCache(this.runtime, this.manifest.model, kvType, graph.kvInPlace);
    this.decoderMeta = { build: graph.takes.positionIds ? 'export' : 'fused', kvCache: kv.mode, kvType };
    return { embed, graph, kv };
  }

  private async loadEncoder(onProgress: (p: LoadProgress) => void, signal?: AbortSignal): Promise<void> {
    const s = await loadGraphs(
      this.runtime,
      this.source,
      this.manifest,
      this.variant,
      ['audio_encoder'],
      onProgress,
      signal,
      this.encoderVariant,
    );
    this.encoder = s.audio_encoder;
  }

  /** Release the audio encoder, and its float32 twin's if an f16 overflow loaded it. */
  private async releaseEncoder(): Promise<void> {
    if (!this.encoder) return;
    this.encoder = null;
    if (this.runtime.liveSessions.every((g) => g === 'audio_encoder')) this.emptied++;
    // The twin's encoder is a session of the same graph: every audio_encoder session goes.
    await this.runtime.releaseGraph('audio_encoder');
    this.twin = new F16Twin(this.runtime, this.manifest, this.variant, this.twinSource);
  }

  private async loadDecoder(onProgress: (p: LoadProgress) => void, signal?: AbortSignal): Promise<void> {
    const s = await loadGraphs(
      this.runtime,
      this.source,
      this.manifest,
      this.variant,
      ['embed_tokens', 'decoder_model_merged'],
      onProgress,
      signal,
    );
    this.decoder = this.decoderSide(s.embed_tokens, s.decoder_model_merged);
    await this.prepareKv();
  }

  private async releaseDecoder(): Promise<void> {
    const side = this.decoder;
    if (!side) return;
    this.decoder = null;
    if (this.runtime.liveSessions.length === 2) this.emptied++;
    // The KV cache's buffers first (on WebGPU they belong to the device the last release may end).
    side.kv.release();
    await this.runtime.releaseSession(side.embed);
    await this.runtime.releaseSession(side.graph.session);
  }

  /** How the decoder was built and keeps its cache (shown in the backend line). */
  get decoderInfo(): { build: 'fused' | 'export'; kvCache: 'in-place' | 'per-step' } {
    return { build: this.decoderMeta.build, kvCache: this.decoder?.kv.mode ?? this.decoderMeta.kvCache };
  }

  /** The KV cache's element type (the decoder's past_key_values input type). */
  get kvType(): 'float16' | 'float32' {
    return this.decoderMeta.kvType;
  }

  get usesF16(): boolean {
    return F16_VARIANTS.has(this.variant);
  }

  /** The audio encoder's share of the warm-up: on WebGPU, one 1 s window (compiles its shaders, checks its output). */
  private async warmUpEncoder(): Promise<void> {
    if (this.runtime.backend !== 'webgpu') return;
    checkWarm('audio_features', await this.encode(new Float32Array(SAMPLE_RATE_HZ)), this.runtime.backend);
  }

  /**
   * The decoder's share of the warm-up: one step on a short prompt, the path windows take (on WebGPU with the fused
   * decoder, the in-place cache of prepareKv).  Compiles shaders before "ready" and catches a device that silently
   * computes zeros (f16 without shader-f16) or NaN.
   */
  private async warmUpDecoder(): Promise<void> {
    const side = this.decoderNow();
    const ids = this.tokenizer.prompt(0);
    const embeds = await this.embedIds(ids);
    const kv = await side.kv.open();
    const d = side.graph;
    const out = await this.runtime.run(d.session, decoderFeeds(d, embeds, ids.length, 0, kv.past), kv.fetches);
    kv.advance(out);
    kv.close();
    checkWarm('logits', cpuFloat32(out[T.logits] as Tensor), this.runtime.backend);
  }

  private decoderNow(): DecoderSide {
    if (!this.decoder) throw new PipelineError('MODEL_LOAD_FAILED', 'the decoder is not loaded (low-memory mode)');
    return this.decoder;
  }

  /** Generated-token cap of a window of `samples` whose prompt has `promptTokens` ids. */
  private tokenCap(samples: number, promptTokens: number, maxNewTokens?: number): number {
    const maxPositions = this.manifest.model.max_position_embeddings - promptTokens;
    const byDefault = () => defaultTokenCap(samples, this.generation.max_new_tokens ?? undefined);
    return Math.max(1, Math.min(maxNewTokens ?? byDefault(), maxPositions));
  }

  /**
   * On WebGPU with the fused decoder: allocate the in-place KV cache for a full 30 s window now (memory committed
   * before the model is ready, shaders of the in-place path compiled by the warm-up).  Where GPU buffers cannot be
   * made, the cache is per step, and `decoderInfo` says so.
   */
  private async prepareKv(): Promise<void> {
    const kv = this.decoderNow().kv;
    if (kv.mode !== 'in-place') return;
    const full = WINDOW_SAMPLES;
    const prompt = this.tokenizer.prompt(audioTokenCount(full)).length;
    await kv.reserve(prompt + this.tokenCap(full, prompt));
    this.decoderMeta.kvCache = kv.mode;
  }

  /**
   * audio_encoder on one window, checked: an f16 variant whose features hold inf/NaN re-encodes the window with its
   * float32 twin's encoder (f16-twin.ts).  Returns the rows and, when the twin was used, its variant.
   */
  async encodeChecked(
    window: Float32Array,
    signal?: AbortSignal,
  ): Promise<{ features: Float32Array; variant: Variant }> {
    const features = await this.encode(window, signal);
    return this.twin.check(features, (session) => this.encode(window, signal, session), signal);
  }

  /** audio_encoder on one window: [audioTokens × hidden] rows. */
  async encode(window: Float32Array, signal?: AbortSignal, session?: Session): Promise<Float32Array> {
    const encoder = session ?? this.encoder;
    if (!encoder) throw new PipelineError('MODEL_LOAD_FAILED', 'the audio encoder is not loaded (low-memory mode)');
    const { features, validFrames } = this.mel.window30s(window);
    const mask = new BigInt64Array(WINDOW_FRAMES);
    mask.fill(1n, 0, validFrames);
    await yieldToEventLoop();
    signal?.throwIfAborted();
    const out = await this.runtime.run(
      encoder,
      {
        [T.inputFeatures]: this.runtime.float32(features, [1, N_MELS, WINDOW_FRAMES]),
        [T.inputFeaturesMask]: this.runtime.int64(mask, [1, WINDOW_FRAMES]),
      },
      [T.audioFeatures],
    );
    return cpuFloat32(out[T.audioFeatures] as Tensor);
  }

  private async embedIds(ids: readonly number[]): Promise<Tensor> {
    const data = BigInt64Array.from(ids, (v) => BigInt(v));
    const out = await this.runtime.run(this.decoderNow().embed, {
      [T.inputIds]: this.runtime.int64(data, [1, ids.length]),
    });
    return out[T.inputsEmbeds] as Tensor;
  }

  /** Where this pipeline runs, the backend the job runner records per window. */
  get backend(): Backend {
    return this.runtime.backend;
  }

  /** This pipeline as a window transcriber (for the job runner), with `defaults` applied to every window. */
  asTranscriber(label: string, defaults: TranscribeOptions = {}): WindowTranscriber {
    return {
      backend: this.backend,
      label,
      transcribeWindow: (samples, span, opts) => this.transcribeWindow(samples, span, { ...defaults, ...opts }),
    };
  }

  /** Transcribe 16 kHz mono PCM, window by window (job.ts).  Rejects with the signal's reason when aborted. */
  async transcribe(pcm: Float32Array, opts: TranscribeOptions = {}): Promise<Transcript> {
    const transcriber = this.asTranscriber(this.runtime.backend, opts);
    const { switches: _switches, ...transcript } = await runJob(pcm, transcriber, opts);
    return transcript;
  }

  /** One planned ≤ 30 s window: encoder, prompt, greedy decode with KV cache; `token` events as it goes. */
  async transcribeWindow(samples: Float32Array, span: WindowSpan, opts: TranscribeOptions = {}): Promise<WindowResult> {
    return this.decodeWindow(await this.encodeWindow(samples, span.index, opts), span, opts);
  }

  /**
   * The first half of a window: its audio features (checked by the f16 guard; a `precision-fallback` event when the
   * float32 twin gave them).  Needs the audio encoder resident.
   */
  async encodeWindow(samples: Float32Array, index: number, opts: TranscribeOptions = {}): Promise<EncodedWindow> {
    const audioTokens = audioTokenCount(samples.length);
    const encoded: EncodedWindow = { samples: samples.length, features: null, variant: this.variant, encoderMs: 0 };
    if (audioTokens === 0) return encoded; // < 7 mel frames (~60 ms): nothing for the model to hear
    const t = now();
    const { features, variant } = await this.encodeChecked(samples, opts.signal);
    if (variant !== this.variant)
      opts.onEvent?.({ type: 'precision-fallback', index, from: this.variant, to: variant });
    if (features.length !== audioTokens * this.hidden)
      throw new Error(`audio_encoder gave ${features.length / this.hidden} rows for ${audioTokens} audio tokens`);
    return { ...encoded, features, variant, encoderMs: now() - t };
  }

  /** The second half of a window: prompt, greedy decode with KV cache.  Needs the decoder resident. */
  async decodeWindow(encoded: EncodedWindow, span: WindowSpan, opts: TranscribeOptions = {}): Promise<WindowResult> {
    const { index } = span;
    const signal = opts.signal;
    const audioTokens = audioTokenCount(encoded.samples);
    const result = emptyWindowResult(span, audioTokens);
    const features = encoded.features;
    if (!features) return result;
    if (encoded.variant !== this.variant) result.encoderVariant = encoded.variant;
    result.encoderMs = encoded.encoderMs;

    const side = this.decoderNow();
    const t = now();
    const ids = this.tokenizer.prompt(audioTokens);
    result.promptTokens = ids.length;
    signal?.throwIfAborted();
    const embedded = cpuFloat32(await this.embedIds(ids));
    // Audio rows go to the placeholder positions, in order (masked_scatter).
    const prompt = new Float32Array(embedded);
    let row = 0;
    for (let p = 0; p < ids.length; p++) {
      if (ids[p] === this.tokenizer.audioTokenId) {
        prompt.set(features.subarray(row * this.hidden, (row + 1) * this.hidden), p * this.hidden);
        row++;
      }
    }
    const cap = this.tokenCap(encoded.samples, ids.length, opts.maxNewTokens);
    const kv = await side.kv.open(ids.length + cap);
    let decoded: Awaited<ReturnType<typeof greedyDecode>>;
    try {
      decoded = await greedyDecode(side.graph, kv, {
        prompt,
        promptTokens: ids.length,
        cap,
        eos: this.eos,
        repetitionGuard: opts.repetitionGuard ?? true,
        embed: (next) => this.embedIds(next),
        onToken: (generated) =>
          opts.onEvent?.({
            type: 'token',
            index,
            tokenId: generated.at(-1) as number,
            text: this.tokenizer.decode(generated).replace(/\uFFFD+$/u, ''),
            generated: generated.length,
            cap,
          }),
        signal,
      });
    } finally {
      kv.close();
    }
    result.stopReason = decoded.stopReason;
    result.prefillMs = decoded.prefilledAt - t;
    result.decodeMs = now() - t - result.prefillMs;
    result.tokenIds = decoded.ids;
    result.text = this.tokenizer.decode(decoded.ids);
    return result;
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
