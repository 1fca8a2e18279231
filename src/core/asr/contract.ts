/**
 * The contract between the converter (tools/glmasr_onnx) and the TypeScript pipeline: the model directory's files,
 * the three graphs' tensor names, shapes and dtypes (the graphs' interface: docs/model.md), and the manifest's
 * fields.
 * No runtime code beyond constants: this file is read by the worker, the Node CLI, the server and the tests.
 */

/** The converter's variants and their transformers.js file suffixes. */
export const VARIANT_SUFFIX = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  q4: '_q4',
  q4f16: '_q4f16',
} as const;
export type Variant = keyof typeof VARIANT_SUFFIX;
export const VARIANTS = Object.keys(VARIANT_SUFFIX) as Variant[];
export function isVariant(v: unknown): v is Variant {
  return typeof v === 'string' && Object.hasOwn(VARIANT_SUFFIX, v);
}
/** Variants whose compute needs float16 on the device (WebGPU `shader-f16`). */
export const F16_VARIANTS: ReadonlySet<Variant> = new Set(['fp16', 'q4f16']);
/** Each f16 variant's float32 variant with the same weight quantization (converter: quantize.F32_TWIN). */
export const F32_TWIN: Readonly<Partial<Record<Variant, Variant>>> = { q4f16: 'q4', fp16: 'fp32' };

/**
 * Where a window is computed: this device's GPU ('webgpu') or CPU ('wasm') through onnxruntime-web, onnxruntime-node
 * ('cpu', the server and the CLI), or an OpenAI-compatible server ('server').  The one name for these values
 * (docs/architecture.md, glossary).
 */
export type Backend = 'webgpu' | 'wasm' | 'cpu' | 'server';
/** The backends onnxruntime runs in this process. */
export type LocalBackend = Exclude<Backend, 'server'>;
/** The backends a browser offers. */
export type DeviceBackend = 'webgpu' | 'wasm';

export type GraphName = 'audio_encoder' | 'embed_tokens' | 'decoder_model_merged';
export const GRAPHS: readonly GraphName[] = ['audio_encoder', 'embed_tokens', 'decoder_model_merged'];

/**
 * audio_encoder
 *   in  input_features       float32 [W, 128, 3000]   log-mel per 30 s window (zero-padded audio)
 *   in  input_features_mask  int64   [W, 3000]        1 for the first ceil(n/160) frames of each window
 *   out audio_features       float32 [N, H]           valid rows of all windows, in order (N = Σ audio tokens)
 *   out audio_feature_lengths int64  [W]
 * embed_tokens
 *   in  input_ids      int64   [B, S]
 *   out inputs_embeds  float32 [B, S, H]
 * decoder_model_merged
 *   in  inputs_embeds            float32 [B, S, H]
 *   in  attention_mask           int64   [B, P + S]
 *   in  position_ids             int64   [B, S]      unfused export only (the fused graph's GroupQueryAttention
 *   in  num_logits_to_keep       int64   scalar      derives positions from the mask and keeps the last logits)
 *   in  past_key_values.{i}.key|value  kv dtype [B, KV, P, D]   (P = 0 on the first step)
 *   out logits                   float32 [B, 1, V]
 *   out present.{i}.key|value    kv dtype [B, KV, P + S, D]
 * The KV dtype is float16 in the fp16/q4f16 variants, float32 otherwise; the graph I/O is float32 everywhere else.
 */
export const T = {
  inputFeatures: 'input_features',
  inputFeaturesMask: 'input_features_mask',
  audioFeatures: 'audio_features',
  inputIds: 'input_ids',
  inputsEmbeds: 'inputs_embeds',
  attentionMask: 'attention_mask',
  positionIds: 'position_ids',
  numLogitsToKeep: 'num_logits_to_keep',
  logits: 'logits',
  pastKey: (i: number) => `past_key_values.${i}.key`,
  pastValue: (i: number) => `past_key_values.${i}.value`,
  presentKey: (i: number) => `present.${i}.key`,
  presentValue: (i: number) => `present.${i}.value`,
} as const;

