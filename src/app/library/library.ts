/**
 * The page's view of the transcript library: the documents newest first, search over their titles and text, rename,
 * delete (one or all), each document's audio for playback, the library's size, and which recordings were left
 * unfinished by a reload or a crash.  Reads and edits go straight to the library's IndexedDB store (the worker writes
 * recordings and transcriptions to the same store and announces each change with `library-changed`).
 */
import { documentText, recordingStartOf, withSegments, type TranscriptDocument } from '../../core/format/document.ts';
import { LibraryStore, writingLockName, type LibrarySize } from '../../storage/library-store.ts';
import type { ErrorInfo } from '../../core/protocol.ts';
import type { WorkerClient } from '../worker-client.ts';
import { Listeners, UpdatesFrom } from '../shared/updates.ts';
import type { ReactiveControllerHost } from 'lit';

export interface LibraryEntry {
  doc: TranscriptDocument;
  /** Title and text, lower-cased, for search. */
  haystack: string;
  /** The first line shown in the list. */
  firstLine: string;
}

/** A full disk (or storage gone) while keeping a document's audio, or a change to a document that was refused. */
export interface LibraryAudioProblem {
  id: string;
  what: 'audio' | 'document';
  error: ErrorInfo;
  keptSec: number;
}

/** A library read or edit failed: the library's own codes (the store's are worded for models). */
export function libraryError(err: unknown): ErrorInfo {
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const full = typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'STORAGE_FULL';
  return { code: full ? 'LIBRARY_FULL' : 'LIBRARY_UNAVAILABLE', detail };
}

function entry(doc: TranscriptDocument): LibraryEntry {
  const text = documentText(doc);
  return { doc, haystack: `${doc.title}\n${text}`.toLocaleLowerCase(), firstLine: text.slice(0, 140) };
}

const newestFirst = (a: LibraryEntry, b: LibraryEntry) =>
  b.doc.createdAt < a.doc.createdAt ? -1 : b.doc.createdAt > a.doc.createdAt ? 1 : 0;

export class Library {
  entries: LibraryEntry[] = [];
  loaded = false;
  error: ErrorInfo | null = null;
  /** The last storage problem while keeping audio (shown until dismissed). */
  audioProblem: LibraryAudioProblem | null = null;
  /** Documents whose writer is gone (the page closed while recording or transcribing): offered to finish. */
  unfinished: TranscriptDocument[] = [];
  readonly store = new LibraryStore();
  private readonly listeners = new Listeners();
  private refreshing: Promise<void> | null = null;
  /** Documents this page's worker has written: never abandoned, even where Web Locks are missing. */
  private readonly alive = new Set<string>();
  private again = false;

