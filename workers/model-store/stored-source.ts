/**
 * A stored model variant as a pipeline `ModelSource`.  Every read checks the records against what the download
 * recorded (piece count, each piece's size and xxhash64), one piece in memory at a time (each read is released once
 * checked and kept, not left to the collector: piece-bytes.ts `release`).
 *
 * A graph's external-data file (its weights) is not copied into one buffer: after every piece is checked, `binary()`
 * gives a PieceBytes (piece-bytes.ts) over the stored Blobs, and onnxruntime reads it tensor by tensor while it
 * creates the session, so the weights are never whole in JavaScript.  (Where the worker cannot read Blobs
 * synchronously, and for every other file, the pieces are copied into one buffer of the file's size.)
 *
 * A damaged or missing piece is fetched again by HTTP Range and must hash to the value recorded when the whole file
 * matched the manifest's sha256; a damaged file record makes the whole file go (`FileEvicted`, the host downloads it
 * again).  A second failure is reported, never loaded.
 */
import { createXXHash64 } from 'hash-wasm';
import type { ModelSource } from '../../src/core/asr/pipeline.ts';
import { DownloadError } from './downloader.ts';
import type { FileRecord, ModelRecord, ModelStore, Piece } from './model-store.ts';
import { PieceBytes, pieceBytesSupported, release } from './piece-bytes.ts';

/** The file's record is unusable: it was evicted and must be downloaded again. */
export class FileEvicted extends Error {
  override name = 'FileEvicted';
  constructor(
    readonly path: string,
    why: string,
  ) {
    super(`${path}: ${why}`);
  }
}

/**
 * A piece's bytes (a Blob is read; a Uint8Array from an older store is itself); undefined when there is none or its
 * Blob can no longer be read (the browser lost the file behind it), which the caller repairs as a missing piece.
 */
async function pieceData(piece: Piece | undefined): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (piece instanceof Blob) {
    try {
      return new Uint8Array(await piece.arrayBuffer());
    } catch {
      return undefined;
    }
  }
  return piece instanceof Uint8Array ? piece : undefined;
}

/** The external-data files of the variant's graphs (every graph file after its first, the graph itself). */
function externalDataFiles(model: ModelRecord): Set<string> {
  const out = new Set<string>();
  for (const graph of Object.values(model.manifest.variants[model.key.variant]?.graphs ?? {}))
    for (const f of graph.files.slice(1)) out.add(f);
  return out;
}

