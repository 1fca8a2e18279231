/**
 * The worker's recordings: one capture sink per recording (every sample, in memory until the library holds them
 * all), its library document written as audio arrives, live dictation while a model is ready (VAD -> segments ->
 * the model host's partial and final text, each final kept as it comes), the statistics and log-mel columns ten
 * times a second, and the offer to transcribe a recording whole when no model transcribed it while it was made.
 *
 * Where live text comes from is the model host's `liveSource`: with 'after-stop' (the model held one graph at a
 * time, which cannot decode as the user speaks) no live session starts, not even the voice activity detector (the
 * level meter needs none, and such a device is short of memory and time); at Stop the recording is offered whole
 * (`recording-offer`), which the page transcribes at once as a file job.  The audio is in the library either way.
 */

import { CaptureSink, type PortLike } from './capture-sink.ts';
import type { SampleStore } from './sample-store.ts';
import { SAMPLE_RATE_HZ } from '../../src/core/constants.ts';
import { LogMel } from '../../src/core/dsp/mel.ts';
import { LiveSession } from '../../src/core/live/live.ts';
import { SileroVad } from '../../src/core/live/silero.ts';
import type { LiveEvent } from '../../src/core/asr/contract.ts';
import type { ErrorInfo, RecordingId, WorkerEvent } from '../../src/core/protocol.ts';
import { createVadRuntime } from '../ort/web.ts';
import { WorkerError, type ModelHost } from '../host/model-host.ts';
import type { LibraryKeeper } from '../library/keeper.ts';
import type { RecordingWriter } from '../library/recording-writer.ts';

const STATS_INTERVAL_MS = 100;

export interface RecordingsOptions {
  host: ModelHost;
  keeper: LibraryKeeper;
  /** The voice activity model's bytes (fetched on the first live recording or model load). */
  vadModel: () => Promise<Uint8Array>;
  send: (event: WorkerEvent, transfer?: Transferable[]) => void;
  /** A failure outside any call (the page shows it). */
  fail: (error: ErrorInfo) => void;
}

export class Recordings {
  private readonly logMel = new LogMel();
  private readonly sinks = new Map<RecordingId, CaptureSink>();
  private readonly live = new Map<RecordingId, LiveSession>();
  /** Why a live recording's text is incomplete (a final that failed, the model released mid-recording). */
  private readonly problems = new Map<RecordingId, string>();
  private statsTimer: ReturnType<typeof setInterval> | null = null;
  /** Silero VAD, loaded on the first live recording or model load (its own runtime: see createVadRuntime). */
  private vad: Promise<SileroVad> | null = null;

  constructor(private readonly o: RecordingsOptions) {}

  /** The voice activity model, loaded once (a failed load is tried again next time). */
  loadVad(): Promise<SileroVad> {
    const vad = (this.vad ??= this.o.vadModel().then((bytes) => SileroVad.load(createVadRuntime(), bytes)));
    vad.catch(() => (this.vad = null));
    return vad;
  }