  constructor(private readonly client: WorkerClient) {
    // Another tab's recording may have been abandoned meanwhile: look again when the page comes back.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && this.loaded) void this.refresh();
    });
    client.on((m) => {
      if (m.type === 'library-changed') {
        this.alive.add(m.id);
        void this.refreshOne(m.id);
      } else if (m.type === 'library-error') {
        this.audioProblem = { id: m.id, what: m.what, error: m.error, keptSec: m.keptSec };
        this.changed();
      }
    });
  }

  subscribe(listener: () => void): () => void {
    return this.listeners.add(listener);
  }

  private changed(): void {
    this.listeners.emit();
  }

  /** Read every document again (coalesced: changes that arrive meanwhile cause one more read). */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.again = false;
        try {
          const docs = await this.store.documents();
          this.entries = docs.map(entry).sort(newestFirst);
          this.unfinished = await this.abandoned(docs);
          this.error = null;
        } catch (err) {
          this.error = libraryError(err);
        }
        this.loaded = true;
        this.changed();
      } while (this.again);
    })().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  /**
   * One document changed (the worker writes a recording's audio each second and each final as it comes): read that
   * one only.  Its writer is alive, so it is not unfinished.
   */
  async refreshOne(id: string): Promise<void> {
    if (!this.loaded || this.refreshing) return this.refresh();
    try {
      const doc = await this.store.document(id);
      const at = this.entries.findIndex((e) => e.doc.id === id);
      if (!doc) {
        if (at >= 0) this.entries = this.entries.filter((e) => e.doc.id !== id);
      } else if (at >= 0) {
        this.entries = this.entries.map((e, i) => (i === at ? entry(doc) : e));
      } else {
        this.entries = [...this.entries, entry(doc)].sort(newestFirst);
      }
      this.unfinished = this.unfinished.filter((d) => d.id !== id);
    } catch (err) {
      this.error = libraryError(err);
    }
    this.changed();
  }

  /** Recordings and transcriptions in progress whose writer (this or another tab's worker) no longer holds its lock. */
  private async abandoned(docs: TranscriptDocument[]): Promise<TranscriptDocument[]> {
    const open = docs.filter((d) => (d.status === 'recording' || d.status === 'transcribing') && !this.alive.has(d.id));
    if (open.length === 0) return [];
    const held = new Set<string>();
    try {
      const state = await navigator.locks?.query();
      for (const l of state?.held ?? []) if (l.name) held.add(l.name);
    } catch {
      // No Web Locks: what this page's worker writes is known alive (above); another tab's cannot be told apart.
    }
    // A writer still holding one may be going away (the page before a reload lets go a moment later): look again
    // as soon as it lets go.
    for (const d of open) if (held.has(writingLockName(d.id))) this.watch(d.id);
    return open.filter((d) => !held.has(writingLockName(d.id)));
  }

  private readonly watching = new Set<string>();

  /** Read the library again once the writer of `id` lets go of it (finished, or gone with its page). */
  private watch(id: string): void {
    if (this.watching.has(id) || !navigator.locks) return;
    this.watching.add(id);
    void navigator.locks
      .request(writingLockName(id), async () => {
        this.watching.delete(id);
        void this.refresh();
      })
      .catch(() => this.watching.delete(id));
  }

  /** Entries whose title or text contains every word of `query` (case-insensitive), newest first. */
  search(query: string): LibraryEntry[] {
    const words = query.toLocaleLowerCase().split(/\s+/).filter(Boolean);
    if (words.length === 0) return this.entries;
    return this.entries.filter((e) => words.every((w) => e.haystack.includes(w)));
  }

  get(id: string): TranscriptDocument | undefined {
    return this.entries.find((e) => e.doc.id === id)?.doc;
  }

  /** Computed once per change of the entries (Settings render on every worker message, ten a second while
   * recording, and each document is measured as JSON). */
  private sized: { entries: LibraryEntry[]; size: LibrarySize } | null = null;

  get size(): LibrarySize {
    if (this.sized?.entries !== this.entries)
      this.sized = { entries: this.entries, size: LibraryStore.size(this.entries.map((e) => e.doc)) };
    return this.sized.size;
  }

  async rename(id: string, title: string): Promise<void> {
    const name = title.trim();
    // An empty name gives the title back to the text's first words.
    await this.store.update(id, (d) =>
      name ? { ...d, title: name, titleEdited: true } : withSegments({ ...d, titleEdited: false }, d.segments),
    );
    await this.refresh();
  }

  async delete(id: string): Promise<void> {
    await this.store.delete(id);
    this.forget([id]);
    await this.refresh();
  }

  async deleteAll(): Promise<void> {
    const ids = this.entries.map((e) => e.doc.id);
    await this.store.deleteAll();
    this.forget(ids);
    await this.refresh();
  }

  /** A deleted recording may still be in the worker's memory (not completely stored): let it go there too. */
  private forget(ids: string[]): void {
    // A recording's document id is its recording id; a file's document has no recording behind it.
    for (const id of ids) if (recordingStartOf(id) !== null) this.client.discardRecording(id);
  }

  audio(id: string): Promise<Float32Array> {
    return this.store.audio(id);
  }

  dismissAudioProblem(): void {
    this.audioProblem = null;
    this.changed();
  }
}

/** For a component handed the app's Library as a property: re-render it whenever the library changes. */
export class LibraryUpdates extends UpdatesFrom<Library> {
  constructor(host: ReactiveControllerHost, current: () => Library | undefined) {
    super(host, current, (library, onChange) => library.subscribe(onChange));
  }
}
