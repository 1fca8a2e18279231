/**
 * One IndexedDB object store through idb-keyval, with its failures mapped to the app's storage errors: a full disk
 * (QuotaExceededError) is STORAGE_FULL, a database that cannot be opened (private mode, disabled storage) is
 * STORAGE_UNAVAILABLE.  The model store and the transcript library each keep one.  Isomorphic: window and worker.
 */
import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';

/** Storage could not be used at all (private mode, disabled) or is full: callers map these to error codes. */
export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    readonly code: 'STORAGE_FULL' | 'STORAGE_UNAVAILABLE',
    message: string,
  ) {
    super(message);
  }
}

export function isQuota(err: unknown): boolean {
  return err instanceof DOMException && (err.name === 'QuotaExceededError' || /quota/i.test(err.message));
}

/** Every key that starts with `prefix` (array keys sort element by element; `[]` sorts after every number/string). */
export const range = (prefix: IDBValidKey[]) => IDBKeyRange.bound(prefix, [...prefix, []]);

export type StoreBody<T> = (s: IDBObjectStore) => IDBRequest<T> | Promise<T>;

export class KeyedStore {
  private readonly db: UseStore;
  private opened = false;

  constructor(dbName: string, storeName: string) {
    this.db = createStore(dbName, storeName);
  }

  /**
   * One transaction on the store; resolves with the body's result.  A readwrite transaction resolves only once it
   * committed: a full disk often shows as the transaction's abort (QuotaExceededError) after every request in it
   * succeeded.
   */
  async run<T>(mode: IDBTransactionMode, body: StoreBody<T>): Promise<T> {
    try {
      return await this.db(mode, async (s) => {
        const r = body(s);
        const result = r instanceof IDBRequest ? promisifyRequest(r) : r;
        if (mode !== 'readwrite') return result;
        const [value] = await Promise.all([result, promisifyRequest(s.transaction)]);
        return value;
      });
    } catch (err) {
      if (isQuota(err)) throw new StoreError('STORAGE_FULL', `IndexedDB: ${(err as Error).message}`);
      if (err instanceof DOMException && /InvalidState|Security|Unknown|NotAllowed/.test(err.name) && !this.opened)
        throw new StoreError('STORAGE_UNAVAILABLE', `IndexedDB cannot be opened: ${err.name}: ${err.message}`);
      throw err;
    } finally {
      this.opened = true;
    }
  }
}
