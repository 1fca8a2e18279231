/**
 * Read (and, for tamper tests, damage) what the app stored in IndexedDB, with the raw IndexedDB API in the page:
 * independent of the app's own store code.  Hashes use WebCrypto, not the app's hash-wasm.  A stored piece is a Blob
 * (or a Uint8Array in a store an earlier version wrote); the helpers take either.
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
        )) as (Blob | Uint8Array)[];
        out.push({ ...f, pieceSizes: pieces.map((p) => (p instanceof Blob ? p.size : p.byteLength)) });
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
      const stored = await new Promise<(Blob | Uint8Array)[]>((ok, fail) => {
        const r = db
          .transaction(STORE, 'readonly')
          .objectStore(STORE)
          .getAll(IDBKeyRange.bound(['chunk', id, path], ['chunk', id, path, []]));
        r.onsuccess = () => ok(r.result as (Blob | Uint8Array)[]);
        r.onerror = () => fail(r.error);
      });
      db.close();
      const pieces = await Promise.all(
        stored.map(async (p) => (p instanceof Blob ? new Uint8Array(await p.arrayBuffer()) : p)),
      );
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
      const key = ['chunk', id, path, index];
      const stored = await new Promise<Blob | Uint8Array | undefined>((ok, fail) => {
        const r = db.transaction(STORE, 'readonly').objectStore(STORE).get(key);
        r.onsuccess = () => ok(r.result as Blob | Uint8Array | undefined);
        r.onerror = () => fail(r.error);
      });
      if (!stored) throw new Error(`no piece ${index} of ${path}`);
      // Damage a copy and write it back as the same kind of value (a Blob stays a Blob).
      const piece = stored instanceof Blob ? new Uint8Array(await stored.arrayBuffer()) : stored.slice();
      let damaged: Uint8Array;
      if (how === 'flip') {
        damaged = piece;
        const at = Math.floor(damaged.length / 2);
        damaged[at] = (damaged[at] as number) ^ 0x01;
      } else {
        damaged = piece.slice(0, piece.length - 7);
      }
      await new Promise<void>((ok, fail) => {
        const value = stored instanceof Blob ? new Blob([damaged as Uint8Array<ArrayBuffer>]) : damaged;
        const w = db.transaction(STORE, 'readwrite').objectStore(STORE).put(value, key);
        w.onsuccess = () => ok();
        w.onerror = () => fail(w.error);
      });
      db.close();
    },
    { id, path, index, how, DB, STORE },
  );
}
