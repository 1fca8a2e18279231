/**
 * GLM-ASR inference, isomorphic (no DOM, no Node-only APIs): the same code runs in the ASR worker (onnxruntime-web)
 * and in Node (the CLI and the server, onnxruntime-node).  shared/docs/glm-asr.md §7.4:
 *
 *   16 kHz PCM → ≤ 30 s windows (cut at the quietest point of the last 2 s) → 128-bin log-mel per window →
 *   audio_encoder → prompt from the chat template with one <|pad|> per audio token → embed_tokens, audio rows placed
 *   at the placeholders → greedy decode with KV cache until an id of generation_config's EOS set → detokenize.
 *
 * Windows are independent prompts (each is exactly the official ≤ 30 s case).  Tokens stream to the caller as they
 * are produced.  Every call takes an AbortSignal, checked before each graph run, so a cancel lands within one step.
 */

import { N_MELS, SAMPLE_RATE_HZ, WINDOW_FRAMES, WINDOW_SAMPLES } from '../constants.ts';
import { LogMel } from '../dsp/mel.ts';
import {
  CHAT_TEMPLATE_FILE,
  F16_VARIANTS,
  F32_TWIN,
  type GenerationConfig,
  type GraphName,
  type LoadProgress,
  type TranscribeEvent,
  type Transcript,
  type WindowResult,
  type ModelManifest,
  T,
  type Variant,
} from './contract.ts';
import {
  cpuFloat32,
  type GraphSource,
  type Outputs,
  type OrtRuntime,
  type Session,
  type Tensor,
} from '../ort/runtime.ts';
import { PipelineError } from './errors.ts';
import { joinWindowTexts, runJob } from './job.ts';
import { AsrTokenizer } from './tokenizer.ts';
import { emptyWindowResult, type Backend, type WindowTranscriber, type WindowSpan } from './window-transcriber.ts';
import { audioTokenCount } from './windows.ts';

export { joinWindowTexts, PipelineError };

/** Where the model directory's files come from: fetch in the browser, the file system in Node. */
export interface ModelSource {
  readonly label: string;
  /** How its bytes arrive, for progress: 'download' (network into memory) or 'read' (this device's storage). */
  readonly stage?: 'download' | 'read';
  text(path: string): Promise<string>;
  /** A graph or external-data file: its bytes, or a path the runtime opens itself (Node). */
  binary(path: string, onBytes?: (loaded: number) => void): Promise<Uint8Array | string>;
}

export interface TranscribeOptions {
  signal?: AbortSignal;
  onEvent?: (event: TranscribeEvent) => void;
  /** Per-window cap on generated tokens; default: min(generation_config.max_new_tokens, 32 + 10 per second). */
  maxNewTokens?: number;
  /** Stop a window whose tail repeats an n-gram (default on). */
  repetitionGuard?: boolean;
}

/** Tokens per second of audio allowed before the per-window cap (speech runs at ~3–6 tokens/s). */
const CAP_TOKENS_PER_SEC = 10;
const CAP_BASE_TOKENS = 32;
/** Prompt tokens per decoder run for the fused decoder on WebGPU (see the constructor). */
const WEBGPU_GQA_PREFILL_CHUNK = 16;

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

/** Free the GPU buffers among `tensors` (the KV cache on WebGPU); CPU tensors are left to the garbage collector. */
function disposeGpuTensors(tensors: Record<string, Tensor>): void {
  for (const t of Object.values(tensors)) if (t.location === 'gpu-buffer') t.dispose();
}

function now(): number {
  return performance.now();
}

const GRAPH_ORDER: readonly GraphName[] = ['audio_encoder', 'embed_tokens', 'decoder_model_merged'];

function allFinite(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i] as number)) return false;
  return true;
}

interface LoadCounter {
  done: number;
  total: number;
  onProgress: (p: LoadProgress) => void;
}

