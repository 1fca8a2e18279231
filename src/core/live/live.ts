/**
 * Live dictation for one recording: the capture's 16 kHz frames → Silero VAD → the segmenter → decodes.
 *
 *  - A closed segment's final decode is queued; finals run in order and never change once sent.
 *  - While a segment is open, its audio so far is decoded again as a partial at most every `partialEveryMs`, only
 *    when nothing else is decoding and no final is waiting (partials stop first when the backend falls behind;
 *    finals are never dropped) and only when at least `partialMinNewMs` of audio came since the last one.  A partial
 *    still decoding when its segment closes is stopped: the final decode starts without waiting for it.
 *  - `backlog` events say how far behind the finals are.  `finish()` (Stop) flushes the open segment and resolves
 *    once every final has been decoded.
 *
 * Isomorphic and backend-agnostic: the worker injects the VAD and the decoder (the model host's planned backend, on
 * the device or the server); the tests inject fakes.
 */
import { SAMPLE_RATE_HZ } from '../constants.ts';
import type { LiveEvent, LiveStats } from '../asr/contract.ts';
import { Segmenter, VAD_FRAME_SAMPLES, type Segment, type SegmentEvent, type SegmenterOptions } from './segmenter.ts';

/** The recording so far (the worker's SampleStore). */
export interface Source {
  readonly length: number;
  view(start: number, end: number): Float32Array;
}

/** Decodes a segment's audio; `kind` says whether it is an open segment's partial or a closed one's final (the
 * model host decodes both alike; the tests tell them apart by it).  `backend`: where it was decoded. */
export interface LiveDecoder {
  decode(
    samples: Float32Array,
    kind: 'partial' | 'final',
    signal: AbortSignal,
  ): Promise<{ text: string; backend: string }>;
}

export interface LiveOptions {
  probability: (frame: Float32Array) => Promise<number>;
  decoder: LiveDecoder;
  emit: (event: LiveEvent) => void;
  segmenter?: Partial<SegmenterOptions>;
  partialEveryMs?: number;
  partialMinNewMs?: number;
  now?: () => number;
}

const sec = (samples: number) => samples / SAMPLE_RATE_HZ;

export class LiveSession {
  private readonly segmenter: Segmenter;
  private readonly finals: Segment[] = [];
  private readonly controller = new AbortController();
  private readonly now: () => number;
  /** Next stream sample the VAD has not seen. */
  private next = 0;
  private pumping: Promise<void> | null = null;
  private decoding = false;
  /** The partial decode in flight and its segment: stopped when that segment closes (its final comes sooner). */
  private partial: { id: number; abort: AbortController; detach: () => void } | null = null;
  /** Bumped by every decode: a VAD frame that starts and ends within one decode ran beside it. */
  private decodeSeq = 0;
  private openId: number | null = null;
  private lastPartialAt = -Infinity;
  private lastPartialSamples = 0;
  private finishing = false;
  private vadFailed = false;
  private finished: (() => void) | null = null;
  private readonly done: Promise<void>;
  /** The recording as last fed (its length is the capture position). */
  private source: Source | null = null;
  /** When the capture had delivered how many samples (pruned as the VAD passes them), for the VAD's lag. */
  private readonly arrivals: { samples: number; at: number }[] = [];
  private readonly stats: LiveStats = {
    vadFrames: 0,
    vadMs: 0,
    idleFrames: 0,
    idleVadMs: 0,
    maxVadLagMs: 0,
    framesWhileDecoding: 0,
    decodes: 0,
  };

  constructor(private readonly o: LiveOptions) {
    this.segmenter = new Segmenter(o.segmenter);
    this.now = o.now ?? (() => performance.now());
    this.done = new Promise((resolve) => (this.finished = resolve));
  }

  /** New audio is in `source` (the recording so far): run the VAD over every whole frame not seen yet. */
  feed(source: Source): void {
    this.source = source;
    const last = this.arrivals.at(-1);
    if (!last || source.length > last.samples) this.arrivals.push({ samples: source.length, at: this.now() });
    if (this.pumping) return;
    const run = this.pump(source);
    this.pumping = run;
    void run.finally(() => {
      if (this.pumping === run) this.pumping = null;
      // Frames that arrived while the VAD ran.
      if (this.next + VAD_FRAME_SAMPLES <= source.length && !this.controller.signal.aborted && !this.vadFailed)
        this.feed(source);
    });
  }

  private async pump(source: Source): Promise<void> {
    try {
      while (this.next + VAD_FRAME_SAMPLES <= source.length && !this.controller.signal.aborted && !this.vadFailed) {
        const frame = source.view(this.next, this.next + VAD_FRAME_SAMPLES).slice();
        this.next += VAD_FRAME_SAMPLES;
        const decodeAtStart = this.decoding ? this.decodeSeq : -1;
        const t0 = this.now();
        const p = await this.o.probability(frame);
        // Beside a decode: the frame's VAD started and finished while one and the same decode was in flight.
        this.account(t0, decodeAtStart >= 0 && this.decoding && this.decodeSeq === decodeAtStart);
        this.handle(this.segmenter.push(frame, p));
      }
    } catch (err) {
      // The VAD failed: no new segments (the recording itself goes on and stays transcribable), but what was heard
      // so far is kept: the open segment ends here and every final is still decoded.
      this.vadFailed = true;
      this.o.emit({
        type: 'error',
        message: `voice activity detection failed: ${err instanceof Error ? err.message : String(err)}`,
      });
      this.handle(this.segmenter.flush());
    }
  }