  /** A recording starts: its frames arrive on `port`. */
  attach(recordingId: RecordingId, startedAt: number, port: PortLike, wantsLive: boolean): void {
    const { host, keeper, send } = this.o;
    const session = wantsLive && host.ready && host.liveSource !== 'after-stop' ? this.startLive(recordingId) : null;
    // The recording's library document; its audio is written each second from the moment it exists.
    let writer: RecordingWriter | null = null;
    const started = keeper.startRecording(recordingId, new Date(startedAt), host.identity).then((w) => {
      writer = w;
      w?.push(sink.store);
      return w;
    });
    const sink = new CaptureSink(recordingId, port, this.logMel, {
      onAudio: (store: SampleStore) => {
        session?.feed(store);
        writer?.push(store);
      },
      onFinished: (stats, poolMisses) => {
        const transcribed = session
          ? session
              .finish(sink.store)
              .catch(() => undefined)
              .finally(() => this.live.delete(recordingId))
          : null;
        this.sendMel(sink);
        send({ type: 'capture-finished', stats, poolMisses });
        if (stats.lostFrames > 0 || stats.duplicateFrames > 0) {
          this.o.fail({
            code: 'FRAMES_LOST',
            detail: `${stats.lostFrames} frames lost, ${stats.duplicateFrames} duplicated in recording ${recordingId}`,
          });
        }
        // Nothing transcribed it while it was made, and a model is here now: it can be transcribed whole.
        if (!session && host.ready && stats.samples > 0)
          send({ type: 'recording-offer', recordingId, seconds: stats.samples / SAMPLE_RATE_HZ });
        void (async () => {
          const { complete } = await keeper.recordingEnded(await started, recordingId, sink.store, session !== null);
          if (transcribed) {
            await transcribed;
            await keeper.liveDone(recordingId, this.problems.get(recordingId) ?? null);
            this.problems.delete(recordingId);
          }
          // Stored and transcribed: the library has every sample, the memory can go.
          if (complete) this.sinks.delete(recordingId);
        })();
      },
    });
    this.sinks.set(recordingId, sink);
    this.statsTimer ??= setInterval(() => this.tick(), STATS_INTERVAL_MS);
  }

  /** Forget a recording's audio in memory (the library's copy stays). */
  discard(recordingId: RecordingId): void {
    this.sinks.delete(recordingId);
  }

  /** A recording's (or kept file's) audio: from memory while the worker holds it, else from the library. */
  async audio(docId: string): Promise<Float32Array> {
    const sink = this.sinks.get(docId);
    if (sink) return sink.store.slice();
    const samples = await this.o.keeper.store.audio(docId);
    if (samples.length === 0) throw new WorkerError('NOT_KEPT', `no audio is kept for ${docId}`);
    return samples;
  }

  /** The model is going away: live dictation stops, and each running recording's text says why it is incomplete. */
  cancelLive(): void {
    for (const [recordingId, session] of this.live) {
      this.problems.set(recordingId, 'CANCELLED: the model was released before every segment was transcribed');
      session.cancel();
    }
  }

  /** Live dictation for a recording (each final is kept in the recording's library document as it comes). */
  private startLive(recordingId: RecordingId): LiveSession {
    const { host, keeper, send } = this.o;
    const noteProblem = (why: string) => {
      if (!this.problems.has(recordingId)) this.problems.set(recordingId, why);
    };
    const emit = (event: LiveEvent) => {
      send({ type: 'live-event', recordingId, event });
      if (event.type === 'final' && event.error)
        noteProblem(`INCOMPLETE: a segment at ${event.start.toFixed(1)} s failed: ${event.error}`);
      if (event.type === 'error') noteProblem(`INCOMPLETE: live dictation stopped: ${event.message}`);
      if (event.type === 'final' && !event.error && event.text.trim())
        void keeper.addFinal(recordingId, {
          start: event.start,
          end: event.end,
          text: event.text,
          final: true,
          engine: event.engine || null,
        });
    };
    // Its own VAD stream: a previous recording may still be finishing.
    const stream = this.loadVad().then((v) => v.stream());
    stream.catch(() => undefined);
    const session = new LiveSession({
      probability: async (frame) => (await stream).probability(frame),
      // The host decodes partials and finals alike.
      decoder: {
        decode: async (samples, _kind, signal) => {
          const { text, backend } = await host.decodeSegment(samples, signal);
          return { text, backend };
        },
      },
      emit,
    });
    emit({ type: 'listening' });
    this.live.set(recordingId, session);
    return session;
  }

  private sendMel(sink: CaptureSink): void {
    const mel = sink.takeMel();
    if (mel) this.o.send({ type: 'mel-columns', mel }, [mel.data.buffer]);
  }

  private tick(): void {
    let capturing = false;
    for (const sink of this.sinks.values()) {
      if (sink.done) continue;
      capturing = true;
      this.o.send({ type: 'capture-stats', stats: sink.stats() });
      this.sendMel(sink);
    }
    if (!capturing && this.statsTimer !== null) {
      clearInterval(this.statsTimer);
      this.statsTimer = null;
    }
  }
}
