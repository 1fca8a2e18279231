/**
 * What the page and the ASR worker tell each other about: error codes, capture statistics, the loaded backend,
 * routing and load options, storage and device reports, the test knobs.  The messages that carry them are in
 * protocol.ts (which re-exports all of this: import from there).  Types only, checked in every execution context.
 */

import type { Backend, DeviceBackend, LoadProgress, StoredModel, Variant } from './asr/contract.ts';
import type { DeviceProbe } from './device.ts';
import type { LiveSource } from './planner.ts';

/**
 * One live-dictation take has one id from the moment Record is pressed: its library document's id, `rec-<ms>`
 * (recordingDocId in src/core/format/document.ts; kept documents already carry it, so its form never changes).
 */
export type RecordingId = string;

/** Error codes the UI maps to copy (src/app/shared/messages.ts).  Stable: tests look for them. */
export type ErrorCode =
  | 'MIC_DENIED'
  | 'MIC_NOT_FOUND'
  | 'MIC_BUSY'
  | 'MIC_IN_OTHER_TAB'
  | 'DEVICE_LOST'
  | 'CAPTURE_INTERRUPTED'
  | 'INSECURE_CONTEXT'
  | 'UNSUPPORTED_BROWSER'
  | 'FRAMES_LOST'
  | 'BAD_AUDIO'
  | 'NOT_AUDIO'
  | 'EMPTY_FILE'
  | 'SILENT_AUDIO'
  | 'NO_ADAPTER'
  | 'MODEL_LOAD_FAILED'
  | 'SESSION_CREATE_FAILED'
  | 'OUT_OF_MEMORY'
  | 'DEVICE_LOST_GPU'
  | 'WARMUP_FAILED'
  | 'NON_FINITE'
  | 'DOWNLOAD_FAILED'
  | 'DOWNLOAD_PAUSED'
  | 'INTEGRITY_FAILED'
  | 'STORAGE_FULL'
  | 'STORAGE_UNAVAILABLE'
  | 'OFFLINE_NOT_STORED'
  | 'NOT_STORED'
  | 'NOT_KEPT'
  | 'JOB_RUNNING'
  | 'LIBRARY_FULL'
  | 'LIBRARY_UNAVAILABLE'
  | 'NOT_LOADED'
  | 'CONSENT_REQUIRED'
  | 'NO_ENGINE'
  | 'SERVER_UNREACHABLE'
  | 'SERVER_ERROR'
  | 'CANCELLED'
  | 'INTERNAL';

export interface ErrorInfo {
  code: ErrorCode;
  /** Technical detail for logs and the "details" disclosure; the UI writes its own sentence per code. */
  detail: string;
}

/** Recording statistics while capturing, sent ~10 times a second. */
export interface CaptureStats {
  recordingId: RecordingId;
  /** 16 kHz samples received and kept so far. */
  samples: number;
  /** Input-rate samples the worklet consumed (known once capture stopped; 0 before). */
  inputSamples: number;
  frames: number;
  /** Frames missing in the sequence (never expected) and frames seen twice. */
  lostFrames: number;
  duplicateFrames: number;
  inputRateHz: number;
  /** Loudest RMS / peak since the previous stats message (for the level meter). */
  rms: number;
  peak: number;
}

/** New columns for the live log-mel view: `columns` frames x N_MELS values, frame-major, log10 power. */
export interface MelColumns {
  columns: number;
  data: Float32Array;
}

/** Which on-device backend to use: 'auto' = the planner's choice (src/core/planner.ts). */
export type BackendChoice = 'auto' | DeviceBackend;

/** *Where to transcribe* (a persisted setting): the planner decides, only this device, or the server. */
export type Where = 'auto' | 'device' | 'server';

/** How the worker chooses and replaces backends (from the settings; see src/core/planner.ts). */
export interface RoutingSettings {
  where: Where;
  /** The OpenAI-compatible API root (with /v1) to fall back to, or null when none is configured. */
  server: { url: string; apiKey?: string; consented: boolean } | null;
  /** Time limit of the WebGPU warm-up before the next plan is tried (default 120 s; set by the worker from the
   *  test knobs only). */
  warmUpTimeoutMs?: number;
  /** Test hook (set by the worker from the test knobs only): destroy the GPU device after N windows of a job. */
  loseGpuAfterWindows?: number;
}

