/**
 * The worker's side of the library: it creates a document for every recording and every transcribed file, keeps
 * their audio (RecordingWriter), adds live finals as they are decoded, and records how each transcription ended.
 * Changes to one document run one after another.  While a document is being written the worker holds a Web Lock
 * named after it, so another tab's page can tell an abandoned recording from one still in progress.
 */
import type { WindowResult } from '../../src/core/asr/contract.ts';
import {
  newDocument,
  titleFrom,
  withSegments,
  windowSegments,
  documentText,
  type DocumentSegment,
  type DocumentStatus,
  type TranscriptDocument,
} from '../../src/core/format/document.ts';
import type { ErrorInfo } from '../../src/core/protocol.ts';
import { StoreError } from '../../src/storage/idb.ts';
import { LibraryStore, writingLockName } from '../../src/storage/library-store.ts';
import { RecordingWriter, type AudioSource } from './recording-writer.ts';

export interface KeeperEvents {
  /** A document changed (the page refreshes its list). */
  changed(id: string): void;
  /**
   * Storing failed: a document's audio (`keptSamples` of it are kept; the rest stays in memory) or a change to the
   * document itself (`keptSamples` -1).
   */
  failed(id: string, what: 'audio' | 'document', error: ErrorInfo, keptSamples: number): void;
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
  /** Who is writing each document (its recording, its live text, a file's audio, a transcription): the Web Lock
   * is held while at least one is. */
  private readonly writers = new Map<string, { count: number; release: () => void }>();
  /** Documents whose whole audio is being transcribed (again), with their status before: live finals and the end
   * of live dictation leave them alone, a failure gives the status back. */
  private readonly whole = new Map<string, DocumentStatus | null>();

  constructor(private readonly events: KeeperEvents) {}

  /** Change a document after the changes queued before (a failure is reported, never thrown at the caller). */
  private change(id: string, fn: (doc: TranscriptDocument) => TranscriptDocument): Promise<void> {
    const run = (this.queues.get(id) ?? Promise.resolve()).then(async () => {
      try {
        if (await this.store.update(id, fn)) this.events.changed(id);
      } catch (err) {
        this.events.failed(id, 'document', storageError(err), -1);
      }
    });
    this.queues.set(id, run);
    void run.finally(() => {
      if (this.queues.get(id) === run) this.queues.delete(id);
    });
    return run;
  }

  private hold(id: string): void {
    const held = this.writers.get(id);
    if (held) {
      held.count++;
      return;
    }
    let release: () => void = () => {};
    const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
    if (locks) {
      const until = new Promise<void>((resolve) => (release = resolve));
      void locks.request(writingLockName(id), () => until).catch(() => undefined);
    }
    this.writers.set(id, { count: 1, release });
  }

  private letGo(id: string): void {
    const held = this.writers.get(id);
    if (!held || --held.count > 0) return;
    held.release();
    this.writers.delete(id);
  }

  private async create(doc: TranscriptDocument): Promise<boolean> {
    this.hold(doc.id);
    try {
      await this.store.put(doc);
      this.events.changed(doc.id);
      return true;
    } catch (err) {
      this.letGo(doc.id);
      this.events.failed(doc.id, 'document', storageError(err), -1);
      return false;
    }
  }

  /** A writer of the document's audio; it holds the document while it writes. */
  private writer(id: string): RecordingWriter {
    return new RecordingWriter(this.store, id, (error, kept) => {
      void this.change(id, (d) => ({ ...d, audio: { ...d.audio, error: `${error.code}: ${error.detail}` } }));
      this.events.failed(id, 'audio', error, kept);
    });
  }

  /** A recording starts: its document, and the writer that keeps its audio each second. */
  async startRecording(id: string, at: Date, model: Model): Promise<RecordingWriter | null> {
    const ok = await this.create(newDocument({ id, kind: 'recording', createdAt: at, model, status: 'recording' }));
    return ok ? this.writer(id) : null;
  }

  /** A live final: appended in order; the title follows the first words unless the user named it.  Ignored once a
   * whole-recording transcription has started (its windows replace the segments). */
  addFinal(id: string, segment: DocumentSegment): Promise<void> {
    if (this.whole.has(id)) return Promise.resolve();
    return this.change(id, (d) => {
      if (this.whole.has(id)) return d;
      const segments = [...d.segments, segment];
      return { ...d, segments, title: d.titleEdited ? d.title : titleFrom(documentText({ segments })) };
    });
  }

  /**
   * The capture ended: store the rest of its audio and say whether its text is coming (`live`) or not.  `complete`:
   * every sample is in the library, as read back from it (then the worker may let go of its copy).
   */
  async recordingEnded(writer: RecordingWriter | null, id: string, source: AudioSource, live: boolean) {
    let { complete } = writer ? await writer.finish(source) : { complete: false };
    if (complete) complete = (await this.store.document(id).catch(() => undefined))?.audio.samples === source.length;
    await this.change(id, (d) => ({
      ...d,
      durationSec: source.length / SAMPLE_RATE,
      audio: { ...d.audio, complete },
      // A whole-recording transcription may have started meanwhile ('transcribing'): leave it be.
      status: live ? 'transcribing' : d.status === 'recording' ? 'untranscribed' : d.status,
    }));
    // Live dictation goes on holding it until liveDone.
    if (!live) this.letGo(id);
    return { complete };
  }

  /** Live dictation finished the recording: `error` when a segment could not be transcribed or it was stopped. */
  async liveDone(id: string, error: string | null): Promise<void> {
    if (!this.whole.has(id))
      await this.change(id, (d) =>
        d.status === 'transcribing' ? { ...d, status: error ? 'failed' : 'done', error } : d,
      );
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
    this.hold(id); // the audio's writing, besides the transcription
    const writer = this.writer(id);
    void writer
      .finish({ length: pcm.length, slice: (a, b) => pcm.slice(a, b) })
      .then(({ complete }) => this.change(id, (d) => ({ ...d, audio: { ...d.audio, complete } })))
      .finally(() => this.letGo(id));
    return true;
  }

  /** A stored document is transcribed whole (a recovered recording, or *Transcribe whole recording*). */
  async startTranscription(id: string, samples: number, model: Model): Promise<void> {
    this.hold(id);
    this.whole.set(id, null);
    await this.change(id, (d) => {
      this.whole.set(id, d.status);
      return {
        ...d,
        model,
        status: 'transcribing',
        durationSec: samples / SAMPLE_RATE,
        audio:
          d.status === 'recording' && !d.audio.error
            ? { ...d.audio, error: 'the page closed while recording: the audio up to then was kept' }
            : d.audio,
      };
    });
  }

  /** A transcription of the whole audio finished: its windows become the document's segments. */
  async transcribed(id: string, windows: readonly WindowResult[]): Promise<void> {
    this.whole.delete(id);
    await this.change(id, (d) => ({ ...withSegments(d, windowSegments(windows)), status: 'done', error: null }));
    this.letGo(id);
  }

  /** It failed or was cancelled: a document that had its text keeps it (and its status); others say why. */
  async transcriptionFailed(id: string, error: ErrorInfo): Promise<void> {
    const before = this.whole.get(id);
    this.whole.delete(id);
    await this.change(id, (d) =>
      before === 'done'
        ? { ...d, status: 'done' }
        : { ...d, status: 'failed', error: `${error.code}: ${error.detail}` },
    );
    this.letGo(id);
  }
}

function storageError(err: unknown): ErrorInfo {
  if (err instanceof StoreError) return { code: err.code, detail: err.message };
  return { code: 'STORAGE_UNAVAILABLE', detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}
