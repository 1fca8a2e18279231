/**
 * The live transcript on the main thread: final segments (never changed once shown) and the open segment's volatile
 * text, built from the worker's `live-event`s.  Recordings append: Stop and Record again continue the same
 * transcript, each recording's times following the previous one's length.
 */
import type { LiveEvent, LiveStats } from '../../core/asr/contract.ts';
import type { Segment } from '../../core/format/export.ts';
import type { RecordingId } from '../../core/protocol.ts';

export interface LiveLine {
  id: string;
  /** Seconds from the start of the transcript. */
  start: number;
  end: number | null;
  text: string;
  final: boolean;
  /** Where the final was decoded ('webgpu', 'wasm', 'server'). */
  backend?: string;
  error?: string;
  /** A note, not speech: the system paused the microphone here for this many seconds (nothing was heard). */
  gapSec?: number;
  /** Samples captured (16 kHz, this recording) when the final was ready, and the wall clock then. */
  atSample?: number;
  atMs?: number;
}

export class LiveTranscript {
  /** Finals in order, then at most one partial. */
  lines: LiveLine[] = [];
  backlog = { segments: 0, seconds: 0 };
  error: string | null = null;
  /** The last finished recording's voice activity detection figures. */
  stats: LiveStats | null = null;
  /** A recording is being transcribed (until its `done`). */
  active = false;
  /** Recordings the worker transcribes live (they need no whole-recording pass). */
  readonly liveRecordings = new Set<RecordingId>();
  private offset = 0;
  /** Where each recording starts in the transcript (seconds). */
  private readonly recordingOffsets = new Map<RecordingId, number>();

  /** Call when a recording's capture finished: later recordings' times continue after it. */
  recordingEnded(recordingId: RecordingId, seconds: number): void {
    const base = this.recordingOffsets.get(recordingId) ?? this.offset;
    this.offset = Math.max(this.offset, base + seconds);
  }

  apply(recordingId: RecordingId, e: LiveEvent): void {
    if (!this.recordingOffsets.has(recordingId)) this.recordingOffsets.set(recordingId, this.offset);
    const base = this.recordingOffsets.get(recordingId)!;
    const key = (id: number) => `${recordingId}:${id}`;
    const partialIndex = (id: number) => this.lines.findIndex((l) => !l.final && l.id === key(id));
    switch (e.type) {
      case 'listening':
        this.liveRecordings.add(recordingId);
        break;
      case 'speech-start':
        this.active = true;
        break;
      case 'partial': {
        const line: LiveLine = { id: key(e.id), start: base + e.start, end: null, text: e.text, final: false };
        const i = partialIndex(e.id);
        if (i >= 0) this.lines[i] = line;
        else this.lines.push(line);
        break;
      }
      case 'discard': {
        const i = partialIndex(e.id);
        if (i >= 0) this.lines.splice(i, 1);
        break;
      }
      case 'final': {
        const i = partialIndex(e.id);
        if (i >= 0) this.lines.splice(i, 1);
        const line: LiveLine = {
          id: key(e.id),
          start: base + e.start,
          end: base + e.end,
          text: e.text,
          final: true,
          backend: e.engine,
          atSample: e.atSample,
          atMs: e.atMs,
          ...(e.error ? { error: e.error } : {}),
        };
        // Finals stay in time order ahead of any partial.
        const at = this.lines.findIndex((l) => !l.final || l.start > line.start);
        if (at < 0) this.lines.push(line);
        else this.lines.splice(at, 0, line);
        break;
      }
      case 'backlog':
        this.backlog = { segments: e.segments, seconds: e.seconds };
        break;
      case 'done':
        this.stats = e.stats;
        this.active = false;
        this.backlog = { segments: 0, seconds: 0 };
        break;
      case 'error':
        this.error = e.message;
        break;
    }
    this.lines = [...this.lines];
  }

  /** The system paused recording `recordingId` at `atSec` (of that recording) for `missingSec`: say so in place. */
  noteGap(recordingId: RecordingId, atSec: number, missingSec: number): void {
    if (!this.recordingOffsets.has(recordingId)) this.recordingOffsets.set(recordingId, this.offset);
    const start = this.recordingOffsets.get(recordingId)! + atSec;
    const line: LiveLine = {
      id: `${recordingId}:gap:${start}`,
      start,
      end: start,
      text: '',
      final: true,
      gapSec: missingSec,
    };
    const at = this.lines.findIndex((l) => !l.final || l.start > start);
    if (at < 0) this.lines.push(line);
    else this.lines.splice(at, 0, line);
    this.lines = [...this.lines];
  }

  clear(): void {
    this.lines = [];
    this.error = null;
    this.offset = 0;
    this.recordingOffsets.clear();
  }

  /** Recordings in the transcript on screen (Stop and Record again continue it). */
  get recordingCount(): number {
    return this.recordingOffsets.size;
  }

  /** The finals as timed segments (for Save as TXT/SRT/VTT); notes and failed parts are not speech. */
  get segments(): Segment[] {
    return this.lines
      .filter((l) => l.final && l.gapSec === undefined && !l.error && l.text)
      .map((l) => ({ start: l.start, end: l.end ?? l.start, text: l.text }));
  }

  /** The finals' text, joined (for Copy). */
  get text(): string {
    return this.lines
      .filter((l) => l.final && l.text)
      .map((l) => l.text)
      .join(' ');
  }
}
