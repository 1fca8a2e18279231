/**
 * Read the transcript library the app keeps in IndexedDB with the raw IndexedDB API in the page: independent of the
 * app's own store code (src/storage/library-store.ts).
 */
import type { Page } from '@playwright/test';
import { LIBRARY_DB, LIBRARY_STORE } from './library-docs.ts';
import { inPage, type InPage } from './stored.ts';

export interface RawLibrary {
  docs: Record<string, unknown>[];
  /** Audio records per document id: their count and sample count. */
  audio: Record<string, { records: number; samples: number }>;
}

export function rawLibrary(page: Page | InPage): Promise<RawLibrary> {
  return inPage(page)(
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
export async function rawAudio(page: Page | InPage, id: string): Promise<Float32Array> {
  const base64 = await inPage(page)(
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
