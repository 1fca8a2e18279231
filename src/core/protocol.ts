/**
 * Every message that crosses a thread boundary: page <-> ASR worker, worklet <-> worker (a MessagePort handed to
 * both), page <-> worklet (the AudioWorkletNode's port).  Discriminated unions keyed by `type`; receivers narrow
 * `unknown` with the `is*` guards below instead of casting.
 *
 * Page -> worker requests that expect an answer are *calls*: one table (`Calls`) from each call's name to its request
 * and its result drives both the page's `call()` (src/app/worker-client/) and the worker's handler map
 * (workers/asr.worker.ts), so a missing or mistyped handler or result does not compile.  Everything else the worker
 * says is a one-way `WorkerEvent`.
 *
 * Imported with `import type` everywhere except for the guards.  No DOM- or worker-only types: this file is checked
 * in every execution context.
 */

import type { LiveEvent, LoadProgress, ModelKey, TranscribeEvent, Transcript, Variant } from './asr/contract.ts';
import type {
  BackendChoice,
  BackendInfo,
  CaptureStats,
  DeviceReport,
  ErrorInfo,
  MelColumns,
  ModelLoadOptions,
  RecordingId,
  RoutingSettings,
  StorageReport,
  TranscribeSource,
  WorkerKnobs,
} from './protocol-data.ts';

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

export type * from './protocol-data.ts';

/* ------------------------------------------------------------------------------------------------------------- */
/* Worklet -> worker (capture port)                                                                              */

/** One fixed-size frame of 16 kHz mono audio.  `samples.buffer` is transferred, and must be sent back with
 * `recycle` so the worklet never allocates in steady state. */
export interface FrameMessage {
  type: 'frame';
  /** 0, 1, 2, ... per recording; a gap or repeat is a lost or duplicated frame. */
  seq: number;
  samples: Float32Array;
  /** RMS and peak of the input-rate audio this frame was made from (linear, 0..1+). */
  rms: number;
  peak: number;
}

/** Sent once when the worklet starts producing frames for a recording. */
export interface CaptureStartedMessage {
  type: 'capture-started';
  recordingId: RecordingId;
  /** The AudioContext's real rate (Safari ignores a requested rate). */
  inputRateHz: number;
}

