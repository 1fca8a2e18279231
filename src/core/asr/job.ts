/**
 * One transcription job: 16 kHz PCM → ≤ 30 s windows (windows.ts) → each window on the current window transcriber,
 * in order.  When one cannot go on (BackendUnavailable: GPU device lost, out of memory, server gone after its
 * retries), the finished windows stay and the failed window and every later one go to the next transcriber the
 * caller provides (`next`), announced once by an `engine-switch` event (the event's name is part of the worker
 * protocol).  Anything else (a cancel, bad audio) ends the job.  Isomorphic: the worker runs it with its planned
 * backends, the CLI and the server with one pipeline.
 *
 * A phased transcriber (the low-memory mode, one-graph.ts) is first handed every window it will transcribe
 * (`beginJob`: it encodes them all, then swaps its encoder for its decoder) before the first window-start, then
 * transcribes them one by one like any other, so the UI sees the same window events in the same order; `endJob` tells
 * it the job is over.  A failover to a phased transcriber begins it with the windows left.
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

/** A window of a job as a phased transcriber is given it. */
export interface JobWindow {
  index: number;
  samples: Float32Array;
}

/** A window transcriber that works on a job's windows in phases before transcribing them one by one. */
export interface PhasedTranscriber extends WindowTranscriber {
  /** Prepare `windows` (the low-memory mode encodes them all and loads the decoder).  The signal cancels. */
  beginJob(windows: readonly JobWindow[], opts: WindowRunOptions): Promise<void>;
  /** The job is over (done, failed or cancelled): back to the resting state, in the background. */
  endJob(): void;
}

export function isPhased(t: WindowTranscriber): t is PhasedTranscriber {
  return typeof (t as Partial<PhasedTranscriber>).beginJob === 'function';
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
  const runOpts = {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onEvent ? { onEvent: opts.onEvent } : {}),
    ...(opts.maxNewTokens ? { maxNewTokens: opts.maxNewTokens } : {}),
  };
  let transcriber = first;
  /** The phased transcribers this job began (each is told when the job ends). */
  const begun: PhasedTranscriber[] = [];
  /** A phased transcriber is begun with the windows from `index` on before its first window. */
  const begin = async (index: number) => {
    if (!isPhased(transcriber) || begun.includes(transcriber)) return;
    begun.push(transcriber);
    const rest = windows.slice(index).map((w, i) => ({ index: index + i, samples: pcm.subarray(w.start, w.end) }));
    // A cancel lands at once; a swap of graphs under way finishes in the background (the transcriber orders them).
    await abortable(transcriber.beginJob(rest, runOpts), opts.signal);
  };
  /** `work` on the current transcriber; when it cannot go on, on the next one (from window `index`). */
  const withFailover = async <R>(index: number, work: () => Promise<R>): Promise<R> => {
    for (;;) {
      opts.signal?.throwIfAborted();
      try {
        await begin(index);
        return await work();
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
  };
  try {
    await withFailover(0, () => Promise.resolve());
    for (const [index, w] of windows.entries()) {
      const span = { index, startSec: w.start / SAMPLE_RATE_HZ, endSec: w.end / SAMPLE_RATE_HZ };
      emit({ type: 'window-start', index, count: windows.length, startSec: span.startSec, endSec: span.endSec });
      const result = await withFailover(index, () =>
        transcriber.transcribeWindow(pcm.subarray(w.start, w.end), span, runOpts),
      );
      result.engine = transcriber.backend; // the wire name of the window's backend (transcript documents)
      results.push(result);
      emit({ type: 'window-end', result, count: windows.length });
    }
  } finally {
    for (const t of begun) t.endJob();
  }
  return {
    text: joinWindowTexts(results.map((r) => r.text)),
    windows: results,
    audioSec: pcm.length / SAMPLE_RATE_HZ,
    totalMs: now() - t0,
    switches,
  };
}
