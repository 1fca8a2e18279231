/**
 * The transcript library: one IndexedDB object store (through idb-keyval), beside the model store, holding
 *
 *   ['doc',   id]          TranscriptDocument   (src/core/format/document.ts; the JSON export is this record)
 *   ['audio', id, index]   Float32Array         one second of the 16 kHz mono audio (the last may be shorter)
 *
 * An audio record and the document that counts it are written in one transaction, so `doc.audio` always describes
 * exactly the records that exist.  Edits are read-modify-write inside one transaction, so the worker (appending
 * audio and segments) and the page (renaming, deleting) never overwrite each other's changes.
 *
 * Used by the worker (writes recordings and transcriptions) and by the page (lists, plays, renames, deletes).
 */
import type { TranscriptDocument } from '../core/format/document.ts';
import { KeyedStore, StoreError, range } from './idb.ts';

export const LIBRARY_DB = 'glm-asr-library';
export const LIBRARY_STORE = 'records';
/** Samples per audio record: one second at 16 kHz. */
export const AUDIO_CHUNK_SAMPLES = 16_000;

/** The Web Lock the worker holds while it writes a document (recording or transcribing): a document marked as in
 * progress whose lock nobody holds was abandoned (the page closed). */
export const writingLockName = (id: string) => `glm-asr-library:${id}`;

export interface LibrarySize {
  transcripts: number;
  /** Audio records plus documents, in bytes (the documents as JSON). */
  bytes: number;
  audioBytes: number;
}

export class LibraryStore {
  private readonly db: KeyedStore;
  /** Test hook (`?libraryQuotaAfter=`): audio writes beyond this many bytes fail as if the disk were full. */
  private quotaAfterBytes: number | undefined;
  private written = 0;

  constructor(dbName = LIBRARY_DB) {
    this.db = new KeyedStore(dbName, LIBRARY_STORE);
  }

  simulateQuota(afterBytes: number | undefined): void {
    this.quotaAfterBytes = afterBytes;
    this.written = 0;
  }

  documents(): Promise<TranscriptDocument[]> {
    return this.db.run('readonly', (s) => s.getAll(range(['doc'])) as IDBRequest<TranscriptDocument[]>);
  }

  document(id: string): Promise<TranscriptDocument | undefined> {
    return this.db.run('readonly', (s) => s.get(['doc', id]) as IDBRequest<TranscriptDocument | undefined>);
  }

  async put(doc: TranscriptDocument): Promise<void> {
    await this.db.run('readwrite', (s) => s.put(doc, ['doc', doc.id]));
  }

  /**
   * Change a stored document in one transaction; resolves with the new document, or undefined when it no longer
   * exists (deleted meanwhile: it is not brought back).
   */
  update(id: string, change: (doc: TranscriptDocument) => TranscriptDocument): Promise<TranscriptDocument | undefined> {
    return this.db.run('readwrite', (s) => this.changeIn(s, id, change));
  }

  private changeIn(
    s: IDBObjectStore,
    id: string,
    change: (doc: TranscriptDocument) => TranscriptDocument,
  ): Promise<TranscriptDocument | undefined> {
    return new Promise((resolve, reject) => {
      const get = s.get(['doc', id]);
      get.onerror = () => reject(get.error);
      get.onsuccess = () => {
        const doc = get.result as TranscriptDocument | undefined;
        if (!doc) return resolve(undefined);
        const next = { ...change(doc), updatedAt: new Date().toISOString() };
        const put = s.put(next, ['doc', id]);
        put.onerror = () => reject(put.error);
        put.onsuccess = () => resolve(next);
      };
    });
  }

  /**
   * Store audio record `index` of document `id` and count it in the document, atomically.  Nothing is written for a
   * document that no longer exists (resolves false).
   */
  async appendAudio(id: string, index: number, samples: Float32Array): Promise<boolean> {
    // The test hook fails the way a full disk does: the writes succeed, then the transaction aborts.
    const full = this.quotaAfterBytes !== undefined && this.written + samples.byteLength > this.quotaAfterBytes;
    let doc: TranscriptDocument | undefined;
    try {
      doc = await this.db.run('readwrite', async (s) => {
        s.put(samples, ['audio', id, index]);
        const next = await this.changeIn(s, id, (d) => {
          const kept = d.audio.samples + samples.length;
          return {
            ...d,
            // A recording's length grows with what is kept (one cut short by a reload shows its real length).
            durationSec: Math.max(d.durationSec, kept / d.audio.sampleRate),
            audio: { ...d.audio, samples: kept, chunks: index + 1 },
          };
        });
        if (full) s.transaction.abort();
        return next;
      });
    } catch (err) {
      if (full)
        throw new StoreError('STORAGE_FULL', 'QuotaExceededError: simulated by the libraryQuotaAfter test hook');
      throw err;
    }
    if (!doc) {
      // Deleted while recording: take back the record just written.
      await this.db.run('readwrite', (s) => s.delete(range(['audio', id])));
      return false;
    }
    this.written += samples.byteLength;
    return true;
  }

  /** The document's audio records, in order. */
  audioChunks(id: string): Promise<Float32Array[]> {
    return this.db.run('readonly', (s) => s.getAll(range(['audio', id])) as IDBRequest<Float32Array[]>);
  }

  /** The document's audio as one array (16 kHz mono). */
  async audio(id: string): Promise<Float32Array> {
    const chunks = await this.audioChunks(id);
    const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /** Delete a document and every audio record of it, in one transaction. */
  async delete(id: string): Promise<void> {
    await this.db.run('readwrite', (s) => {
      s.delete(range(['audio', id]));
      return s.delete(['doc', id]);
    });
  }

  async deleteAll(): Promise<void> {
    await this.db.run('readwrite', (s) => s.clear());
  }

  /** What the library takes: documents (as JSON) and their audio. */
  static size(docs: readonly TranscriptDocument[]): LibrarySize {
    let audioBytes = 0;
    let docBytes = 0;
    for (const d of docs) {
      audioBytes += d.audio.samples * 4;
      docBytes += JSON.stringify(d).length;
    }
    return { transcripts: docs.length, bytes: audioBytes + docBytes, audioBytes };
  }
}
