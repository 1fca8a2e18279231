/**
 * The model host's error vocabulary, in one place: which failures move a load to its next plan, which pipeline
 * failures mid-job become `BackendUnavailable` (so the job runner hands the remaining windows to the next backend),
 * and how any error leaves the worker as a protocol error code with a detail for the UI.
 */
import type { ErrorCode } from '../../src/core/protocol.ts';
import type { Backend } from '../../src/core/asr/contract.ts';
import { PipelineError } from '../../src/core/asr/pipeline.ts';
import { BackendUnavailable } from '../../src/core/asr/window-transcriber.ts';
import { OrtError } from '../../src/core/ort/runtime.ts';
import { DownloadError } from '../model-store/downloader.ts';
import { StoreError } from '../model-store/model-store.ts';
import { WorkerError } from './worker-error.ts';

const UNAVAILABLE_CODE: Record<BackendUnavailable['reason'], ErrorCode> = {
  'device-lost': 'DEVICE_LOST_GPU',
  'out-of-memory': 'OUT_OF_MEMORY',
  'server-unreachable': 'SERVER_UNREACHABLE',
  'server-error': 'SERVER_ERROR',
  'runtime-error': 'INTERNAL',
};

/** The message of an error, or the thing thrown as text. */
export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A JavaScript allocation failure (a typed array or WASM memory the browser would not give). */
function isOutOfMemory(err: unknown): err is RangeError {
  return err instanceof RangeError && /allocation|memory/i.test(err.message);
}

/** Any error as the protocol's code and a detail for the UI. */
export function toErrorInfo(err: unknown): { code: ErrorCode; detail: string } {
  if (err instanceof WorkerError) return { code: err.code, detail: err.message };
  if (err instanceof StoreError || err instanceof DownloadError) return { code: err.code, detail: err.message };
  if (err instanceof PipelineError) return { code: err.code, detail: err.message };
  if (err instanceof BackendUnavailable) return { code: UNAVAILABLE_CODE[err.reason], detail: err.message };
  if (err instanceof OrtError) return { code: err.code === 'RUN_FAILED' ? 'INTERNAL' : err.code, detail: err.message };
  if (err instanceof DOMException && err.name === 'AbortError') return { code: 'CANCELLED', detail: 'cancelled' };
  if (isOutOfMemory(err)) return { code: 'OUT_OF_MEMORY', detail: err.message };
  return { code: 'INTERNAL', detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}

/** A failure that moves a load to the next plan (anything else, like a paused download, ends the load). */
export function isBackendFailure(err: unknown): boolean {
  return (
    err instanceof OrtError ||
    err instanceof BackendUnavailable ||
    (err instanceof PipelineError && err.code === 'WARMUP_FAILED') ||
    isOutOfMemory(err)
  );
}

/**
 * What a window's failure on the device means for the job: a lost device or out-of-memory (and any onnxruntime
 * failure on WebGPU) is `BackendUnavailable`, so the job moves on; anything else is returned as it came.
 */
export function unavailableOrSelf(err: unknown, backend: Backend): unknown {
  if (err instanceof OrtError && err.code === 'DEVICE_LOST_GPU')
    return new BackendUnavailable(backend, 'device-lost', err.message, { cause: err });
  if (err instanceof OrtError && err.code === 'OUT_OF_MEMORY')
    return new BackendUnavailable(backend, 'out-of-memory', err.message, { cause: err });
  if (isOutOfMemory(err)) return new BackendUnavailable(backend, 'out-of-memory', err.message, { cause: err });
  if (err instanceof OrtError && backend === 'webgpu')
    return new BackendUnavailable(backend, 'runtime-error', err.message, { cause: err });
  return err;
}
