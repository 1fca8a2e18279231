/**
 * Voice-activity segments from per-frame speech probabilities (Silero VAD, one per 512-sample frame at 16 kHz).
 *
 * Knobs (SEGMENTER_DEFAULTS):
 *  - startThreshold 0.5 / stopThreshold 0.35: a segment opens on a frame at or above the start threshold and speech
 *    continues while frames stay at or above the stop threshold (hysteresis);
 *  - hangoverMs 500: the segment ends after this long below the stop threshold;
 *  - minSpeechMs 250: a segment whose speech (from the onset to its last frame at or above the stop threshold) is
 *    shorter than this is dropped as a click or a cough (silero-vad's min_speech_duration_ms);
 *  - preRollMs 250: audio kept before the onset (the first phoneme starts ~200 ms before the VAD is sure);
 *  - tailMs 100: audio kept after the last speech frame;
 *  - maxSegmentSec 30: a longer segment is cut at the quietest point of its last 2 s (planWindows, the file path's
 *    rule) and continues as a new segment, so nothing is lost at the cut.
 *
 * Pure and synchronous: the worker feeds it frames and probabilities in order and acts on the events.
 */
import { HOP_SAMPLES, SAMPLE_RATE_HZ, WINDOW_SAMPLES } from '../constants.ts';
import { planWindows, SEARCH_SAMPLES } from '../asr/windows.ts';

export const VAD_FRAME_SAMPLES = 512;

export interface SegmenterOptions {
  startThreshold: number;
  stopThreshold: number;
  hangoverMs: number;
  minSpeechMs: number;
  preRollMs: number;
  tailMs: number;
  maxSegmentSec: number;
}

export const SEGMENTER_DEFAULTS: SegmenterOptions = {
  startThreshold: 0.5,
  stopThreshold: 0.35,
  hangoverMs: 500,
  minSpeechMs: 250,
  preRollMs: 250,
  tailMs: 100,
  maxSegmentSec: 30,
};

export interface Segment {
  id: number;
  /** Sample range [start, end) of the stream (16 kHz). */
  start: number;
  end: number;
  audio: Float32Array;
}

export type SegmentEvent =
  | { type: 'start'; id: number; start: number }
  /** A finished segment: its final decode is due.  `reason` says what closed it. */
  | { type: 'end'; segment: Segment; reason: 'silence' | 'max-length' | 'flush' }
  /** An opened segment turned out too short: forget it (and any partial text shown for it). */
  | { type: 'discard'; id: number };

const ms = (n: number) => Math.round((n * SAMPLE_RATE_HZ) / 1000);

export class Segmenter {
  private readonly o: SegmenterOptions;
  /** Samples of the stream seen so far. */
  private t = 0;
  /** Recent audio while idle (the pre-roll). */
  private history: Float32Array[] = [];
  private historySamples = 0;
  private nextId = 1;
  private open: {
    id: number;
    start: number;
    chunks: Float32Array[];
    samples: number;
    /** Stream position of the frame that opened it. */
    onset: number;
    /** The continuation of a segment cut at the maximum: speech by definition, never dropped as too short. */
    continued: boolean;
    /** Stream position just after the last frame at or above the stop threshold. */
    lastSpeechEnd: number;
  } | null = null;

  constructor(options: Partial<SegmenterOptions> = {}) {
    this.o = { ...SEGMENTER_DEFAULTS, ...options };
    if (this.o.stopThreshold > this.o.startThreshold) throw new Error('stopThreshold must not exceed startThreshold');
  }

  /** The open segment's audio so far (for a partial decode), or null. */
  openSegment(): Segment | null {
    if (!this.open) return null;
    return { id: this.open.id, start: this.open.start, end: this.open.start + this.open.samples, audio: this.joined() };
  }

  /** One frame (any length; Silero's is 512 samples) and its speech probability. */
  push(frame: Float32Array, probability: number): SegmentEvent[] {
    const events: SegmentEvent[] = [];
    const frameStart = this.t;
    this.t += frame.length;
    if (!this.open) {
      if (probability >= this.o.startThreshold) {
        const pre = this.preRoll();
        const id = this.nextId++;
        this.open = {
          id,
          start: frameStart - pre.length,
          chunks: [pre, frame.slice()],
          samples: pre.length + frame.length,
          onset: frameStart,
          continued: false,
          lastSpeechEnd: this.t,
        };
        this.history = [];
        this.historySamples = 0;
        events.push({ type: 'start', id, start: this.open.start });
      } else this.remember(frame);
      return events;
    }
    const seg = this.open;
    seg.chunks.push(frame.slice());
    seg.samples += frame.length;
    if (probability >= this.o.stopThreshold) seg.lastSpeechEnd = this.t;
    if (this.t - seg.lastSpeechEnd >= ms(this.o.hangoverMs)) {
      events.push(...this.close('silence'));
      return events;
    }
    if (seg.samples >= Math.round(this.o.maxSegmentSec * SAMPLE_RATE_HZ)) events.push(...this.cut());
    return events;
  }

