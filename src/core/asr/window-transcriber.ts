/**
 * The window transcriber: the one interface the job runner needs, transcribe one planned ≤ 30 s window.  The
 * on-device pipeline (WebGPU or WASM, pipeline.ts) and the OpenAI-compatible server client (remote-transcriber.ts) both
 * implement it, so a job can move its remaining windows to another backend when one fails (job.ts).  Isomorphic.
 */
import type { Backend, TranscribeEvent, WindowResult } from './contract.ts';

export type { Backend };

export interface WindowSpan {
  index: number;
  startSec: number;
  endSec: number;
}

export interface WindowRunOptions {
  signal?: AbortSignal;
  /** `token` events as text is decoded (window-start/window-end are the job runner's). */
  onEvent?: (event: TranscribeEvent) => void;
  /** Per-window cap on generated tokens (tests compare with goldens decoded under a cap). */
  maxNewTokens?: number;
}

export interface WindowTranscriber {
  readonly backend: Backend;
  /** Human-readable: "WebGPU (Apple M4)", "CPU (WASM, 4 threads)", "server http://127.0.0.1:8080/v1". */
  readonly label: string;
  transcribeWindow(samples: Float32Array, span: WindowSpan, opts: WindowRunOptions): Promise<WindowResult>;
}

/**
 * Thrown by a window transcriber when it cannot go on (GPU device lost, out of memory, server unreachable after its
 * retries, server error): the job runner moves the remaining windows to the next transcriber.  Anything else (a
 * cancel, bad audio) ends the job.
 */
export class BackendUnavailable extends Error {
  override name = 'BackendUnavailable';
  constructor(
    readonly backend: Backend,
    readonly reason: 'device-lost' | 'out-of-memory' | 'server-unreachable' | 'server-error' | 'runtime-error',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A window's result before (or without) any decoding: no text, no tokens, zero timings. */
export function emptyWindowResult(span: WindowSpan, audioTokens: number): WindowResult {
  return {
    index: span.index,
    startSec: span.startSec,
    endSec: span.endSec,
    tokenIds: [],
    text: '',
    stopReason: 'no-audio',
    audioTokens,
    promptTokens: 0,
    encoderMs: 0,
    prefillMs: 0,
    decodeMs: 0,
  };
}
