/**
 * Read (and, for tamper tests, damage) what the app stored in IndexedDB, with the raw IndexedDB API in the page:
 * independent of the app's own store code.  Hashes use WebCrypto, not the app's hash-wasm.
 */
import type { Page } from '@playwright/test';

/**
 * Runs a function in the page with one argument: Playwright's `page.evaluate`, or, in the WebKit suite, webdriverio's
 * `browser.execute` (webkit/helpers/driver.ts).  The helpers below take either.
 */
export type InPage = <A, R>(fn: (arg: A) => R | Promise<R>, arg: A) => Promise<R>;

export function inPage(page: Page | InPage): InPage {
  // (Playwright types the argument as "unboxed"; every argument here is plain JSON.)
  return typeof page === 'function' ? page : (fn, arg) => page.evaluate(fn as (arg: unknown) => never, arg);
}

export const DB = 'glm-asr-models';
export const STORE = 'records';

export interface StoredFile {
  path: string;
  bytes: number;
  offset: number;
  done: boolean;
  sizes: number[];
  /** Piece records that exist, and their byte lengths. */
  pieceSizes: number[];
}

export function storedFiles(page: Page | InPage, id: string): Promise<StoredFile[]> {
  return inPage(page)(
    async ({ id, DB, STORE }) => {
      const db = await new Promise<IDBDatabase>((ok, fail) => {
        const r = indexedDB.open(DB);
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      });
      const req = <T>(r: IDBRequest<T>) =>
        new Promise<T>((ok, fail) => {
          r.onsuccess = () => ok(r.result);
          r.onerror = () => fail(r.error);
        });
      const tx = db.transaction(STORE, 'readonly').objectStore(STORE);
      const files = (await req(tx.getAll(IDBKeyRange.bound(['file', id], ['file', id, []])))) as {
        path: string;
        bytes: number;
        offset: number;
        done: boolean;
        sizes: number[];
      }[];
      const out = [];
      for (const f of files) {
        const pieces = (await req(
          db
            .transaction(STORE, 'readonly')
            .objectStore(STORE)
            .getAll(IDBKeyRange.bound(['chunk', id, f.path], ['chunk', id, f.path, []])),
        )) as Uint8Array[];
        out.push({ ...f, pieceSizes: pieces.map((p) => p.byteLength) });
      }
      db.close();
      return out.map(({ path, bytes, offset, done, sizes, pieceSizes }) => ({
        path,
        bytes,
        offset,
        done,
        sizes,
        pieceSizes,
      }));
    },
    { id, DB, STORE },
  );
}

/** sha256 (hex) of a stored file's pieces, concatenated in order. */
export function storedSha256(page: Page | InPage, id: string, path: string): Promise<string> {
  return inPage(page)(
    async ({ id, path, DB, STORE }) => {
      const db = await new Promise<IDBDatabase>((ok, fail) => {
        const r = indexedDB.open(DB);
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      });
      const pieces = await new Promise<Uint8Array[]>((ok, fail) => {
        const r = db
          .transaction(STORE, 'readonly')
          .objectStore(STORE)
          .getAll(IDBKeyRange.bound(['chunk', id, path], ['chunk', id, path, []]));
        r.onsuccess = () => ok(r.result as Uint8Array[]);
        r.onerror = () => fail(r.error);
      });
      db.close();
      const all = new Uint8Array(pieces.reduce((n, p) => n + p.byteLength, 0));
      let at = 0;
      for (const p of pieces) {
        all.set(p, at);
        at += p.byteLength;
      }
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
      return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
    },
    { id, path, DB, STORE },
  );
}

/** Damage piece `index` of a stored file: flip one byte ('flip') or cut it short ('truncate'). */
export function tamper(
  page: Page | InPage,
  id: string,
  path: string,
  index: number,
  how: 'flip' | 'truncate',
): Promise<void> {
  return inPage(page)(
    async ({ id, path, index, how, DB, STORE }) => {
      const db = await new Promise<IDBDatabase>((ok, fail) => {
        const r = indexedDB.open(DB);
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
      });
      const store = db.transaction(STORE, 'readwrite').objectStore(STORE);
      const key = ['chunk', id, path, index];
      await new Promise<void>((ok, fail) => {
        const r = store.get(key);
        r.onsuccess = () => {
          const piece = r.result as Uint8Array | undefined;
          if (!piece) return fail(new Error(`no piece ${index} of ${path}`));
          let damaged: Uint8Array;
          if (how === 'flip') {
            damaged = piece.slice();
            const at = Math.floor(damaged.length / 2);
            damaged[at] = (damaged[at] as number) ^ 0x01;
          } else {
            damaged = piece.slice(0, piece.length - 7);
          }
          const w = store.put(damaged, key);
          w.onsuccess = () => ok();
          w.onerror = () => fail(w.error);
        };
        r.onerror = () => fail(r.error);
      });
      db.close();
    },
    { id, path, index, how, DB, STORE },
  );
}
