/**
 * Every message that crosses a thread boundary: main <-> ASR worker, worklet <-> worker (a MessagePort handed to both),
 * main <-> worklet (the AudioWorkletNode's port).  Discriminated unions keyed by `type`; receivers narrow `unknown`
 * with the `is*` guards below instead of casting.
 *
 * Imported with `import type` everywhere except for the guards.  No DOM- or worker-only types: this file is checked
 * in every execution context.
 */

import type {
  Backend,
  DeviceBackend,
  LiveEvent,
  LoadProgress,
  ModelKey,
  StoredModel,
  TranscribeEvent,
  Transcript,
  Variant,
} from './asr/contract.ts';
import type { DeviceProbe } from './planner.ts';

declare global {
  /**
   * True only in a test build (`vite build --mode test`, vite.config.ts's `define`): the test knobs (src/app/knobs.ts)
   * exist only there.  In the production build it is the literal `false`, so everything behind it is removed.
   */
  const __TEST_BUILD__: boolean;
}

/** The variant names and their guard, for the main thread's variant menu and `?variant=` (values, not types). */
export { VARIANTS, isVariant } from './asr/contract.ts';

/** A MessagePort in whichever context compiles this file (DOM, worker, worklet; Node's for the unit tests, where
 * `MessagePort` is only a value). */
export type Port = InstanceType<typeof MessagePort>;

/* ------------------------------------------------------------------------------------------------------------- */
/* Worklet -> worker (capture port)                                                                              */

/** One fixed-size frame of 16 kHz mono audio.  `samples.buffer` is transferred, and must be sent back with
 * `recycle` so the worklet never allocates in steady state. */
export interface FrameMessage {
  type: 'frame';
  /** 0, 1, 2, ... per capture session; a gap or repeat is a lost or duplicated frame. */
  seq: number;
  samples: Float32Array;
  /** RMS and peak of the input-rate audio this frame was made from (linear, 0..1+). */
  rms: number;
  peak: number;
}

/** Sent once when the worklet starts producing frames for a session. */
export interface CaptureStartedMessage {
  type: 'capture-started';
  sessionId: number;
  /** The AudioContext's real rate (Safari ignores a requested rate). */
  inputRateHz: number;
}

/** Sent after `stop`: the last, partial frame (may be empty) and the frame count. */
export interface CaptureStoppedMessage {
  type: 'capture-stopped';
  sessionId: number;
  tail: Float32Array;
  frames: number;
  /** Input-rate samples the worklet consumed (the 16 kHz count must be this x 16000 / inputRateHz). */
  inputSamples: number;
  /** Frames the worklet had to allocate because the pool was empty (the worker fell behind). */
  poolMisses: number;
}

export type WorkletToWorker = FrameMessage | CaptureStartedMessage | CaptureStoppedMessage;

/** Worker -> worklet: give a frame buffer back to the pool. */
export interface RecycleMessage {
  type: 'recycle';
  buffer: ArrayBuffer;
}
export type WorkerToWorklet = RecycleMessage;

/* ------------------------------------------------------------------------------------------------------------- */
/* Main -> worklet (AudioWorkletNode.port) and back                                                              */

export type MainToWorklet =
  { type: 'start'; sessionId: number; port: Port } | { type: 'stop' } | { type: 'pause' } | { type: 'resume' };

export type WorkletToMain = { type: 'stopped'; sessionId: number } | { type: 'ready' };

/* ------------------------------------------------------------------------------------------------------------- */
/* Main <-> ASR worker                                                                                           */

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
  sessionId: number;
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

/** 'f32': the 16 kHz samples; 'wav16': a 16-bit PCM WAV file of them; 'wavf32': a 32-bit float WAV (lossless). */
export type RecordingFormat = 'f32' | 'wav16' | 'wavf32';

/** Which on-device execution provider to use: 'auto' = the planner's choice (src/core/planner.ts). */
export type BackendChoice = 'auto' | DeviceBackend;

/** *Where to transcribe* (a persisted setting): the planner decides, only this device, or the server. */
export type Where = 'auto' | 'device' | 'server';

/** How the worker chooses and replaces engines (from the settings; see src/core/planner.ts). */
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
  /** Why the planner chose this engine, and the engines it would move to if this one fails, in order. */
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
  /** On-device engines: how the decoder graph was built and how its KV cache is kept (pipeline.ts). */
  decoder?: DecoderInfo;
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
}

/** What the storage holds, for the settings panel. */
/** The worker's device probe (one per page: the planner uses the same one) and its one-line summary. */
export interface DeviceReport {
  probe: DeviceProbe;
  /** "WebGPU: <adapter> · max buffer … · shader-f16 yes|no", or why WebGPU is unavailable. */
  summary: string;
}

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

export type MainToWorker =
  | {
      type: 'model-load';
      requestId: number;
      baseUrl: string;
      variant: Variant | 'auto';
      engine: BackendChoice;
      options?: ModelLoadOptions;
      routing?: RoutingSettings;
    }
  | { type: 'model-release'; requestId: number }
  /** Stop a running download of load `requestId`: 'pause' keeps what is stored, 'discard' deletes it. */
  | { type: 'download-stop'; requestId: number; mode: 'pause' | 'discard' }
  | { type: 'storage-list'; requestId: number }
  /** What this device offers the model (the same probe the planner reads): the capability line. */
  | { type: 'device-probe'; requestId: number }
  | { type: 'storage-delete'; requestId: number; key: ModelKey }
  | {
      type: 'transcribe';
      requestId: number;
      source: TranscribeSource;
      /** The routing settings now: a server whose consent was revoked since the load is not used. */
      routing?: RoutingSettings;
    }
  | { type: 'cancel'; requestId: number }
  /** `live`: transcribe while recording (VAD segments → partial and final text) with the loaded model. */
  | {
      type: 'capture-attach';
      sessionId: number;
      port: Port;
      live?: boolean;
    }
  | { type: 'capture-detach'; sessionId: number; reason: 'stopped' | 'error' }
  /** A recording's audio: from the worker's memory while it holds it, else as kept in the library. */
  | { type: 'recording-get'; requestId: number; sessionId: number; format: RecordingFormat }
  /** Forget a recording's audio in memory (the library's copy stays). */
  | { type: 'recording-discard'; sessionId: number }
  /** The test knobs, once, before any other message (a test build only: src/app/knobs.ts). */
  | { type: 'test-knobs'; knobs: WorkerKnobs };

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
}

