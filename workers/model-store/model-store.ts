/**
 * The model store: one IndexedDB object store (through idb-keyval) holding, per stored model variant,
 *
 *   ['model', id]               ModelRecord   manifest, base URL, which files belong to the variant
 *   ['file',  id, path]         FileRecord    bytes stored so far, piece sizes and checksums, sha256 state
 *   ['chunk', id, path, index]  Blob          one piece of the file (≤ chunkBytes; 8–32 MiB in use)
 *
 * where id = "<model_id>@<revision>/<variant>".  A piece and its file record are written in one transaction, so the
 * file record always describes exactly the pieces that exist: a resume starts at `FileRecord.offset`.  Pieces stay
 * far below IndexedDB's per-value limit (127 MiB in Chromium), which the largest graph files exceed.
 *
 * Pieces are Blobs, so the browser keeps them on disk and a read can take a range of one without reading the rest
 * (piece-bytes.ts: a graph's weights go to onnxruntime tensor by tensor).  Stores written before that, and stores
 * that refuse Blob values (putPiece), hold Uint8Array pieces; every reader takes either (`Piece`).
 */
import { KeyedStore, StoreError, range } from '../../src/storage/idb.ts';
import type { ManifestFile, ModelKey, ModelManifest, StoredModel, Variant } from '../../src/core/asr/contract.ts';

const DB_NAME = 'glm-asr-models';
const STORE_NAME = 'records';
export const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024;
export const MIN_CHUNK_BYTES = 4096;
export const MAX_CHUNK_BYTES = 32 * 1024 * 1024;

/** One stored piece: a Blob, or a Uint8Array in a store written by an earlier version of the app. */
export type Piece = Blob | Uint8Array<ArrayBuffer>;

export interface ModelRecord {
  id: string;
  key: ModelKey;
  baseUrl: string;
  manifest: ModelManifest;
  /** The variant's files and the shared ones (tokenizer, configs), with sizes and sha256 from the manifest. */
  files: ManifestFile[];
  bytes: number;
  chunkBytes: number;
  complete: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface FileRecord {
  path: string;
  bytes: number;
  sha256: string;
  /** Bytes stored = the sum of `sizes`. */
  offset: number;
  /** Size and xxhash64 (hex) of each stored piece, in order. */
  sizes: number[];
  checksums: string[];
  /** hash-wasm SHA-256 state after the stored bytes, so a resume does not re-read them. */
  hashState: Uint8Array | null;
  /** The whole file is stored and its sha256 matched the manifest. */
  done: boolean;
}

export function modelId(key: ModelKey): string {
  return `${key.modelId}@${key.revision}/${key.variant}`;
}

/** The files a variant needs: its graphs' files plus every file no variant owns (tokenizer, configs). */
export function variantFiles(manifest: ModelManifest, variant: Variant): ManifestFile[] {
  const owned = new Set<string>();
  for (const v of Object.values(manifest.variants)) {
    for (const g of Object.values(v?.graphs ?? {})) for (const f of g.files) owned.add(f);
  }
  const graphs = manifest.variants[variant]?.graphs;
  const mine = new Set(Object.values(graphs ?? {}).flatMap((g) => g.files));
  return manifest.files.filter((f) => mine.has(f.path) || !owned.has(f.path));
}

export { StoreError };

export class ModelStore {
  private readonly db: KeyedStore;
  /** Test hook (ModelLoadOptions.quotaAfterBytes): writes beyond this many bytes fail as if the disk were full. */
  private quotaAfterBytes: number | undefined;
  private written = 0;

  /** Arm (or, with undefined, disarm) the full-disk test hook for the next writes. */
  simulateQuota(afterBytes: number | undefined): void {
    this.quotaAfterBytes = afterBytes;
    this.written = 0;
  }

  constructor() {
    this.db = new KeyedStore(DB_NAME, STORE_NAME);
  }

  private run<T>(mode: IDBTransactionMode, body: (s: IDBObjectStore) => IDBRequest<T> | Promise<T>): Promise<T> {
    return this.db.run(mode, body);
  }

  async model(id: string): Promise<ModelRecord | undefined> {
    return this.run('readonly', (s) => s.get(['model', id]) as IDBRequest<ModelRecord | undefined>);
  }