export function storedSource(store: ModelStore, model: ModelRecord, repaired: string[]): ModelSource {
  const known = new Map(model.files.map((f) => [f.path, f]));
  const external = externalDataFiles(model);

  /**
   * Check every piece of `path` (repairing what fails) and hand each checked piece to `keep`, in order, one piece in
   * memory at a time: its bytes, and what the store holds (undefined when the piece was just repaired).
   */
  const checkFile = async (
    path: string,
    keep: (index: number, bytes: Uint8Array, stored: Piece | undefined) => void,
    onBytes?: (loaded: number) => void,
  ): Promise<void> => {
    const file = known.get(path);
    if (!file) throw new FileEvicted(path, 'not part of the stored model');
    const record = await store.file(model.id, path);
    const why = recordProblem(record, file.bytes, file.sha256);
    if (why || !record) {
      await store.evictFile(model.id, path);
      throw new FileEvicted(path, why ?? 'missing');
    }
    const indexes = await store.chunkIndexes(model.id, path);
    if (indexes.length !== record.sizes.length) {
      // A missing piece is repaired below; extra ones mean the record and the pieces disagree.
      if (indexes.some((i) => i >= record.sizes.length)) {
        await store.evictFile(model.id, path);
        throw new FileEvicted(path, `${indexes.length} pieces stored, the record lists ${record.sizes.length}`);
      }
    }
    const xxh = await createXXHash64();
    let at = 0;
    let next = store.chunk(model.id, path, 0);
    for (let i = 0; i < record.sizes.length; i++) {
      const stored = await next;
      let piece = await pieceData(stored);
      let kept: Piece | undefined = stored;
      if (i + 1 < record.sizes.length) next = store.chunk(model.id, path, i + 1);
      const size = record.sizes[i] as number;
      const bad = (p: Uint8Array | undefined) => {
        if (!(p instanceof Uint8Array)) return 'missing';
        if (p.byteLength !== size) return `${p.byteLength} bytes instead of ${size}`;
        xxh.init();
        xxh.update(p);
        return xxh.digest('hex') === record.checksums[i] ? null : 'checksum mismatch';
      };
      const problem = bad(piece);
      if (problem) {
        if (piece) release(piece);
        piece = await refetch(model, path, at, size);
        const again = bad(piece);
        if (again)
          throw new DownloadError(
            'INTEGRITY_FAILED',
            `${path} piece ${i} (${problem}) was fetched again and still fails its check (${again})`,
          );
        await store.replaceChunk(model.id, path, i, piece as Uint8Array<ArrayBuffer>);
        repaired.push(`${path} #${i} (${problem})`);
        kept = undefined;
      }
      keep(i, piece as Uint8Array, kept);
      // `keep` copies what it keeps (into the file's buffer, or a Blob for a repaired piece): this read is done.
      release(piece as Uint8Array);
      at += size;
      onBytes?.(at);
    }
  };

  /** The whole file in one buffer. */
  const readFile = async (path: string, onBytes?: (loaded: number) => void): Promise<Uint8Array> => {
    const out = new Uint8Array(known.get(path)?.bytes ?? 0);
    let at = 0;
    await checkFile(
      path,
      (_, bytes) => {
        out.set(bytes, at);
        at += bytes.byteLength;
      },
      onBytes,
    );
    return out;
  };

  /** The file over its checked pieces, read range by range when onnxruntime asks (piece-bytes.ts). */
  const mountFile = async (path: string, onBytes?: (loaded: number) => void): Promise<Uint8Array> => {
    const pieces: Blob[] = [];
    await checkFile(
      path,
      (_, bytes, stored) => pieces.push(stored instanceof Blob ? stored : new Blob([bytes as Uint8Array<ArrayBuffer>])),
      onBytes,
    );
    return new PieceBytes(pieces);
  };

  const lazy = pieceBytesSupported();
  return {
    label: `${model.manifest.model_id} (${model.key.variant}, stored on this device)`,
    stage: 'read',
    text: async (path) => new TextDecoder().decode(await readFile(path)),
    binary: (path, onBytes) => (lazy && external.has(path) ? mountFile(path, onBytes) : readFile(path, onBytes)),
  };
}

function recordProblem(record: FileRecord | undefined, bytes: number, sha256: string): string | null {
  if (!record) return 'no record';
  if (!record.done) return 'not completely downloaded';
  if (record.bytes !== bytes || record.sha256 !== sha256) return 'record is for another version of the file';
  if (
    !Array.isArray(record.sizes) ||
    !Array.isArray(record.checksums) ||
    record.sizes.length !== record.checksums.length
  )
    return 'record is malformed';
  const sum = record.sizes.reduce((n, s) => n + s, 0);
  if (sum !== bytes || record.offset !== bytes) return `record covers ${sum} of ${bytes} bytes`;
  return null;
}

async function refetch(
  model: ModelRecord,
  path: string,
  start: number,
  size: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const url = new URL(path, model.baseUrl).href;
  let res: Response;
  try {
    res = await fetch(url, { cache: 'no-store', headers: { Range: `bytes=${start}-${start + size - 1}` } });
  } catch (err) {
    throw new DownloadError(
      'INTEGRITY_FAILED',
      `${path}: a stored piece is damaged and ${url} cannot be reached to repair it (${err instanceof Error ? err.message : err})`,
    );
  }
  if (res.status !== 206)
    throw new DownloadError(
      'INTEGRITY_FAILED',
      `${path}: repairing a damaged piece got HTTP ${res.status} from ${url}`,
    );
  return new Uint8Array(await res.arrayBuffer());
}
