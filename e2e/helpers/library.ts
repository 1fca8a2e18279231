/**
 * Read the transcript library the app keeps in IndexedDB with the raw IndexedDB API in the page: independent of the
 * app's own store code (workers/library/library-store.ts).
 */
import type { Page } from '@playwright/test';

export const LIBRARY_DB = 'glm-asr-library';
export const LIBRARY_STORE = 'records';

export interface RawLibrary {
  docs: Record<string, unknown>[];
  /** Audio records per document id: their count and sample count. */
  audio: Record<string, { records: number; samples: number }>;
}

export function rawLibrary(page: Page): Promise<RawLibrary> {
  return page.evaluate(
    async ({ DB, STORE }) => {
      const db = await new Promise<IDBDatabase>((ok, fail) => {
        const r = indexedDB.open(DB);
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      });
      if (!db.objectStoreNames.contains(STORE)) {
        db.close();
        return { docs: [], audio: {} };
      }
      const all = await new Promise<{ keys: IDBValidKey[]; values: unknown[] }>((ok, fail) => {
        const s = db.transaction(STORE, 'readonly').objectStore(STORE);
        const keys = s.getAllKeys();
        const values = s.getAll();
        values.onsuccess = () => ok({ keys: keys.result, values: values.result });
        values.onerror = () => fail(values.error);
      });
      db.close();
      const docs: Record<string, unknown>[] = [];
      const audio: Record<string, { records: number; samples: number }> = {};
      all.keys.forEach((key, i) => {
        const [kind, id] = key as [string, string];
        const value = all.values[i];
        if (kind === 'doc') docs.push(value as Record<string, unknown>);
        else {
          const a = (audio[id] ??= { records: 0, samples: 0 });
          a.records++;
          a.samples += (value as Float32Array).length;
        }
      });
      return { docs, audio };
    },
    { DB: LIBRARY_DB, STORE: LIBRARY_STORE },
  );
}

/** A document's kept audio (its records in key order, joined), as float32 samples. */
export async function rawAudio(page: Page, id: string): Promise<Float32Array> {
  const base64 = await page.evaluate(
    async ({ DB, STORE, id }) => {
      const db = await new Promise<IDBDatabase>((ok, fail) => {
        const r = indexedDB.open(DB);
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      });
      const chunks = await new Promise<Float32Array[]>((ok, fail) => {
        const r = db
          .transaction(STORE, 'readonly')
          .objectStore(STORE)
          .getAll(IDBKeyRange.bound(['audio', id], ['audio', id, []]));
        r.onsuccess = () => ok(r.result as Float32Array[]);
        r.onerror = () => fail(r.error);
      });
      db.close();
      const bytes = new Uint8Array(await new Blob(chunks.map((c) => c.slice().buffer)).arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    },
    { DB: LIBRARY_DB, STORE: LIBRARY_STORE, id },
  );
  const buf = Buffer.from(base64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

const WORDS =
  'the quick brown fox jumps over a lazy dog while seven tired engineers argue about budgets meetings coffee rain and the river'.split(
    ' ',
  );

/**
 * `n` transcript documents as the JSON Schema describes them (written literally here, not with the app's builders),
 * one every minute back from 2026-11-01, each with `segments` segments of `words` words; document `i`'s first
 * segment starts with the word `marker<i>`.
 */
export function sampleDocuments(n: number, segments = 3, words = 5): Record<string, unknown>[] {
  const docs = [];
  for (let i = 0; i < n; i++) {
    const at = new Date(Date.UTC(2026, 10, 1) - i * 60_000).toISOString();
    const segs = [];
    for (let k = 0; k < segments; k++) {
      const text = Array.from({ length: words }, (_, w) => WORDS[(i * 7 + k * 3 + w) % WORDS.length]);
      if (k === 0) text[0] = `marker${i}`;
      segs.push({ start: k * 5, end: k * 5 + 4.5, text: text.join(' '), final: true, engine: 'wasm' });
    }
    docs.push({
      schema: 'glm-asr-web/transcript@1',
      id: `seed-${String(i).padStart(4, '0')}`,
      kind: 'recording',
      title: segs[0]!.text.split(' ').slice(0, 8).join(' ') + '…',
      titleEdited: false,
      createdAt: at,
      updatedAt: at,
      durationSec: segments * 5,
      language: null,
      model: { id: 'glm-asr-tiny', revision: 'seed', variant: 'fp32' },
      status: 'done',
      error: null,
      source: null,
      audio: { sampleRate: 16000, samples: 0, chunks: 0, complete: true, error: null },
      segments: segs,
    });
  }
  return docs;
}

/** Write documents straight into the library's store (the app must have opened it once, which creates it). */
export function seedLibrary(page: Page, docs: Record<string, unknown>[]): Promise<void> {
  return page.evaluate(
    async ({ DB, STORE, docs }) => {
      const db = await new Promise<IDBDatabase>((ok, fail) => {
        const r = indexedDB.open(DB);
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      });
      await new Promise<void>((ok, fail) => {
        const tx = db.transaction(STORE, 'readwrite');
        for (const d of docs) tx.objectStore(STORE).put(d, ['doc', d['id'] as string]);
        tx.oncomplete = () => ok();
        tx.onerror = () => fail(tx.error);
      });
      db.close();
    },
    { DB: LIBRARY_DB, STORE: LIBRARY_STORE, docs },
  );
}
