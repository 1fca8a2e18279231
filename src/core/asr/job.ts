/**
 * One transcription job: 16 kHz PCM → ≤ 30 s windows (windows.ts) → each window on the current window transcriber,
 * in order.  When one cannot go on (BackendUnavailable: GPU device lost, out of memory, server gone after its
 * retries), the finished windows stay and the failed window and every later one go to the next transcriber the
 * caller provides (`next`), announced once by an `engine-switch` event (the event's name is part of the worker
 * protocol).  Anything else (a cancel, bad audio) ends the job.  Isomorphic: the worker runs it with its planned
 * backends, the CLI and the server with one pipeline.
 */
import { SAMPLE_RATE_HZ } from '../constants.ts';
import type { TranscribeEvent, Transcript, WindowResult } from './contract.ts';
import { PipelineError } from './errors.ts';
import { BackendUnavailable, type WindowTranscriber, type WindowRunOptions } from './window-transcriber.ts';
import { planWindows } from './windows.ts';
import { joinWindowTexts } from '../format/join.ts';

export { joinWindowTexts };

/** Reject audio the model cannot take: empty, or with NaN/Inf samples. */
export function checkPcm(pcm: Float32Array): void {
  if (pcm.length === 0) throw new PipelineError('BAD_AUDIO', 'the audio is empty');
  for (let i = 0; i < pcm.length; i++) {
    if (!Number.isFinite(pcm[i] as number)) throw new PipelineError('BAD_AUDIO', `sample ${i} is not a finite number`);
  }
}

export interface JobOptions extends WindowRunOptions {
  /**
   * The transcriber to continue with after `failure` at window `index`, or null to end the job with that failure.  May
   * take time (loading the model on the CPU); the signal still cancels.
   */
  next?: (failure: BackendUnavailable, index: number) => Promise<WindowTranscriber | null>;
}

export interface JobResult extends Transcript {
  /** Every switch that happened, in order. */
  switches: { index: number; from: string; to: string; reason: string }[];
}

/** `promise`, or the signal's reason as soon as it aborts. */
function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function now(): number {
  return performance.now();
}

export async function runJob(pcm: Float32Array, first: WindowTranscriber, opts: JobOptions = {}): Promise<JobResult> {
  const t0 = now();
  checkPcm(pcm);
  const windows = planWindows(pcm);
  const results: WindowResult[] = [];
  const switches: JobResult['switches'] = [];
  const emit = (e: TranscribeEvent) => opts.onEvent?.(e);
  let transcriber = first;
  for (const [index, w] of windows.entries()) {
    const span = { index, startSec: w.start / SAMPLE_RATE_HZ, endSec: w.end / SAMPLE_RATE_HZ };
    emit({ type: 'window-start', index, count: windows.length, startSec: span.startSec, endSec: span.endSec });
    for (;;) {
      opts.signal?.throwIfAborted();
      try {
        const result = await transcriber.transcribeWindow(pcm.subarray(w.start, w.end), span, {
          ...(opts.signal ? { signal: opts.signal } : {}),
          ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
          ...(opts.maxNewTokens ? { maxNewTokens: opts.maxNewTokens } : {}),
        });
        result.engine = transcriber.backend; // the wire name of the window's backend (transcript documents)
        results.push(result);
        emit({ type: 'window-end', result, count: windows.length });
        break;
      } catch (err) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        if (!(err instanceof BackendUnavailable) || !opts.next) throw err;
        emit({ type: 'engine-failed', index, from: transcriber.label, reason: err.message });
        // A cancel ends the job at once; the switch itself goes on (the next job gets its transcriber).
        const replacement = await abortable(opts.next(err, index), opts.signal);
        if (!replacement) throw err;
        const change = { index, from: transcriber.label, to: replacement.label, reason: err.message };
        switches.push(change);
        emit({ type: 'engine-switch', ...change });
        transcriber = replacement;
      }
    }
  }
  return {
    text: joinWindowTexts(results.map((r) => r.text)),
    windows: results,
    audioSec: pcm.length / SAMPLE_RATE_HZ,
    totalMs: now() - t0,
    switches,
  };
}