/** Sent after `stop`: the last, partial frame (may be empty) and the frame count. */
export interface CaptureStoppedMessage {
  type: 'capture-stopped';
  recordingId: RecordingId;
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
/* Page -> worklet (AudioWorkletNode.port) and back                                                              */

export type MainToWorklet = { type: 'start'; recordingId: RecordingId; port: Port } | { type: 'stop' };

export type WorkletToMain = { type: 'stopped'; recordingId: RecordingId };

/* ------------------------------------------------------------------------------------------------------------- */
/* Page -> ASR worker: calls (request -> result) and notices (no answer)                                         */

/** Every call the page makes, by name: what it sends and what the worker answers. */
export interface Calls {
  /** Load (or replace) the model; progress arrives as `model-progress` events with the call's id. */
  'model-load': {
    req: {
      baseUrl: string;
      variant: Variant | 'auto';
      backend: BackendChoice;
      options?: ModelLoadOptions;
      routing?: RoutingSettings;
    };
    res: BackendInfo;
  };
  'model-release': { req: Record<string, never>; res: null };
  'storage-list': { req: Record<string, never>; res: StorageReport };
  /** What this device offers the model (the same probe the planner reads): the capability line. */
  'device-probe': { req: Record<string, never>; res: DeviceReport };
  /** Delete a stored model; answers with what storage holds then. */
  'storage-delete': { req: { key: ModelKey }; res: StorageReport };
  /** Transcribe; events arrive as `transcribe-event` with the call's id.  `routing`: the settings now (a server
   *  whose consent was revoked since the load is not used).  `docId`: the library document the transcript was
   *  written to (null when it could not be kept). */
  transcribe: {
    req: { source: TranscribeSource; routing?: RoutingSettings };
    res: { transcript: Transcript; docId: string | null };
  };
  /** A recording's audio as a 32-bit float WAV (lossless): from the worker's memory while it holds it, else as
   *  kept in the library.  Transferred. */
  'recording-wav': { req: { recordingId: RecordingId }; res: Uint8Array };
}
export type CallName = keyof Calls;
export type CallRequest<K extends CallName> = Calls[K]['req'];
export type CallResult<K extends CallName> = Calls[K]['res'];

/** A call on the wire: `id` matches its `result` (or `error`) and the events it causes. */
export interface CallMessage<K extends CallName = CallName> {
  type: 'call';
  call: K;
  id: number;
  req: CallRequest<K>;
}

export type Notice =
  /** Stop a running download of load call `id`: 'pause' keeps what is stored, 'discard' deletes it. */
  | { type: 'download-stop'; id: number; mode: 'pause' | 'discard' }
  /** Cancel transcription call `id`. */
  | { type: 'cancel'; id: number }
  /** A recording starts: its frames come through `port`.  `live`: transcribe while recording (VAD segments ->
   *  partial and final text) with the loaded model.  `startedAt`: when Record was pressed (ms since 1970). */
  | { type: 'capture-attach'; recordingId: RecordingId; startedAt: number; port: Port; live?: boolean }
  /** Forget a recording's audio in memory (the library's copy stays). */
  | { type: 'recording-discard'; recordingId: RecordingId }
  /**
   * What only the page knows of the device, once, before any other message: a worker's navigator has no
   * `maxTouchPoints`, which alone tells an iPad's Safari (a Mac user agent) from a Mac (src/core/device.ts).
   */
  | { type: 'page-facts'; maxTouchPoints: number }
  /** The test knobs, once, before any other message (a test build only: src/app/knobs.ts). */
  | { type: 'test-knobs'; knobs: WorkerKnobs };

export type MainToWorker = CallMessage | Notice;

/* ------------------------------------------------------------------------------------------------------------- */
/* ASR worker -> page: results and events                                                                        */

/** The answer to call `id` (its type is `CallResult` of that call's name). */
export interface ResultMessage {
  type: 'result';
  id: number;
  res: unknown;
}

/** Everything the worker says on its own or while a call runs (`id`: the call it belongs to). */
export type WorkerEvent =
  | { type: 'ready' }
  | { type: 'capture-stats'; stats: CaptureStats }
  | { type: 'mel-columns'; mel: MelColumns }
  | { type: 'capture-finished'; stats: CaptureStats; poolMisses: number }
  | { type: 'live-event'; recordingId: RecordingId; event: LiveEvent }
  /** A recording ended that no model transcribed while it was made, and a model is ready now: the page may
   *  transcribe it whole. */
  | { type: 'recording-offer'; recordingId: RecordingId; seconds: number }
  | { type: 'model-progress'; id: number; progress: LoadProgress }
  /** The active backend changed without a load: failover after a lost GPU, an out-of-memory, a server gone
   *  (`inJob`: during a transcription, whose own `engine-switch` event tells the user). */
  | { type: 'backend-changed'; backend: BackendInfo; reason: string; inJob: boolean }
  /** The active on-device backend failed and no other could take over: the model must be loaded again. */
  | { type: 'backend-lost'; error: ErrorInfo }
  | { type: 'transcribe-event'; id: number; event: TranscribeEvent }
  /** A library document was created or changed by the worker (the page refreshes its list). */
  | { type: 'library-changed'; id: string }
  /** Keeping a document failed: its audio stopped being written (full disk: `keptSec` seconds were written and
   *  stay), or a change to the document itself was refused (`what: 'document'`, `keptSec` -1). */
  | { type: 'library-error'; id: string; what: 'audio' | 'document'; error: ErrorInfo; keptSec: number }
  /** A call failed (`id`), or something failed outside any call. */
  | { type: 'error'; id?: number; error: ErrorInfo };

export type WorkerToMain = ResultMessage | WorkerEvent;

/* ------------------------------------------------------------------------------------------------------------- */
/* Guards                                                                                                        */

function hasType(value: unknown): value is { type: unknown } & Record<string, unknown> {
  return typeof value === 'object' && value !== null && 'type' in value;
}

export function isWorkletToWorker(value: unknown): value is WorkletToWorker {
  if (!hasType(value)) return false;
  switch (value.type) {
    case 'frame':
      return typeof value['seq'] === 'number' && value['samples'] instanceof Float32Array;
    case 'capture-started':
      return typeof value['recordingId'] === 'string' && typeof value['inputRateHz'] === 'number';
    case 'capture-stopped':
      return typeof value['recordingId'] === 'string' && value['tail'] instanceof Float32Array;
    default:
      return false;
  }
}

export function isWorkerToWorklet(value: unknown): value is WorkerToWorklet {
  return hasType(value) && value.type === 'recycle' && value['buffer'] instanceof ArrayBuffer;
}

export function isMainToWorklet(value: unknown): value is MainToWorklet {
  if (!hasType(value)) return false;
  return (value.type === 'start' && typeof value['recordingId'] === 'string') || value.type === 'stop';
}

export function isWorkletToMain(value: unknown): value is WorkletToMain {
  return hasType(value) && value.type === 'stopped';
}

/** The call names, once more as values (the compiler holds this to exactly the keys of `Calls`). */
const CALL_NAMES: Record<CallName, true> = {
  'model-load': true,
  'model-release': true,
  'storage-list': true,
  'device-probe': true,
  'storage-delete': true,
  transcribe: true,
  'recording-wav': true,
};
const NOTICES: Record<Exclude<Notice['type'], 'test-knobs'>, true> & { 'test-knobs'?: true } = {
  'download-stop': true,
  cancel: true,
  'capture-attach': true,
  'recording-discard': true,
  'page-facts': true,
  // A production build does not know the test knobs' message at all: not even its name is in the bundle
  // (`typeof`: Node's tests have no define).
  ...(typeof __TEST_BUILD__ !== 'undefined' && __TEST_BUILD__ ? { 'test-knobs': true as const } : {}),
};
export function isMainToWorker(value: unknown): value is MainToWorker {
  if (!hasType(value) || typeof value.type !== 'string') return false;
  if (value.type === 'call')
    return (
      typeof value['id'] === 'number' && typeof value['call'] === 'string' && Object.hasOwn(CALL_NAMES, value['call'])
    );
  return Object.hasOwn(NOTICES, value.type);
}

const WORKER_EVENTS: Record<WorkerEvent['type'], true> = {
  ready: true,
  'capture-stats': true,
  'mel-columns': true,
  'capture-finished': true,
  'live-event': true,
  'recording-offer': true,
  'model-progress': true,
  'backend-changed': true,
  'backend-lost': true,
  'transcribe-event': true,
  'library-changed': true,
  'library-error': true,
  error: true,
};
export function isWorkerToMain(value: unknown): value is WorkerToMain {
  if (!hasType(value) || typeof value.type !== 'string') return false;
  if (value.type === 'result') return typeof value['id'] === 'number';
  return Object.hasOwn(WORKER_EVENTS, value.type);
}
