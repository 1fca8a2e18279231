/**
 * The low-memory mode: one graph at a time (issue 23).  On a device whose memory holds the audio encoder or the
 * decoder but not both (an iPhone's Safari counts GPU buffers, the JS heap and the WASM heap as one budget), a file or
 * a finished recording is transcribed in phases:
 *
 *   audio encoder resident → encode every window (its audio features kept: ~3 MB per 30 s window at full size)
 *   → release the encoder (its sessions; on WebGPU their GPU buffers) → load the embedding and the decoder
 *   → decode every window → (after the job, in the background) release them and load the encoder again.
 *
 * Between jobs the audio encoder is the one resident graph: a job starts by encoding, so it pays one swap (to the
 * decoder) before its first text, and the encoder is the smaller side (q4f16: 382 MB against 901 MB), so the idle
 * footprint is the lower one.  The load proves both sides before "ready" (GlmAsrPipeline.load with residency
 * 'one-at-a-time': the decoder's warm-up, then the encoder's).
 *
 * This is a `PhasedTranscriber` (job.ts): the job runner begins it with the job's windows before the first
 * window-start, then asks for the windows one by one, so the window-start, token and window-end events reach the UI
 * in order as in the normal mode, with `phase` events before them ("encoding 2/3", "loading the decoder",
 * "decoding 1/3").  Every graph run checks the AbortSignal; a cancel during a swap lands at once and the swap ends in
 * the background (the pipeline orders swaps).  Token-exact with the normal mode: the same encoder and decoder runs
 * on the same inputs, only in another order.  Isomorphic.
 */
import type { TranscribeEvent, Transcript, WindowResult } from './contract.ts';
import { runJob, type JobWindow, type PhasedTranscriber } from './job.ts';
import type { EncodedWindow, GlmAsrPipeline, TranscribeOptions } from './pipeline.ts';
import type { Backend, WindowRunOptions, WindowSpan } from './window-transcriber.ts';

export class OneGraphTranscriber implements PhasedTranscriber {
  readonly backend: Backend;
  /** The features of the running job's windows not decoded yet, by window index. */
  private readonly encoded = new Map<number, EncodedWindow>();
  /** Windows of the running job, and how many of them were decoded (for the `phase` events). */
  private count = 0;
  private decoded = 0;
  /** The last swap from the encoder to the decoder, in milliseconds (benches and tests read it). */
  lastSwapMs = 0;

  constructor(
    readonly pipeline: GlmAsrPipeline,
    readonly label: string,
    private readonly defaults: TranscribeOptions = {},
  ) {
    if (pipeline.residency !== 'one-at-a-time') throw new Error('the pipeline was not loaded one graph at a time');
    this.backend = pipeline.backend;
  }

  async beginJob(windows: readonly JobWindow[], options: WindowRunOptions): Promise<void> {
    const opts = { ...this.defaults, ...options };
    const emit = (e: TranscribeEvent) => opts.onEvent?.(e);
    this.encoded.clear();
    this.count = windows.length;
    this.decoded = 0;
    const first = windows[0]?.index ?? 0;
    if (!this.pipeline.resident.encoder)
      emit({ type: 'phase', phase: 'loading-encoder', index: first, done: 0, count: this.count });
    await this.pipeline.reside('encoder', opts.signal);
    for (const [done, w] of windows.entries()) {
      emit({ type: 'phase', phase: 'encoding', index: w.index, done, count: this.count });
      this.encoded.set(w.index, await this.pipeline.encodeWindow(w.samples, w.index, opts));
    }
    emit({ type: 'phase', phase: 'loading-decoder', index: first, done: 0, count: this.count });
    const t = performance.now();
    await this.pipeline.reside('decoder', opts.signal);
    this.lastSwapMs = performance.now() - t;
  }

  async transcribeWindow(samples: Float32Array, span: WindowSpan, options: WindowRunOptions): Promise<WindowResult> {
    const opts = { ...this.defaults, ...options };
    let encoded = this.encoded.get(span.index);
    if (!encoded) {
      // Not begun with this window (a caller outside runJob): encode it now, one swap each way.
      await this.pipeline.reside('encoder', opts.signal);
      encoded = await this.pipeline.encodeWindow(samples, span.index, opts);
    }
    await this.pipeline.reside('decoder', opts.signal);
    opts.onEvent?.({
      type: 'phase',
      phase: 'decoding',
      index: span.index,
      done: this.decoded,
      count: Math.max(this.count, this.decoded + 1),
    });
    const result = await this.pipeline.decodeWindow(encoded, span, opts);
    this.encoded.delete(span.index);
    this.decoded++;
    return result;
  }

  endJob(): void {
    this.encoded.clear();
    this.count = 0;
    // Back to the resting state (the encoder resident) for the next job; a failure shows at the next job's swap.
    this.pipeline.reside('encoder').catch(() => undefined);
  }
}

/** Transcribe 16 kHz mono PCM one graph at a time (the CLI's and the tests' counterpart of pipeline.transcribe). */
export async function transcribeOneGraph(
  pipeline: GlmAsrPipeline,
  pcm: Float32Array,
  opts: TranscribeOptions = {},
): Promise<Transcript> {
  const transcriber = new OneGraphTranscriber(pipeline, pipeline.backend, opts);
  const { switches: _switches, ...transcript } = await runJob(pcm, transcriber, opts);
  return transcript;
}