  /** One VAD frame ran from `t0` to now: its cost, and how long it waited since its last sample arrived. */
  private account(t0: number, besideDecode: boolean): void {
    const now = this.now();
    this.stats.vadFrames++;
    this.stats.vadMs += now - t0;
    if (besideDecode) this.stats.framesWhileDecoding++;
    else if (!this.decoding) {
      this.stats.idleFrames++;
      this.stats.idleVadMs += now - t0;
    }
    while (this.arrivals.length > 1 && this.arrivals[1]!.samples <= this.next) this.arrivals.shift();
    const arrived = this.arrivals.find((a) => a.samples >= this.next);
    if (arrived) this.stats.maxVadLagMs = Math.max(this.stats.maxVadLagMs, now - arrived.at);
  }

  /** The recording ended: the last frames, then every final.  Resolves when `done` has been sent. */
  async finish(source: Source): Promise<void> {
    while (this.pumping) await this.pumping;
    this.feed(source);
    while (this.pumping) await this.pumping;
    // The tail shorter than a VAD frame belongs to the open segment, if any (it is silence otherwise).
    if (this.next < source.length && this.segmenter.openSegment() && !this.vadFailed) {
      const tail = source.view(this.next, source.length).slice();
      this.next = source.length;
      this.handle(this.segmenter.push(tail, 1));
    }
    this.finishing = true;
    this.handle(this.segmenter.flush());
    this.schedule();
    return this.done;
  }

  /** Stop everything now (the model was released, the page goes away). */
  cancel(): void {
    this.controller.abort(new DOMException('live session cancelled', 'AbortError'));
    this.finals.length = 0;
    this.sendDone();
  }

  /** `done` with the session's figures, once. */
  private sendDone(): void {
    if (!this.finished) return;
    this.o.emit({ type: 'done', stats: { ...this.stats } });
    this.finished();
    this.finished = null;
  }

  private handle(events: SegmentEvent[]): void {
    if (this.controller.signal.aborted) return; // cancelled: nothing more is said
    for (const e of events) {
      if (e.type === 'start') {
        this.openId = e.id;
        this.lastPartialAt = this.now();
        this.lastPartialSamples = 0;
        this.o.emit({ type: 'speech-start', id: e.id, start: sec(e.start) });
      } else if (e.type === 'discard') {
        if (this.openId === e.id) this.openId = null;
        if (this.partial?.id === e.id) this.partial.abort.abort(new DOMException('not speech', 'AbortError'));
        this.o.emit({ type: 'discard', id: e.id });
      } else {
        if (this.openId === e.segment.id) this.openId = null;
        if (this.partial?.id === e.segment.id)
          this.partial.abort.abort(new DOMException('the segment closed', 'AbortError'));
        this.finals.push(e.segment);
        this.backlog();
      }
    }
    this.schedule();
  }

  private backlog(): void {
    const seconds = this.finals.reduce((n, s) => n + sec(s.end - s.start), 0);
    this.o.emit({ type: 'backlog', segments: this.finals.length, seconds });
  }

  private schedule(): void {
    if (this.decoding || this.controller.signal.aborted) return;
    const final = this.finals.shift();
    if (final) {
      this.backlog();
      void this.run(final, 'final');
      return;
    }
    const open = this.segmenter.openSegment();
    const every = this.o.partialEveryMs ?? 1000;
    const minNew = ((this.o.partialMinNewMs ?? 500) * SAMPLE_RATE_HZ) / 1000;
    if (
      open &&
      !this.finishing &&
      this.now() - this.lastPartialAt >= every &&
      open.audio.length - this.lastPartialSamples >= minNew
    ) {
      this.lastPartialAt = this.now();
      this.lastPartialSamples = open.audio.length;
      void this.run(open, 'partial');
      return;
    }
    if (this.finishing && !this.pumping) this.sendDone();
  }

  private async run(segment: Segment, kind: 'partial' | 'final'): Promise<void> {
    this.decoding = true;
    this.decodeSeq++;
    this.stats.decodes++;
    let signal = this.controller.signal;
    if (kind === 'partial') {
      // Stopped by the session's own stop or by its segment closing (a child of the session's signal).
      const abort = new AbortController();
      const stop = () => abort.abort(this.controller.signal.reason);
      this.controller.signal.addEventListener('abort', stop, { once: true });
      this.partial = { id: segment.id, abort, detach: () => this.controller.signal.removeEventListener('abort', stop) };
      signal = abort.signal;
    }
    try {
      const r = await this.o.decoder.decode(segment.audio, kind, signal);
      if (kind === 'final') this.emitFinal(segment, { text: r.text, backend: r.backend });
      else if (this.openId === segment.id) {
        this.o.emit({ type: 'partial', id: segment.id, start: sec(segment.start), text: r.text });
      }
    } catch (err) {
      if (kind === 'final' && !this.controller.signal.aborted)
        this.emitFinal(segment, { text: '', backend: '', error: err instanceof Error ? err.message : String(err) });
    } finally {
      if (kind === 'partial') {
        this.partial?.detach();
        this.partial = null;
      }
      this.decoding = false;
      this.schedule();
    }
  }

  /** A segment's final (its text, or why it failed), stamped with the capture position and clock at sending. */
  private emitFinal(
    segment: Segment,
    { text, backend, error }: { text: string; backend: string; error?: string },
  ): void {
    this.o.emit({
      type: 'final',
      id: segment.id,
      start: sec(segment.start),
      end: sec(segment.end),
      text,
      engine: backend,
      ...(error === undefined ? {} : { error }),
      atSample: this.source?.length ?? segment.end,
      atMs: Date.now(),
    });
  }
}