/** `manifest.json` written by the converter (format "glm-asr-onnx/1"). */
export interface ModelManifest {
  format: string;
  model_id: string;
  revision: string;
  model: {
    audio_token_id: number;
    audio_hidden_size: number;
    /** The audio encoder's attention heads (absent in manifests written before 2026-12-07). */
    audio_num_attention_heads?: number;
    hidden_size: number;
    vocab_size: number;
    num_layers: number;
    num_key_value_heads: number;
    head_dim: number;
    max_position_embeddings: number;
    eos_token_ids: number[];
  };
  special_tokens: Record<string, number>;
  variants: Partial<Record<Variant, ManifestVariant>>;
  files: ManifestFile[];
  /** The checkpoint it was converted from (converters since the first-start work): a hub commit or a directory. */
  source?: { hub_id: string; revision: string } | { path: string };
}
export interface ManifestVariant {
  bytes: number;
  graphs: Record<GraphName, ManifestGraph>;
}
export interface ManifestGraph {
  files: string[];
  bytes: number;
  largest_initializer: { name: string; bytes: number };
  /** "fused": the decoder built by onnxruntime-genai's builder; "export": op by op (absent in older manifests). */
  build?: 'fused' | 'export';
  /** Nodes in the graph: for the decoder, the kernels run per generated token. */
  nodes?: number;
  /** Node count per op type ("com.microsoft.GroupQueryAttention" for contrib ops). */
  op_types?: Record<string, number>;
  /** MatMulNBits' accuracy level (graphs with 4-bit products; 4: int8 activations on the CPU). */
  matmulnbits_accuracy_level?: number;
  /**
   * How MatMulInteger weights are stored (graphs with int8 products; absent before 2026-12-07, when q8's decoder had
   * uint8 weights and its encoder int8): "int8" runs on the CPU's U8S8 GEMM (tools/glmasr_onnx/quantize.py).
   */
  matmulinteger_weights?: 'int8' | 'uint8';
  /**
   * The audio encoder's attention is computed this many query rows at a time, against all keys
   * (tools/glmasr_onnx/export.py).  Absent in models converted before 2026-12-07: their encoder computes each layer's
   * attention over the whole window in one call.
   */
  attention_query_rows?: number;
}
export interface ManifestFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** `generation_config.json` fields the pipeline reads. */
export interface GenerationConfig {
  eos_token_id: number | number[];
  max_new_tokens?: number;
}

/** The files of a model directory the pipeline reads besides the graphs. */
export const MODEL_JSON_FILES = [
  'manifest.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
] as const;
export const CHAT_TEMPLATE_FILE = 'chat_template.jinja';

/** The transcription request of GLM-ASR's processor (its `default_transcription_prompt`; docs/model.md). */
export const TRANSCRIPTION_PROMPT = 'Please transcribe this audio into text';

/* Results and progress the pipeline reports (also carried by the worker protocol). */

export interface LoadProgress {
  /** 'download': network → storage; 'read': storage (or, unsaved, the network) → memory, checked; then sessions. */
  stage: 'config' | 'download' | 'read' | 'session' | 'warmup';
  /** Bytes done so far and in total for 'download' and 'read'; 0/0 otherwise. */
  loaded: number;
  total: number;
  detail: string;
  /** While downloading: per-file state, speed and what the storage has room for. */
  download?: DownloadStatus;
}

/* Model storage (workers/model-store/): one IndexedDB store, records keyed by arrays. */

/** Which stored copy: model id and revision from manifest.json, and the variant. */
export interface ModelKey {
  modelId: string;
  revision: string;
  variant: Variant;
}

export type FileState = 'waiting' | 'downloading' | 'retrying' | 'verifying' | 'done';

export interface FileProgress {
  path: string;
  /** Bytes stored (plus the in-flight piece while downloading) and the file's size. */
  loaded: number;
  total: number;
  state: FileState;
}

export interface DownloadStatus {
  files: FileProgress[];
  /** Bytes per second over the last seconds, and the time left at that speed (null until measurable). */
  bytesPerSec: number;
  etaSec: number | null;
  /** Bytes that were already stored when this download started (a resume). */
  resumedFrom: number;
  /** Storage before starting: what this download still needs and what the browser says is free (null: unknown). */
  needed: number;
  available: number | null;
  /** The latest transient problem being retried ("connection lost, retrying in 2 s"), or ''. */
  note: string;
}

/** A stored model as the settings panel lists it. */
export interface StoredModel extends ModelKey {
  baseUrl: string;
  /** Bytes of the variant's files, and how many of them are stored. */
  bytes: number;
  storedBytes: number;
  complete: boolean;
  updatedAt: number;
}