  /** End of the stream (Stop): the open segment ends here. */
  flush(): SegmentEvent[] {
    return this.open ? this.close('flush') : [];
  }

  private joined(): Float32Array {
    const seg = this.open!;
    if (seg.chunks.length > 1) {
      const all = new Float32Array(seg.samples);
      let at = 0;
      for (const c of seg.chunks) {
        all.set(c, at);
        at += c.length;
      }
      seg.chunks = [all];
    }
    return seg.chunks[0] ?? new Float32Array(0);
  }

  private close(reason: 'silence' | 'flush'): SegmentEvent[] {
    const seg = this.open!;
    this.open = null;
    if (!seg.continued && seg.lastSpeechEnd - seg.onset < ms(this.o.minSpeechMs))
      return [{ type: 'discard', id: seg.id }];
    const end = Math.min(seg.start + seg.samples, seg.lastSpeechEnd + ms(this.o.tailMs));
    if (end <= seg.start) return [{ type: 'discard', id: seg.id }]; // a cut exactly at the end: nothing left
    const audio = this.joinedOf(seg).slice(0, end - seg.start);
    // What followed the segment is the next one's pre-roll.
    this.remember(this.joinedOf(seg).subarray(end - seg.start));
    return [{ type: 'end', segment: { id: seg.id, start: seg.start, end, audio }, reason }];
  }

  /** The open segment reached the maximum: end it at the quietest point of its last 2 s, continue from there. */
  private cut(): SegmentEvent[] {
    const seg = this.open!;
    const audio = this.joined();
    const at = quietestCut(audio);
    const first: Segment = { id: seg.id, start: seg.start, end: seg.start + at, audio: audio.slice(0, at) };
    const rest = audio.slice(at);
    const id = this.nextId++;
    this.open = {
      id,
      start: first.end,
      chunks: [rest],
      samples: rest.length,
      onset: first.end,
      continued: true,
      lastSpeechEnd: Math.max(seg.lastSpeechEnd, first.end),
    };
    return [
      { type: 'end', segment: first, reason: 'max-length' },
      { type: 'start', id, start: first.end },
    ];
  }

  private joinedOf(seg: NonNullable<Segmenter['open']>): Float32Array {
    const saved = this.open;
    this.open = seg;
    const a = this.joined();
    this.open = saved;
    return a;
  }

  private remember(frame: Float32Array): void {
    if (!frame.length) return;
    this.history.push(frame.slice());
    this.historySamples += frame.length;
    const keep = ms(this.o.preRollMs);
    while (this.history.length > 1 && this.historySamples - this.history[0]!.length >= keep) {
      this.historySamples -= this.history.shift()!.length;
    }
  }

  private preRoll(): Float32Array {
    const keep = Math.min(ms(this.o.preRollMs), this.historySamples);
    const all = new Float32Array(this.historySamples);
    let at = 0;
    for (const h of this.history) {
      all.set(h, at);
      at += h.length;
    }
    return all.slice(all.length - keep);
  }
}

/**
 * Where to cut `audio`: the quietest point of its last 2 s (energy over ±10 ms, candidates every 10 ms, ties to the
 * later one), the rule planWindows applies to files at each 30 s mark.
 */
export function quietestCut(audio: Float32Array): number {
  const n = audio.length;
  if (n > WINDOW_SAMPLES) return planWindows(audio.subarray(0, WINDOW_SAMPLES + 1))[0]!.end;
  const half = 160;
  const energy = (c: number) => {
    let e = 0;
    for (let k = Math.max(c - half, 0); k < Math.min(c + half, n); k++) e += (audio[k] as number) ** 2;
    return e;
  };
  let best = n;
  let bestE = Infinity;
  for (let c = Math.max(0, n - SEARCH_SAMPLES); c <= n; c += HOP_SAMPLES) {
    const e = energy(c);
    if (e <= bestE) {
      best = c;
      bestE = e;
    }
  }
  return best;
}
