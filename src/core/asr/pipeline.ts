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
 * load.ts (the model's files and sessions), residency.ts (which graphs are resident: loading, releasing and swapping
 * them), kv-cache.ts, greedy.ts (the decode loop), f16-twin.ts (the f16 guard), token-cap.ts, job.ts (windows in
 * order, with failover), one-graph.ts (the low-memory mode's jobs).
 *
 * Which graphs are resident: 'both' (the normal mode) or 'one-at-a-time' (the low-memory mode, swapped by `reside`);
 * residency.ts keeps them, and `load` composes their first load with the warm-ups.  A window is encoded
 * (`encodeWindow`) and decoded (`decodeWindow`) in two halves, so one-graph.ts can encode every window of a job
 * before the decoder is loaded.
 */

import { N_MELS, SAMPLE_RATE_HZ, WINDOW_FRAMES, WINDOW_SAMPLES } from '../constants.ts';
import { LogMel, type MelFrontEnd } from '../dsp/mel.ts';
import {
  F16_VARIANTS,
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
import { decoderFeeds, greedyDecode, yieldToEventLoop } from './greedy.ts';
import { joinWindowTexts, runJob } from './job.ts';
import { readModelFiles, type ModelSource } from './load.ts';
import { ResidentGraphs, type GraphSide, type Residency } from './residency.ts';
import { defaultTokenCap } from './token-cap.ts';
import type { AsrTokenizer } from './tokenizer.ts';
import { emptyWindowResult, type Backend, type WindowTranscriber, type WindowSpan } from './window-transcriber.ts';
import { audioTokenCount } from './windows.ts';

export { joinWindowTexts, PipelineError, type GraphSide, type ModelSource, type Residency };
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
  /** The sessions resident now, and their swaps (residency.ts). */
  private readonly graphs: ResidentGraphs;

  private constructor(
    readonly runtime: OrtRuntime,
    readonly manifest: ModelManifest,
    readonly variant: Variant,
    readonly tokenizer: AsrTokenizer,
    readonly generation: GenerationConfig,
    /** Where the graphs are read (again, in the low-memory mode: the source must be re-readable). */
    source: ModelSource,
    twinSource: ModelSource,
    private readonly mel: MelFrontEnd,
    /** The variant whose audio encoder this pipeline runs (`variant` unless the caller chose another). */
    readonly encoderVariant: Variant,
    residency: Residency,
  ) {
    const eos = generation.eos_token_id;
    this.eos = new Set(Array.isArray(eos) ? eos : [eos]);
    this.hidden = manifest.model.hidden_size;
    this.graphs = new ResidentGraphs(runtime, manifest, variant, encoderVariant, residency, source, twinSource, () =>
      this.fullWindowPositions(),
    );
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
    const graphs = pipeline.graphs;
    if (residency === 'both') {
      await graphs.loadBoth(onProgress, signal);
      onProgress({ stage: 'warmup', loaded: 0, total: 0, detail: runtime.backend });
      await graphs.prepareKv();
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
    await graphs.loadDecoder(within(onProgress, 0, total), signal);
    onProgress({ stage: 'warmup', loaded: 0, total: 0, detail: runtime.backend });
    await guard(() => pipeline.warmUpDecoder());
    await graphs.releaseDecoder();
    await graphs.loadEncoder(within(onProgress, decoderBytes, total), signal);
    onProgress({ stage: 'warmup', loaded: 0, total: 0, detail: runtime.backend });
    await guard(() => pipeline.warmUpEncoder());
    return pipeline;
  }

  /** How the graphs are resident (fixed at load). */
  get residency(): Residency {
    return this.graphs.residency;
  }

  /** Which sides are resident now. */
  get resident(): { encoder: boolean; decoder: boolean } {
    return this.graphs.resident;
  }

  /** Make `side` the resident one (the low-memory mode; ResidentGraphs.reside).  A no-op when both are resident. */
  reside(side: GraphSide, signal?: AbortSignal): Promise<void> {
    return this.graphs.reside(side, signal);
  }

  /** How many swaps released the runtime's last session (ResidentGraphs.emptied: on WebGPU, the device ended). */
  get emptied(): number {
    return this.graphs.emptied;
  }

  /** Called after a swap made `side` resident (the worker watches the new GPUDevice then). */
  get onResident(): (side: GraphSide) => void {
    return this.graphs.onResident;
  }

  set onResident(callback: (side: GraphSide) => void) {
    this.graphs.onResident = callback;
  }

  /** How the decoder was built and keeps its cache (shown in the backend line). */
  get decoderInfo(): { build: 'fused' | 'export'; kvCache: 'in-place' | 'per-step' } {
    return this.graphs.decoderInfo;
  }

  /** The KV cache's element type (the decoder's past_key_values input type). */
  get kvType(): 'float16' | 'float32' {
    return this.graphs.kvType;
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
   * decoder, the in-place cache of ResidentGraphs.prepareKv).  Compiles shaders before "ready" and catches a device
   * that silently computes zeros (f16 without shader-f16) or NaN.
   */
  private async warmUpDecoder(): Promise<void> {
    const side = this.graphs.decoderNow();
    const ids = this.tokenizer.prompt(0);
    const embeds = await this.embedIds(ids);
    const kv = await side.kv.open();
    const d = side.graph;
    const out = await this.runtime.run(d.session, decoderFeeds(d, embeds, ids.length, 0, kv.past), kv.fetches);
    kv.advance(out);
    kv.close();
    checkWarm('logits', cpuFloat32(out[T.logits] as Tensor), this.runtime.backend);
  }

  /** Generated-token cap of a window of `samples` whose prompt has `promptTokens` ids. */
  private tokenCap(samples: number, promptTokens: number, maxNewTokens?: number): number {
    const maxPositions = this.manifest.model.max_position_embeddings - promptTokens;
    const byDefault = () => defaultTokenCap(samples, this.generation.max_new_tokens ?? undefined);
    return Math.max(1, Math.min(maxNewTokens ?? byDefault(), maxPositions));
  }

  /** Positions of a full 30 s window: its prompt and its token cap (what the in-place KV cache is reserved for). */
  private fullWindowPositions(): number {
    const full = WINDOW_SAMPLES;
    const prompt = this.tokenizer.prompt(audioTokenCount(full)).length;
    return prompt + this.tokenCap(full, prompt);
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
    return this.graphs.twin.check(features, (session) => this.encode(window, signal, session), signal);
  }

  /** audio_encoder on one window: [audioTokens × hidden] rows. */
  async encode(window: Float32Array, signal?: AbortSignal, session?: Session): Promise<Float32Array> {
    const encoder = session ?? this.graphs.encoderNow();
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
    const out = await this.runtime.run(this.graphs.decoderNow().embed, {
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

    const side = this.graphs.decoderNow();
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
  release(): Promise<void> {
    return this.graphs.release();
  }
}
