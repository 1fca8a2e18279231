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
 * token-cap.ts, job.ts (windows in order, with failover).
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
import { F16Twin } from './f16-twin.ts';
import { decoderFeeds, decoderLayout, greedyDecode, yieldToEventLoop, type DecoderGraph } from './greedy.ts';
import { joinWindowTexts, runJob } from './job.ts';
import { KvCache } from './kv-cache.ts';
import { loadSessions, readModelFiles, type ModelSource } from './load.ts';
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

export class GlmAsrPipeline {
  private readonly eos: ReadonlySet<number>;
  private readonly decoderGraph: DecoderGraph;
  private readonly kv: KvCache;
  private readonly twin: F16Twin;
  private readonly hidden: number;

  private constructor(
    readonly runtime: OrtRuntime,
    readonly manifest: ModelManifest,
    readonly variant: Variant,
    readonly tokenizer: AsrTokenizer,
    readonly generation: GenerationConfig,
    private readonly encoder: Session,
    private readonly embed: Session,
    decoder: Session,
    twinSource: ModelSource,
    private readonly mel: MelFrontEnd,
    /** The variant whose audio encoder this pipeline runs (`variant` unless the caller chose another). */
    readonly encoderVariant: Variant,
  ) {
    const eos = generation.eos_token_id;
    this.eos = new Set(Array.isArray(eos) ? eos : [eos]);
    this.hidden = manifest.model.hidden_size;
    this.decoderGraph = decoderLayout(runtime, decoder, this.hidden);
    const kvType = decoder.inputType(T.pastKey(0)) === 'float16' ? 'float16' : 'float32';
    this.kv = new KvCache(runtime, manifest.model, kvType, this.decoderGraph.kvInPlace);
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
    const [encoder, embed, decoder] = await loadSessions(
      runtime,
      source,
      manifest,
      variant,
      onProgress,
      signal,
      encoderVariant,
    );
    const twinSource = opts.twinSource ?? source;
    const pipeline = new GlmAsrPipeline(
      runtime,
      manifest,
      variant,
      tokenizer,
      generation,
      encoder,
      embed,
      decoder,
      twinSource,
      opts.mel ?? new LogMel(),
      encoderVariant,
    );
    onProgress({ stage: 'warmup', loaded: 0, total: 0, detail: runtime.backend });
    await pipeline.prepareKv();
    await (opts.guardWarmUp ? opts.guardWarmUp(() => pipeline.warmUp()) : pipeline.warmUp());
    return pipeline;
  }

  /** How the decoder was built and keeps its cache (shown in the backend line). */
  get decoderInfo(): { build: 'fused' | 'export'; kvCache: 'in-place' | 'per-step' } {
    return { build: this.decoderGraph.takes.positionIds ? 'export' : 'fused', kvCache: this.kv.mode };
  }

  /** The KV cache's element type (the decoder's past_key_values input type). */
  get kvType(): 'float16' | 'float32' {
    return this.kv.type;
  }

  get usesF16(): boolean {
    return F16_VARIANTS.has(this.variant);
  }

  /**
   * One decoder step on a short prompt (and, on WebGPU, one encoder window): compiles shaders before "ready" and
   * catches a device that silently computes zeros (f16 without shader-f16) or NaN.
   */
  private async warmUp(): Promise<void> {
    const check = (name: string, data: Float32Array) => {
      let nonZero = false;
      for (let i = 0; i < data.length; i++) {
        const v = data[i] as number;
        if (!Number.isFinite(v))
          throw new PipelineError('WARMUP_FAILED', `${name} has NaN/Inf on ${this.runtime.backend}`);
        if (v !== 0) nonZero = true;
      }
      if (!nonZero) throw new PipelineError('WARMUP_FAILED', `${name} is all zeros on ${this.runtime.backend}`);
    };
    if (this.runtime.backend === 'webgpu') {
      const features = await this.encode(new Float32Array(SAMPLE_RATE_HZ));
      check('audio_features', features);
    }
    const ids = this.tokenizer.prompt(0);
    const embeds = await this.embedIds(ids);
    // The path windows take: on WebGPU with the fused decoder, the in-place cache (prepareKv).
    const kv = await this.kv.open();
    const d = this.decoderGraph;
    const out = await this.runtime.run(d.session, decoderFeeds(d, embeds, ids.length, 0, kv.past), kv.fetches);
    kv.advance(out);
    kv.close();
    check('logits', cpuFloat32(out[T.logits] as Tensor));
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
    if (this.kv.mode !== 'in-place') return;
    const full = WINDOW_SAMPLES;
    const prompt = this.tokenizer.prompt(audioTokenCount(full)).length;
    await this.kv.reserve(prompt + this.tokenCap(full, prompt));
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
  async encode(window: Float32Array, signal?: AbortSignal, session: Session = this.encoder): Promise<Float32Array> {
    const { features, validFrames } = this.mel.window30s(window);
    const mask = new BigInt64Array(WINDOW_FRAMES);
    mask.fill(1n, 0, validFrames);
    await yieldToEventLoop();
    signal?.throwIfAborted();
    const out = await this.runtime.run(
      session,
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
    const out = await this.runtime.run(this.embed, { [T.inputIds]: this.runtime.int64(data, [1, ids.length]) });
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
    const { index } = span;
    const signal = opts.signal;
    const audioTokens = audioTokenCount(samples.length);
    const result = emptyWindowResult(span, audioTokens);
    if (audioTokens === 0) return result; // < 7 mel frames (~60 ms): nothing for the model to hear
    let t = now();
    const { features, variant: encodedWith } = await this.encodeChecked(samples, signal);
    if (encodedWith !== this.variant) {
      result.encoderVariant = encodedWith;
      opts.onEvent?.({ type: 'precision-fallback', index, from: this.variant, to: encodedWith });
    }
    if (features.length !== audioTokens * this.hidden)
      throw new Error(`audio_encoder gave ${features.length / this.hidden} rows for ${audioTokens} audio tokens`);
    result.encoderMs = now() - t;

    t = now();
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
    const cap = this.tokenCap(samples.length, ids.length, opts.maxNewTokens);
    const kv = await this.kv.open(ids.length + cap);
    let decoded: Awaited<ReturnType<typeof greedyDecode>>;
    try {
      decoded = await greedyDecode(this.decoderGraph, kv, {
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

  async release(): Promise<void> {
    await this.runtime.release();
    this.kv.release();
  }
}