/** Read one graph of `variant` (and its external data) from `source` and create its session. */
async function loadGraph(
  runtime: OrtRuntime,
  source: ModelSource,
  manifest: ModelManifest,
  variant: Variant,
  graph: GraphName,
  progress: LoadCounter,
  signal?: AbortSignal,
): Promise<Session> {
  const stage = source.stage ?? 'download';
  const files = manifest.variants[variant]?.graphs[graph].files ?? [];
  const [modelPath, ...dataPaths] = files;
  if (!modelPath) throw new PipelineError('MODEL_LOAD_FAILED', `manifest lists no ${variant} file for ${graph}`);
  const fetchOne = async (path: string) => {
    const base = progress.done;
    const data = await source.binary(path, (loaded) =>
      progress.onProgress({ stage, loaded: base + loaded, total: progress.total, detail: path }),
    );
    const entry = manifest.files.find((f) => f.path === path);
    progress.done += entry?.bytes ?? (typeof data === 'string' ? 0 : data.byteLength);
    progress.onProgress({ stage, loaded: progress.done, total: progress.total, detail: path });
    return data;
  };
  const model = await fetchOne(modelPath);
  const graphSource: GraphSource = { graph, model };
  if (typeof model !== 'string' && dataPaths.length) {
    graphSource.externalData = [];
    for (const p of dataPaths) {
      graphSource.externalData.push({ path: p.split('/').pop() ?? p, data: await fetchOne(p) });
    }
  } else {
    for (const p of dataPaths) progress.done += manifest.files.find((f) => f.path === p)?.bytes ?? 0;
  }
  signal?.throwIfAborted();
  progress.onProgress({ stage: 'session', loaded: 0, total: 0, detail: graph });
  const onGpu =
    graph === 'decoder_model_merged'
      ? Array.from({ length: manifest.model.num_layers }, (_, i) => [T.presentKey(i), T.presentValue(i)]).flat()
      : [];
  return runtime.createSession(graphSource, { outputsOnGpu: onGpu });
}

export class GlmAsrPipeline {
  private readonly mel = new LogMel();
  private readonly eos: ReadonlySet<number>;
  readonly kvType: 'float16' | 'float32';
  private readonly decoderTakes: { positionIds: boolean; numLogitsToKeep: boolean };
  private readonly prefillChunk: number;
  private kvInPlace: boolean;
  /** The in-place KV cache (WebGPU, fused decoder): per layer [1, KV, capacity, D], grown when a window needs more. */
  private sharedKv: { capacity: number; past: Record<string, Tensor> } | null = null;
  private twinSource: ModelSource | null = null;
  private twinEncoder: Promise<Session> | null = null;
  private readonly hidden: number;

