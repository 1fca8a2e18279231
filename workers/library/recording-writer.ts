/**
 * Keeps a recording in the library while it is captured: every second of audio becomes one record as soon as it has
 * arrived, so a reload, a crash or a killed tab loses at most the last second.  Writes run one after another, in
 * order, off the capture path (a frame never waits for IndexedDB).  A full disk stops the writing and says so once;
 * what was written stays, and the recording itself goes on in memory.
 */
import type { ErrorInfo } from '../../src/core/protocol.ts';
import { StoreError } from '../../src/storage/idb.ts';
import { AUDIO_CHUNK_SAMPLES, type LibraryStore } from '../../src/storage/library-store.ts';

/** The recording so far (the worker's SampleStore). */
export interface AudioSource {
  readonly length: number;
  slice(start: number, end: number): Float32Array;
}

export class RecordingWriter {
  /** Samples handed to the store (written or queued). */
  private queued = 0;
  private chunks = 0;
  private writing: Promise<void> = Promise.resolve();
  /** Set when storing stopped (full disk, storage gone): no more writes. */
  failed: ErrorInfo | null = null;

  constructor(
    private readonly store: LibraryStore,
    readonly id: string,
    private readonly onFailed: (error: ErrorInfo, keptSamples: number) => void,
  ) {}

  /** Samples stored for certain (their transaction committed). */
  stored = 0;

  /** New audio is in `source`: queue every whole second not queued yet. */
  push(source: AudioSource): void {
    while (!this.failed && source.length - this.queued >= AUDIO_CHUNK_SAMPLES) this.queue(source, AUDIO_CHUNK_SAMPLES);
  }

  /** The capture ended: queue the rest (a last, shorter record) and resolve once everything queued is written. */
  async finish(source: AudioSource): Promise<{ complete: boolean }> {
    this.push(source);
    if (!this.failed && source.length > this.queued) this.queue(source, source.length - this.queued);
    await this.writing;
    return { complete: !this.failed && this.stored === source.length };
  }

  private queue(source: AudioSource, n: number): void {
    const start = this.queued;
    const index = this.chunks++;
    this.queued += n;
    this.writing = this.writing.then(async () => {
      if (this.failed) return;
      // Copied when its turn comes (a file queues all its seconds at once; they are not all held twice).
      const samples = source.slice(start, start + n);
      try {
        if (await this.store.appendAudio(this.id, index, samples)) this.stored += samples.length;
      } catch (err) {
        this.failed =
          err instanceof StoreError
            ? { code: err.code, detail: err.message }
            : {
                code: 'STORAGE_UNAVAILABLE',
                detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
              };
        this.onFailed(this.failed, this.stored);
      }
    });
  }
}