export type StopReason = 'eos' | 'max-tokens' | 'repetition' | 'no-audio';

export interface WindowResult {
  index: number;
  /** The backend that computed it (set by the job runner, job.ts); the field keeps its stored and sent name. */
  engine?: Backend;
  startSec: number;
  endSec: number;
  /** Generated ids, the EOS id included when the window ended on one. */
  tokenIds: number[];
  text: string;
  stopReason: StopReason;
  audioTokens: number;
  promptTokens: number;
  encoderMs: number;
  prefillMs: number;
  decodeMs: number;
  /**
   * Set when an f16 variant's audio features overflowed (inf/NaN) and this window's audio was encoded by the
   * float32 twin instead (e.g. 'q4' for 'q4f16'); the decoder stayed the planned variant.
   */
  encoderVariant?: Variant;
}

export interface Transcript {
  text: string;
  windows: WindowResult[];
  audioSec: number;
  totalMs: number;
}

export type TranscribeEvent =
  | { type: 'window-start'; index: number; count: number; startSec: number; endSec: number }
  | { type: 'token'; index: number; tokenId: number; text: string; generated: number; cap: number }
  | { type: 'window-end'; result: WindowResult; count: number }
  /** Window `index`'s audio features overflowed in `from` (f16) and were computed again by its float32 twin `to`. */
  | { type: 'precision-fallback'; index: number; from: Variant; to: Variant }
  /** The window transcriber failed at window `index`; the next one is being started (loading it may take a while). */
  | { type: 'engine-failed'; index: number; from: string; reason: string }
  /** The transcriber failed before window `index`; it and the windows after it go to `to` (said once per switch). */
  | { type: 'engine-switch'; index: number; from: string; to: string; reason: string }
  /**
   * The low-memory mode's phases (one graph at a time, one-graph.ts): window `index` being encoded, `done` of the
   * job's `count` windows before it; the decoder (or the encoder, when it is not resident) being loaded, `index` the
   * next window; window `index` being decoded.  Each window still has its window-start, token and window-end events,
   * in order, in the decoding phase.
   */
  | { type: 'phase'; phase: JobPhase; index: number; done: number; count: number };

/** A low-memory job's phase (the `phase` event). */
export type JobPhase = 'encoding' | 'loading-decoder' | 'decoding' | 'loading-encoder';

/** Live dictation's events for one recording (src/core/live/live.ts), sent to the page as they happen. */
/** What live dictation's voice activity detection cost over a recording, and whether a decode ever stalled it. */
export interface LiveStats {
  /** VAD frames run (512 samples, 32 ms each). */
  vadFrames: number;
  /** Time inside the VAD's model calls, in all (a call made during a decode also waits for the decoder's turns). */
  vadMs: number;
  /** Frames run with no decode in flight, and their time: the VAD's own cost. */
  idleFrames: number;
  idleVadMs: number;
  /** The longest a frame waited between arriving from the capture and its VAD result. */
  maxVadLagMs: number;
  /** Frames whose VAD started and finished within one decode (run beside the model, not after it). */
  framesWhileDecoding: number;
  decodes: number;
}

export type LiveEvent =
  /** This recording is transcribed live (sent when it starts). */
  | { type: 'listening' }
  /** Speech began (seconds from the start of the recording; pre-roll included). */
  | { type: 'speech-start'; id: number; start: number }
  /** Volatile text of the open segment so far. */
  | { type: 'partial'; id: number; start: number; text: string }
  /** The segment's final text (empty when nothing was recognised); `error` when its decode failed. */
  | {
      type: 'final';
      id: number;
      start: number;
      end: number;
      text: string;
      engine: string;
      error?: string;
      /** Samples captured (16 kHz) when the final was ready: its latency in audio time is this minus the speech end. */
      atSample: number;
      /** Wall clock (Date.now()) when the final was sent: what the screen adds after it is measured from this. */
      atMs: number;
    }
  /** The open segment turned out not to be speech: forget its partial text. */
  | { type: 'discard'; id: number }
  /** Finals waiting (not counting the one decoding): how many and how much audio. */
  | { type: 'backlog'; segments: number; seconds: number }
  /** Every final is out (after finish()), and what the voice activity detection cost. */
  | { type: 'done'; stats: LiveStats }
  /** Live text stopped (the VAD failed); the recording goes on. */
  | { type: 'error'; message: string };