  async models(): Promise<ModelRecord[]> {
    return this.run('readonly', (s) => s.getAll(range(['model'])) as IDBRequest<ModelRecord[]>);
  }

  async putModel(record: ModelRecord): Promise<void> {
    await this.run('readwrite', (s) => s.put({ ...record, updatedAt: Date.now() }, ['model', record.id]));
  }

  async file(id: string, path: string): Promise<FileRecord | undefined> {
    return this.run('readonly', (s) => s.get(['file', id, path]) as IDBRequest<FileRecord | undefined>);
  }

  async files(id: string): Promise<FileRecord[]> {
    return this.run('readonly', (s) => s.getAll(range(['file', id])) as IDBRequest<FileRecord[]>);
  }

  async chunk(id: string, path: string, index: number): Promise<Piece | undefined> {
    return this.run('readonly', (s) => s.get(['chunk', id, path, index]) as IDBRequest<Piece | undefined>);
  }

  /** Keys of the pieces stored for a file (to check record counts without reading the data). */
  async chunkIndexes(id: string, path: string): Promise<number[]> {
    const keys = await this.run('readonly', (s) => s.getAllKeys(range(['chunk', id, path])));
    return keys.map((k) => (k as [string, string, string, number])[3]);
  }

  private charge(bytes: number): void {
    if (this.quotaAfterBytes !== undefined && this.written + bytes > this.quotaAfterBytes)
      throw new StoreError('STORAGE_FULL', 'QuotaExceededError: simulated by the quotaAfterBytes test hook');
    this.written += bytes;
  }

  /**
   * Pieces are written as Blobs while the browser takes them; a store that refuses a Blob value (WebKit's ephemeral
   * sessions, and private browsing in some versions, fail the write with no error) gets Uint8Arrays from then on.
   * A full disk is never taken for that: it is reported as STORAGE_FULL.
   */
  private blobsRefused = false;

  private async putPiece(body: (s: IDBObjectStore, value: Piece) => IDBRequest, data: Uint8Array<ArrayBuffer>) {
    if (!this.blobsRefused) {
      try {
        await this.run('readwrite', (s) => body(s, new Blob([data])));
        return;
      } catch (err) {
        if (err instanceof StoreError) throw err;
        this.blobsRefused = true;
      }
    }
    await this.run('readwrite', (s) => body(s, data));
  }

  /** Store piece `index` of a file and the file record that now includes it, atomically. */
  async putChunk(id: string, record: FileRecord, index: number, data: Uint8Array<ArrayBuffer>): Promise<void> {
    this.charge(data.byteLength);
    await this.putPiece((s, value) => {
      s.put(value, ['chunk', id, record.path, index]);
      return s.put(record, ['file', id, record.path]);
    }, data);
  }

  /** Replace one piece (a repair) without touching the file record. */
  async replaceChunk(id: string, path: string, index: number, data: Uint8Array<ArrayBuffer>): Promise<void> {
    this.charge(data.byteLength);
    await this.putPiece((s, value) => s.put(value, ['chunk', id, path, index]), data);
  }

  async putFile(id: string, record: FileRecord): Promise<void> {
    await this.run('readwrite', (s) => s.put(record, ['file', id, record.path]));
  }

  /** Forget a file: its record and every piece (a failed check, or a new download from zero). */
  async evictFile(id: string, path: string): Promise<void> {
    await this.run('readwrite', (s) => {
      s.delete(range(['chunk', id, path]));
      return s.delete(['file', id, path]);
    });
  }

  async deleteModel(id: string): Promise<void> {
    await this.run('readwrite', (s) => {
      s.delete(range(['chunk', id]));
      s.delete(range(['file', id]));
      return s.delete(['model', id]);
    });
  }

  /** The stored models with how much of each is stored (for the settings panel). */
  async list(): Promise<StoredModel[]> {
    const out: StoredModel[] = [];
    for (const m of await this.models()) {
      const files = await this.files(m.id);
      out.push({
        ...m.key,
        baseUrl: m.baseUrl,
        bytes: m.bytes,
        storedBytes: files.reduce((n, f) => n + f.offset, 0),
        complete: m.complete,
        updatedAt: m.updatedAt,
      });
    }
    return out.sort((a, b) => b.updatedAt - a.updatedAt);
  }
}