export type WorkerToMain =
  | { type: 'ready' }
  | { type: 'capture-stats'; stats: CaptureStats }
  | { type: 'mel-columns'; mel: MelColumns }
  | { type: 'capture-finished'; stats: CaptureStats; poolMisses: number }
  | { type: 'live-event'; sessionId: number; event: LiveEvent }
  | { type: 'recording'; requestId: number; sessionId: number; format: 'f32'; data: Float32Array }
  | { type: 'recording'; requestId: number; sessionId: number; format: 'wav16' | 'wavf32'; data: Uint8Array }
  | { type: 'model-progress'; requestId: number; progress: LoadProgress }
  | { type: 'model-ready'; requestId: number; engine: BackendInfo }
  /** The active engine changed without a load: failover after a lost GPU, an out-of-memory, a server gone
   *  (`inJob`: during a transcription, whose own `engine-switch` event tells the user). */
  | { type: 'engine-changed'; engine: BackendInfo; reason: string; inJob: boolean }
  /** The active on-device engine failed and no other could take over: the model must be loaded again. */
  | { type: 'engine-lost'; error: ErrorInfo }
  | { type: 'model-released'; requestId: number }
  | { type: 'storage-report'; requestId: number; report: StorageReport }
  | { type: 'device-report'; requestId: number; report: DeviceReport }
  | { type: 'transcribe-event'; requestId: number; event: TranscribeEvent }
  /** `docId`: the library document the transcription was written to (null when it could not be stored). */
  | { type: 'transcribe-done'; requestId: number; transcript: Transcript; docId: string | null }
  /** A library document was created or changed by the worker (the page refreshes its list). */
  | { type: 'library-changed'; id: string }
  /** Keeping a document failed: its audio stopped being written (full disk: `keptSec` seconds were written and
   *  stay), or a change to the document itself was refused (`what: 'document'`, `keptSec` -1). */
  | { type: 'library-error'; id: string; what: 'audio' | 'document'; error: ErrorInfo; keptSec: number }
  | { type: 'error'; requestId?: number; error: ErrorInfo };

/* ------------------------------------------------------------------------------------------------------------- */
/* Guards                                                                                                        */

function hasType(value: unknown): value is { type: unknown } {
  return typeof value === 'object' && value !== null && 'type' in value;
}

export function isWorkletToWorker(value: unknown): value is WorkletToWorker {
  if (!hasType(value)) return false;
  const v = value as Record<string, unknown>;
  switch (value.type) {
    case 'frame':
      return typeof v['seq'] === 'number' && v['samples'] instanceof Float32Array;
    case 'capture-started':
      return typeof v['sessionId'] === 'number' && typeof v['inputRateHz'] === 'number';
    case 'capture-stopped':
      return typeof v['sessionId'] === 'number' && v['tail'] instanceof Float32Array;
    default:
      return false;
  }
}

export function isWorkerToWorklet(value: unknown): value is WorkerToWorklet {
  return hasType(value) && value.type === 'recycle' && (value as { buffer?: unknown }).buffer instanceof ArrayBuffer;
}

export function isMainToWorklet(value: unknown): value is MainToWorklet {
  if (!hasType(value)) return false;
  switch (value.type) {
    case 'start':
      return typeof (value as { sessionId?: unknown }).sessionId === 'number';
    case 'stop':
    case 'pause':
    case 'resume':
      return true;
    default:
      return false;
  }
}

export function isWorkletToMain(value: unknown): value is WorkletToMain {
  return hasType(value) && (value.type === 'stopped' || value.type === 'ready');
}

const MAIN_TO_WORKER = new Set([
  'model-load',
  'model-release',
  'download-stop',
  'storage-list',
  'device-probe',
  'storage-delete',
  'transcribe',
  'cancel',
  'capture-attach',
  'capture-detach',
  'recording-get',
  'recording-discard',
  // A production build does not know the test knobs' message at all (`typeof`: Node's tests have no define).
  ...(typeof __TEST_BUILD__ !== 'undefined' && __TEST_BUILD__ ? ['test-knobs'] : []),
]);
export function isMainToWorker(value: unknown): value is MainToWorker {
  return hasType(value) && typeof value.type === 'string' && MAIN_TO_WORKER.has(value.type);
}

const WORKER_TO_MAIN = new Set([
  'ready',
  'capture-stats',
  'mel-columns',
  'capture-finished',
  'live-event',
  'recording',
  'model-progress',
  'model-ready',
  'engine-changed',
  'engine-lost',
  'model-released',
  'storage-report',
  'device-report',
  'transcribe-event',
  'transcribe-done',
  'library-changed',
  'library-error',
  'error',
]);
export function isWorkerToMain(value: unknown): value is WorkerToMain {
  return hasType(value) && typeof value.type === 'string' && WORKER_TO_MAIN.has(value.type);
}