  private constructor(
    readonly runtime: OrtRuntime,
    readonly manifest: ModelManifest,
    readonly variant: Variant,
    readonly tokenizer: AsrTokenizer,
    readonly generation: GenerationConfig,
    private readonly encoder: Session,
    private readonly embed: Session,
    private readonly decoder: Session,
  ) {
    const eos = generation.eos_token_id;
    this.eos = new Set(Array.isArray(eos) ? eos : [eos]);
    const t = decoder.inputType(T.pastKey(0));
    this.kvType = t === 'float16' ? 'float16' : 'float32';
    this.decoderTakes = {
      positionIds: decoder.inputNames.includes(T.positionIds),
      numLogitsToKeep: decoder.inputNames.includes(T.numLogitsToKeep),
    };
    this.hidden = manifest.model.hidden_size;
    // onnxruntime-web 1.30's WebGPU GroupQueryAttention returns wrong attention for a prefill of 32 tokens or more
    // (measured under SwiftShader: 1..31 match the CPU to 1e-6, 32+ do not, packed or split q/k/v); a prompt of
    // chunks of 16 with the KV cache in between gives the CPU's logits.  The unfused graph takes it whole.
    const fused = !this.decoderTakes.positionIds;
    this.prefillChunk = runtime.backend === 'webgpu' && fused ? WEBGPU_GQA_PREFILL_CHUNK : Number.POSITIVE_INFINITY;
    // GroupQueryAttention writes the new keys/values into its past buffer when `present` is that same buffer: on
    // WebGPU the window's cache is allocated once at its token cap and never reallocated.  (onnxruntime-web copies
    // every CPU tensor into its heap and onnxruntime-node copies outputs out, so on the CPU a shared buffer saves
    // nothing: there each step returns a new present, as with the unfused graph.)
    this.kvInPlace = runtime.backend === 'webgpu' && fused;
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
    } = {},
  ): Promise<GlmAsrPipeline> {
    const { onProgress = () => {}, signal } = opts;
    onProgress({ stage: 'config', loaded: 0, total: 0, detail: source.label });
    let manifest: ModelManifest, generation: GenerationConfig, tokenizer: AsrTokenizer;
    try {
      manifest = opts.manifest ?? (JSON.parse(await source.text('manifest.json')) as ModelManifest);
      generation = JSON.parse(await source.text('generation_config.json')) as GenerationConfig;
      tokenizer = new AsrTokenizer(
        JSON.parse(await source.text('tokenizer.json')),
        JSON.parse(await source.text('tokenizer_config.json')),
        await source.text(CHAT_TEMPLATE_FILE),
      );
    } catch (err) {
      throw new PipelineError('MODEL_LOAD_FAILED', `${source.label}: ${err instanceof Error ? err.message : err}`);
    }
    const info = manifest.variants[variant];
    if (!info) {
      const have = Object.keys(manifest.variants).join(', ');
      throw new PipelineError('MODEL_LOAD_FAILED', `${source.label} has no ${variant} variant (it has ${have})`);
    }
    if (tokenizer.audioTokenId !== manifest.model.audio_token_id)
      throw new PipelineError(
        'MODEL_LOAD_FAILED',
        `tokenizer's <|pad|> is ${tokenizer.audioTokenId} but the model's audio_token_id is ${manifest.model.audio_token_id}`,
      );
    const total = info.bytes;
    const progress = { done: 0, total, onProgress };
    const sessions: Session[] = [];
    for (const graph of GRAPH_ORDER) {
      signal?.throwIfAborted();
      sessions.push(await loadGraph(runtime, source, manifest, variant, graph, progress, signal));
    }
    const [encoder, embed, decoder] = sessions as [Session, Session, Session];
    const pipeline = new GlmAsrPipeline(runtime, manifest, variant, tokenizer, generation, encoder, embed, decoder);
    pipeline.twinSource = opts.twinSource ?? source;
    onProgress({ stage: 'warmup', loaded: 0, total: 0, detail: runtime.backend });
    await pipeline.prepareKv();
    await (opts.guardWarmUp ? opts.guardWarmUp(() => pipeline.warmUp()) : pipeline.warmUp());
    return pipeline;
  }

  /** How the decoder was built and keeps its cache (shown in the engine line). */
  get decoderInfo(): { build: 'fused' | 'export'; kvCache: 'in-place' | 'per-step' } {
    return {
      build: this.decoderTakes.positionIds ? 'export' : 'fused',
      kvCache: this.kvInPlace ? 'in-place' : 'per-step',
    };
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
    const shared = this.kvInPlace ? this.sharedKv?.past : undefined;
    const past = shared ?? this.emptyPast();
    const fetches = shared ? this.inPlaceFetches(shared) : undefined;
    const out = await this.runtime.run(this.decoder, this.decoderFeeds(embeds, ids.length, 0, past), fetches);
    if (!shared) disposeGpuTensors(out);
    check('logits', cpuFloat32(out[T.logits] as Tensor));
  }

  /** Generated-token cap of a window of `samples` whose prompt has `promptTokens` ids. */
  private tokenCap(samples: number, promptTokens: number, maxNewTokens?: number): number {
    const maxPositions = this.manifest.model.max_position_embeddings - promptTokens;
    const byLength = CAP_BASE_TOKENS + Math.ceil(CAP_TOKENS_PER_SEC * (samples / SAMPLE_RATE_HZ));
    return Math.max(
      1,
      Math.min(maxNewTokens ?? Math.min(this.generation.max_new_tokens ?? 500, byLength), maxPositions),
    );
  }

  /**
   * On WebGPU with the fused decoder: allocate the in-place KV cache for a full 30 s window now (memory committed
   * before the model is ready, shaders of the in-place path compiled by the warm-up).  Where GPU buffers cannot be
   * made, the cache is per step, and `decoderInfo` says so.
   */
  private async prepareKv(): Promise<void> {
    if (!this.kvInPlace) return;
    const full = WINDOW_SAMPLES;
    const prompt = this.tokenizer.prompt(audioTokenCount(full)).length;
    if (!(await this.inPlaceKv(prompt + this.tokenCap(full, prompt)))) this.kvInPlace = false;
  }

  /** The in-place KV cache with room for `tokens` positions (reused across windows; grown, never shrunk). */
  private async inPlaceKv(tokens: number): Promise<Record<string, Tensor> | null> {
    if (this.sharedKv && this.sharedKv.capacity >= tokens) return this.sharedKv.past;
    const { num_layers, num_key_value_heads, head_dim } = this.manifest.model;
    const capacity = Math.max(tokens, this.sharedKv?.capacity ?? 0);
    if (this.sharedKv) disposeGpuTensors(this.sharedKv.past);
    this.sharedKv = null;
    const past: Record<string, Tensor> = {};
    for (let i = 0; i < num_layers; i++) {
      for (const name of [T.pastKey(i), T.pastValue(i)]) {
        const t = await this.runtime.gpuTensor(this.kvType, [1, num_key_value_heads, capacity, head_dim]);
        if (!t) {
          disposeGpuTensors(past);
          return null;
        }
        past[name] = t;
      }
    }
    this.sharedKv = { capacity, past };
    return past;
  }

  /** Fetches that make the decoder write `present.*` into the in-place cache (logits allocated by ORT). */
  private inPlaceFetches(shared: Record<string, Tensor>): Record<string, Tensor | null> {
    const fetches: Record<string, Tensor | null> = { [T.logits]: null };
    for (let i = 0; i < this.manifest.model.num_layers; i++) {
      fetches[T.presentKey(i)] = shared[T.pastKey(i)]!;
      fetches[T.presentValue(i)] = shared[T.pastValue(i)]!;
    }
    return fetches;
  }

  /** This step's `present.*` as the next step's past; the previous past is freed (GPU buffers explicitly). */
  private takePresent(past: Record<string, Tensor>, out: Outputs): Record<string, Tensor> {
    disposeGpuTensors(past);
    const next: Record<string, Tensor> = {};
    for (let i = 0; i < this.manifest.model.num_layers; i++) {
      next[T.pastKey(i)] = out[T.presentKey(i)] as Tensor;
      next[T.pastValue(i)] = out[T.presentValue(i)] as Tensor;
    }
    return next;
  }

  private emptyPast(): Record<string, Tensor> {
    const { num_layers, num_key_value_heads, head_dim } = this.manifest.model;
    const past: Record<string, Tensor> = {};
    for (let i = 0; i < num_layers; i++) {
      past[T.pastKey(i)] = this.runtime.empty(this.kvType, [1, num_key_value_heads, 0, head_dim]);
      past[T.pastValue(i)] = this.runtime.empty(this.kvType, [1, num_key_value_heads, 0, head_dim]);
    }
    return past;
  }

  private decoderFeeds(embeds: Tensor, seq: number, pastLen: number, past: Record<string, Tensor>) {
    const mask = new BigInt64Array(pastLen + seq).fill(1n);
    const feeds: Record<string, Tensor> = {
      [T.inputsEmbeds]: embeds,
      [T.attentionMask]: this.runtime.int64(mask, [1, pastLen + seq]),
      ...past,
    };
    // The op-by-op export takes explicit positions and a logits count; the fused graph has neither.
    if (this.decoderTakes.positionIds) {
      const pos = new BigInt64Array(seq);
      for (let i = 0; i < seq; i++) pos[i] = BigInt(pastLen + i);
      feeds[T.positionIds] = this.runtime.int64(pos, [1, seq]);
    }
    if (this.decoderTakes.numLogitsToKeep) feeds[T.numLogitsToKeep] = this.runtime.int64(BigInt64Array.of(1n), []);
    return feeds;
  }

  /**
   * audio_encoder on one window, checked: an f16 variant whose features hold inf/NaN (FunASR's warning: fp16 can
   * overflow in GLM-ASR's audio path) re-encodes the window with its float32 twin's encoder, loaded on first need.
   * Returns the rows and, when the twin was used, its variant.
   */
  async encodeChecked(
    window: Float32Array,
    signal?: AbortSignal,
  ): Promise<{ features: Float32Array; variant: Variant }> {
    const features = await this.encode(window, signal);
    if (allFinite(features)) return { features, variant: this.variant };
    const twin = F32_TWIN[this.variant];
    const what = `audio_encoder (${this.variant}) gave inf/NaN audio features`;
    if (!twin || !this.manifest.variants[twin])
      throw new PipelineError('NON_FINITE', `${what}, and the model has no float32 twin to re-encode with`);
    let session: Session;
    try {
      session = await (this.twinEncoder ??= this.loadTwinEncoder(twin, signal));
    } catch (err) {
      this.twinEncoder = null;
      throw new PipelineError(
        'NON_FINITE',
        `${what}; its float32 twin (${twin}) could not be loaded: ${err instanceof Error ? err.message : err}`,
      );
    }
    const again = await this.encode(window, signal, session);
    if (!allFinite(again)) throw new PipelineError('NON_FINITE', `${what}, and so did its float32 twin (${twin})`);
    return { features: again, variant: twin };
  }

  private async loadTwinEncoder(twin: Variant, signal?: AbortSignal): Promise<Session> {
    const source = this.twinSource;
    if (!source) throw new Error('no source for the twin');
    const bytes = this.manifest.variants[twin]!.graphs.audio_encoder.bytes;
    const progress = { done: 0, total: bytes, onProgress: () => {} };
    return loadGraph(this.runtime, source, this.manifest, twin, 'audio_encoder', progress, signal);
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

  /** Where this pipeline runs, as the job runner names engines. */
  get kind(): Backend {
    return this.runtime.backend;
  }

  /** This pipeline as a job engine (window by window), with `defaults` applied to every window. */
  asEngine(label: string, defaults: TranscribeOptions = {}): WindowTranscriber {
    return {
      kind: this.kind,
      label,
      transcribeWindow: (samples, span, opts) => this.transcribeWindow(samples, span, { ...defaults, ...opts }),
    };
  }

  /** Transcribe 16 kHz mono PCM, window by window (job.ts).  Rejects with the signal's reason when aborted. */
  async transcribe(pcm: Float32Array, opts: TranscribeOptions = {}): Promise<Transcript> {
    const { switches: _switches, ...transcript } = await runJob(pcm, this.asEngine(this.runtime.backend, opts), opts);
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
    const merged = new Float32Array(embedded);
    let row = 0;
    for (let p = 0; p < ids.length; p++) {
      if (ids[p] === this.tokenizer.audioTokenId) {
        merged.set(features.subarray(row * this.hidden, (row + 1) * this.hidden), p * this.hidden);
        row++;
      }
    }
    const cap = this.tokenCap(samples.length, ids.length, opts.maxNewTokens);
    const guard = opts.repetitionGuard ?? true;

    let inputs: Tensor | null = null;
    const shared = this.kvInPlace ? await this.inPlaceKv(ids.length + cap) : null;
    let past = shared ?? this.emptyPast();
    const fetches = shared ? this.inPlaceFetches(shared) : undefined;
    const next = (out: Outputs) => (shared ? shared : this.takePresent(past, out));
    let pastLen = 0;
    let seq = ids.length;
    const generated: number[] = [];
    result.stopReason = 'max-tokens';
    try {
      for (let step = 0; step < cap; step++) {
        let out: Outputs;
        if (step === 0) {
          // The prompt, in chunks where the decoder needs them (prefillChunk); the last chunk's logits.
          for (let at = 0; ; at += this.prefillChunk) {
            const n = Math.min(this.prefillChunk, ids.length - at);
            await yieldToEventLoop();
            signal?.throwIfAborted();
            const chunk = this.runtime.float32(merged.subarray(at * this.hidden, (at + n) * this.hidden), [
              1,
              n,
              this.hidden,
            ]);
            out = await this.runtime.run(this.decoder, this.decoderFeeds(chunk, n, at, past), fetches);
            past = next(out);
            if (at + n === ids.length) break;
          }
        } else {
          await yieldToEventLoop();
          signal?.throwIfAborted();
          out = await this.runtime.run(this.decoder, this.decoderFeeds(inputs!, seq, pastLen, past), fetches);
          past = next(out);
        }
        const logits = cpuFloat32(out[T.logits] as Tensor);
        const vocab = logits.length; // [1, 1, V] with num_logits_to_keep = 1
        let best = 0;
        let bestV = logits[0] as number;
        for (let v = 1; v < vocab; v++) {
          const x = logits[v] as number;
          if (x > bestV) {
            bestV = x;
            best = v;
          }
        }
        if (step === 0) result.prefillMs = now() - t;
        generated.push(best);
        if (this.eos.has(best)) {
          result.stopReason = 'eos';
          break;
        }
        opts.onEvent?.({
          type: 'token',
          index,
          tokenId: best,
          text: this.tokenizer.decode(generated).replace(/\uFFFD+$/u, ''),
          generated: generated.length,
          cap,
        });
        if (guard && repeatsAtTail(generated)) {
          result.stopReason = 'repetition';
          break;
        }
        if (step + 1 === cap) break;
        pastLen += seq;
        seq = 1;
        inputs = await this.embedIds([best]);
      }
    } finally {
      if (!shared) disposeGpuTensors(past);
    }
    result.decodeMs = now() - t - result.prefillMs;
    result.tokenIds = generated;
    result.text = this.tokenizer.decode(generated);
    return result;
  }

  async release(): Promise<void> {
    await this.runtime.release();
    if (this.sharedKv) disposeGpuTensors(this.sharedKv.past);
    this.sharedKv = null;
  }
}
