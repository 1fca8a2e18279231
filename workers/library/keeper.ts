/**
 * The worker's side of the library: it creates a document for every recording and every transcribed file, keeps
 * their audio (RecordingWriter), adds live finals as they are decoded, and records how each transcription ended.
 * Changes to one document run one after another.  While a document is being written the worker holds a Web Lock
 * named after it, so another tab's page can tell an abandoned recording from one still in progress.
 */
import type { WindowResult } from '../asr/contract.ts';
import {
  newDocument,
  titleFrom,
  withSegments,
  windowSegments,
  documentText,
  type DocumentSegment,
  type TranscriptDocument,
} from '../format/document.ts';
import type { ErrorInfo } from '../protocol.ts';
import { StoreError } from '../store/idb.ts';
import { LibraryStore, writingLockName } from './library-store.ts';
import { RecordingWriter, type AudioSource } from './recording-writer.ts';

export interface KeeperEvents {
  /** A document changed (the page refreshes its list). */
  changed(id: string): void;
  /** Storing a document's audio stopped (full disk): `keptSamples` are kept. */
  audioFailed(id: string, error: ErrorInfo, keptSamples: number): void;
}

type Model = TranscriptDocument['model'];

/** navigator.locks in a window or a worker (absent in Node and in older browsers). */
interface LockManagerLike {
  request(name: string, callback: () => Promise<void>): Promise<void>;
}

const SAMPLE_RATE = 16_000;

export class LibraryKeeper {
  readonly store = new LibraryStore();
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly locks = new Map<string, () => void>();

  constructor(private readonly events: KeeperEvents) {}

  /** Change a document after the changes queued before (a failure is reported, never thrown at the caller). */
  private change(id: string, fn: (doc: TranscriptDocument) => TranscriptDocument): Promise<void> {
    const run = (this.queues.get(id) ?? Promise.resolve()).then(async () => {
      try {
        if (await this.store.update(id, fn)) this.events.changed(id);
      } catch (err) {
        this.events.audioFailed(id, storageError(err), -1);
      }
    });
    this.queues.set(id, run);
    void run.finally(() => {
      if (this.queues.get(id) === run) this.queues.delete(id);
    });
    return run;
  }

  private hold(id: string): void {
    const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
    if (!locks || this.locks.has(id)) return;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    this.locks.set(id, release);
    void locks.request(writingLockName(id), () => held).catch(() => undefined);
  }

  private letGo(id: string): void {
    this.locks.get(id)?.();
    this.locks.delete(id);
  }

  private async create(doc: TranscriptDocument): Promise<boolean> {
    this.hold(doc.id);
    try {
      await this.store.put(doc);
      this.events.changed(doc.id);
      return true;
    } catch (err) {
      this.letGo(doc.id);
      this.events.audioFailed(doc.id, storageError(err), 0);
      return false;
    }
  }

  private writer(id: string): RecordingWriter {
    return new RecordingWriter(this.store, id, (error, kept) => {
      void this.change(id, (d) => ({ ...d, audio: { ...d.audio, error: `${error.code}: ${error.detail}` } }));
      this.events.audioFailed(id, error, kept);
    });
  }

  /** A recording starts: its document, and the writer that keeps its audio each second. */
  async startRecording(id: string, at: Date, model: Model): Promise<RecordingWriter | null> {
    const ok = await this.create(newDocument({ id, kind: 'recording', createdAt: at, model, status: 'recording' }));
    return ok ? this.writer(id) : null;
  }

  /** A live final: appended in order; the title follows the first words unless the user named it. */
  addFinal(id: string, segment: DocumentSegment): Promise<void> {
    return this.change(id, (d) => {
      const segments = [...d.segments, segment];
      return { ...d, segments, title: d.titleEdited ? d.title : titleFrom(documentText({ segments })) };
    });
  }

  /** The capture ended: store the rest of its audio, and say whether its text is coming (`live`) or not. */
  async recordingEnded(writer: RecordingWriter | null, id: string, source: AudioSource, live: boolean) {
    const { complete } = writer ? await writer.finish(source) : { complete: false };
    let waiting = false;
    await this.change(id, (d) => {
      // A whole-recording transcription may have started meanwhile (status 'transcribing'): leave it be.
      waiting = !live && d.status === 'recording';
      return {
        ...d,
        durationSec: source.length / SAMPLE_RATE,
        audio: { ...d.audio, complete },
        status: live ? 'transcribing' : waiting ? 'untranscribed' : d.status,
      };
    });
    if (waiting) this.letGo(id);
    return { complete };
  }

  /** Live dictation finished every final of the recording. */
  async liveDone(id: string): Promise<void> {
    await this.change(id, (d) => ({ ...d, status: d.status === 'transcribing' ? 'done' : d.status }));
    this.letGo(id);
  }

  /**
   * A file to transcribe: resolves once its document exists (false: storage refused it); its audio is written
   * while the transcription runs.
   */
  async startFile(id: string, fileName: string, pcm: Float32Array, at: Date, model: Model): Promise<boolean> {
    const doc = newDocument({ id, kind: 'file', createdAt: at, model, status: 'transcribing', fileName });
    doc.durationSec = pcm.length / SAMPLE_RATE;
    if (!(await this.create(doc))) return false;
    const writer = this.writer(id);
    void writer
      .finish({ length: pcm.length, slice: (a, b) => pcm.slice(a, b) })
      .then(({ complete }) => this.change(id, (d) => ({ ...d, audio: { ...d.audio, complete } })));
    return true;
  }

  /** A stored document is transcribed again (a recovered recording, or *Transcribe whole recording*). */
  async startTranscription(id: string, samples: number, model: Model): Promise<void> {
    this.hold(id);
    await this.change(id, (d) => ({
      ...d,
      model,
      status: 'transcribing',
      error: null,
      durationSec: samples / SAMPLE_RATE,
      audio:
        d.status === 'recording' && !d.audio.error
          ? { ...d.audio, error: 'the page closed while recording: the audio up to then was kept' }
          : d.audio,
    }));
  }

  /** A transcription of the whole audio finished: its windows become the document's segments. */
  async transcribed(id: string, windows: readonly WindowResult[]): Promise<void> {
    await this.change(id, (d) => ({ ...withSegments(d, windowSegments(windows)), status: 'done', error: null }));
    this.letGo(id);
  }

  async transcriptionFailed(id: string, error: ErrorInfo): Promise<void> {
    await this.change(id, (d) => ({ ...d, status: 'failed', error: `${error.code}: ${error.detail}` }));
    this.letGo(id);
  }
}

function storageError(err: unknown): ErrorInfo {
  if (err instanceof StoreError) return { code: err.code, detail: err.message };
  return { code: 'STORAGE_UNAVAILABLE', detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}