/** What the worker loaded and on what (shown in the UI). */
export interface BackendInfo {
  backend: Exclude<Backend, 'cpu'>;
  /** The variant on the device; for the server, its model id is in `modelId` and the variant is null. */
  variant: Variant | null;
  /** "WebGPU (google swiftshader)", "CPU (WASM, 2 threads)", "server http://…/v1 (tiny)". */
  label: string;
  /** Why the planner chose this backend, and the backends it would move to if this one fails, in order. */
  reasons: string[];
  fallbacks: string[];
  modelId: string;
  /** WebGPU adapter description, or why WebGPU was not used. */
  adapter: string;
  shaderF16: boolean;
  loadMs: number;
  /** Where the weights came from: this device's storage (downloaded now or earlier), the network unsaved, or
   *  nowhere on this device (the server transcribes). */
  storage: 'stored' | 'unsaved' | 'remote';
  /** Milliseconds per load stage (download, read, session, warmup), for the UI and benchmarks. */
  stageMs: Partial<Record<LoadProgress['stage'], number>>;
  /** Stored pieces that failed their check and were fetched again ("onnx/x.onnx_data #3"). */
  repaired: string[];
  /** On-device backends: how the decoder graph was built and how its KV cache is kept (pipeline.ts). */
  decoder?: DecoderInfo;
  /**
   * Where live dictation's text comes from under this backend (workers/host/live-source.ts): 'device'
   * (this backend, as the user speaks), 'server' (`liveServer`, as the user speaks, while files stay on the device),
   * or 'after-stop' (the model is held one graph at a time: nothing is decoded while recording, and the recording is
   * transcribed on the device when Stop is pressed).
   */
  live: LiveSource;
  /** With `live` 'server' on an on-device backend: the server live text comes from ("http://host/v1"). */
  liveServer?: string;
}
export interface DecoderInfo {
  /** 'fused': onnxruntime-genai's builder (GroupQueryAttention); 'export': the op-by-op reference. */
  build: 'fused' | 'export';
  /** 'in-place': one buffer per layer for the window, written by the decoder; 'per-step': a new present per token. */
  kvCache: 'in-place' | 'per-step';
}

/** How a load keeps the weights: 'store' = download once into IndexedDB and load from there; 'memory' = fetch
 *  into memory only (when storage is full or unavailable). */
export type StorageMode = 'store' | 'memory';

export interface ModelLoadOptions {
  storage: StorageMode;
  /** Bytes per stored record (8–32 MiB in use; smaller only for tests). */
  chunkBytes?: number;
  /** Test hook (set by the worker from the test knobs only): the store throws QuotaExceededError once this many
   *  bytes were written in this load. */
  quotaAfterBytes?: number;
  /**
   * A returning visit's load: only what this browser already stores completely (the planned variant at the served
   * revision) may load; anything that would download fails with NOT_STORED before a byte is fetched.
   */
  ifStored?: boolean;
  /**
   * Test hook (set by the worker from the test knobs only): an on-device load keeps one graph at a time (the
   * low-memory mode, src/core/asr/one-graph.ts) whatever its plan says.
   */
  graphs?: 'one-at-a-time';
}

/** The worker's device probe (one per page: the planner uses the same one) and its one-line summary. */
export interface DeviceReport {
  probe: DeviceProbe;
  /** "WebGPU: <adapter> · max buffer … · shader-f16 yes|no", or why WebGPU is unavailable. */
  summary: string;
}

/** What the storage holds, for the settings panel. */
export interface StorageReport {
  models: StoredModel[];
  /** navigator.storage.estimate() in the worker (null where the browser lacks it). */
  usage: number | null;
  quota: number | null;
  /** Set when the store could not be opened (private mode, disabled storage). */
  unavailable?: string;
}

/**
 * Audio to transcribe: a library document's audio (a recording, from the worker's memory while it still holds it,
 * else from the library), or 16 kHz mono samples (transferred; `keep` makes them a library document of that file).
 */
export type TranscribeSource =
  { kind: 'stored'; id: string } | { kind: 'pcm'; samples: Float32Array; keep?: { fileName: string } };

/**
 * The test knobs the worker applies (src/app/knobs.ts parses them from the page's URL in a test build only; a
 * production worker ignores this message).
 */
export interface WorkerKnobs {
  /** Per-window token cap of every file job (tests compare with goldens decoded under a cap). */
  maxNewTokens?: number;
  /** Model loads keep the weights in memory only ('memory') instead of storing them. */
  storage?: StorageMode;
  /** Bytes per stored model record (small records exercise the resume logic). */
  chunkBytes?: number;
  /** Model-store writes fail as on a full disk after this many bytes of a load. */
  quotaAfterBytes?: number;
  /** The library's audio writes fail as on a full disk after this many bytes. */
  libraryQuotaAfterBytes?: number;
  /** Destroy the GPU device after this many WebGPU windows of a job. */
  loseGpuAfterWindows?: number;
  /** Time limit of the WebGPU warm-up. */
  warmUpTimeoutMs?: number;
  /** On-device loads keep one graph at a time (the low-memory mode) whatever the plan says (`graphs=one`). */
  graphs?: 'one-at-a-time';
}
