/**
 * Download a model variant into the ModelStore: each file streamed in pieces, resumed with an HTTP Range request from
 * the last stored byte (after a dropped connection, a server error, a pause, a reload or a closed tab), its SHA-256
 * computed incrementally with the hash state stored beside the pieces, two files at a time, retries with backoff.
 * A file whose sha256 or length disagrees with the manifest is never kept.
 */
import { createSHA256, createXXHash64, type IHasher } from 'hash-wasm';
import { sleep } from '../../src/core/async.ts';
import type { DownloadStatus, FileProgress, FileState, ManifestFile } from '../../src/core/asr/contract.ts';
import type { FileRecord, ModelStore } from './model-store.ts';
import { isTransientStatus } from '../../src/core/net/http.ts';

export class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    readonly code: 'DOWNLOAD_FAILED' | 'INTEGRITY_FAILED',
    message: string,
  ) {
    super(message);
  }
}

const MAX_ATTEMPTS_WITHOUT_PROGRESS = 5;
const PARALLEL_FILES = 2;
const PROGRESS_INTERVAL_MS = 200;

export interface DownloadOptions {
  store: ModelStore;
  id: string;
  baseUrl: string;
  files: ManifestFile[];
  chunkBytes: number;
  signal: AbortSignal;
  /** Storage estimate taken before starting (shown with the progress). */
  needed: number;
  available: number | null;
  onProgress: (status: DownloadStatus, loaded: number, total: number) => void;
  /** First retry delay; doubles per failed attempt up to 8 s. */
  backoffMs?: number;
}

/** One piece of hashing state per file: SHA-256 of the whole file, xxhash64 per stored piece. */
async function hashers(record: FileRecord): Promise<{ sha: IHasher; xxh: IHasher }> {
  const sha = await createSHA256();
  if (record.hashState) sha.load(record.hashState);
  else sha.init();
  return { sha, xxh: await createXXHash64() };
}

function emptyRecord(file: ManifestFile): FileRecord {
  return { ...file, offset: 0, sizes: [], checksums: [], hashState: null, done: false };
}

export async function downloadModel(opts: DownloadOptions): Promise<void> {
  const { store, id, files, signal } = opts;
  const records = new Map<string, FileRecord>();
  for (const f of files) {
    const r = await store.file(id, f.path);
    // A record from another manifest (size or hash changed) is not resumable.
    records.set(f.path, r && r.sha256 === f.sha256 && r.bytes === f.bytes ? r : emptyRecord(f));
  }
  const total = files.reduce((n, f) => n + f.bytes, 0);
  const progress = new Map<string, FileProgress>(
    files.map((f) => {
      const r = records.get(f.path) as FileRecord;
      return [f.path, { path: f.path, loaded: r.offset, total: f.bytes, state: r.done ? 'done' : 'waiting' }];
    }),
  );
  const resumedFrom = [...records.values()].reduce((n, r) => n + r.offset, 0);
  let note = '';
  const samples: [number, number][] = [];
  let lastEmit = 0;
  const emit = (force = false) => {
    const now = performance.now();
    if (!force && now - lastEmit < PROGRESS_INTERVAL_MS) return;
    lastEmit = now;
    const loaded = [...progress.values()].reduce((n, p) => n + p.loaded, 0);
    samples.push([now, loaded]);
    while (samples.length > 2 && now - (samples[0] as [number, number])[0] > 5000) samples.shift();
    const [t0, b0] = samples[0] as [number, number];
    const bytesPerSec = now > t0 ? ((loaded - b0) * 1000) / (now - t0) : 0;
    opts.onProgress(
      {
        files: [...progress.values()].map((p) => ({ ...p })),
        bytesPerSec,
        etaSec: bytesPerSec > 0 ? (total - loaded) / bytesPerSec : null,
        resumedFrom,
        needed: opts.needed,
        available: opts.available,
        note,
      },
      loaded,
      total,
    );
  };
  const set = (path: string, loaded: number, state: FileState) => {
    const p = progress.get(path) as FileProgress;
    p.loaded = loaded;
    p.state = state;
    emit(state !== 'downloading');
  };
  emit(true);

  // Largest first, so the long files start early; two at a time.
  const queue = files.filter((f) => !records.get(f.path)?.done).sort((a, b) => b.bytes - a.bytes);
  // The lanes' signal: the caller's (pause, cancel), or the other lane's failure.
  const lanesStop = new AbortController();
  const forward = () => lanesStop.abort(signal.reason);
  if (signal.aborted) forward();
  else signal.addEventListener('abort', forward, { once: true });
  const laneOpts = { ...opts, signal: lanesStop.signal };
  const run = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      await downloadFile(laneOpts, f, records.get(f.path) as FileRecord, set, (text) => {
        note = text;
        emit(true);
      });
    }
  };
  let firstFailure: unknown = null;
  const lanes = Array.from({ length: Math.min(PARALLEL_FILES, queue.length) }, () =>
    run().catch((err: unknown) => {
      // Stop the other lane at once (it keeps what it stored) and report this failure, not the stop.
      if (firstFailure === null) firstFailure = err;
      queue.length = 0;
      lanesStop.abort(err);
    }),
  );
  await Promise.all(lanes);
  if (firstFailure !== null) throw firstFailure;
  signal.throwIfAborted();
  emit(true);
}

async function downloadFile(
  opts: DownloadOptions,
  file: ManifestFile,
  initial: FileRecord,
  set: (path: string, loaded: number, state: FileState) => void,
  setNote: (text: string) => void,
): Promise<void> {
  const { store, id, signal, chunkBytes } = opts;
  const url = new URL(file.path, opts.baseUrl).href;
  let record = initial;
  let { sha, xxh } = await hashers(record);
  let failures = 0;
  let shaRetried = false;

  /** Store `data` as the next piece (hash state and record in the same transaction). */
  const commit = async (data: Uint8Array<ArrayBuffer>) => {
    sha.update(data);
    xxh.init();
    xxh.update(data);
    const next: FileRecord = {
      ...record,
      offset: record.offset + data.byteLength,
      sizes: [...record.sizes, data.byteLength],
      checksums: [...record.checksums, xxh.digest('hex')],
      hashState: sha.save(),
    };
    await store.putChunk(id, next, record.sizes.length, data);
    record = next;
    failures = 0;
  };

  while (!record.done) {
    signal.throwIfAborted();
    if (record.offset < file.bytes) {
      set(file.path, record.offset, failures ? 'retrying' : 'downloading');
      try {
        await fetchFrom(url, file, record.offset, chunkBytes, signal, commit, (position) =>
          set(file.path, position, 'downloading'),
        );
        setNote('');
        continue;
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        if (!(err instanceof RetryableError)) throw err;
        failures++;
        if (failures >= MAX_ATTEMPTS_WITHOUT_PROGRESS)
          throw new DownloadError('DOWNLOAD_FAILED', `${url}: ${err.message} (gave up after ${failures} attempts)`);
        const wait = Math.min(8000, (opts.backoffMs ?? 500) * 2 ** (failures - 1));
        setNote(`${file.path}: ${err.message}; retrying in ${(wait / 1000).toFixed(1)} s (attempt ${failures + 1})`);
        set(file.path, record.offset, 'retrying');
        await sleep(wait, signal);
        continue;
      }
    }
    set(file.path, record.offset, 'verifying');
    const digest = sha.digest('hex');
    if (digest === file.sha256) {
      record = { ...record, done: true, hashState: null };
      await store.putFile(id, record);
      set(file.path, record.offset, 'done');
      return;
    }
    // Never keep bytes that do not hash to the manifest's value; try once more from zero, then report.
    await store.evictFile(id, file.path);
    if (shaRetried)
      throw new DownloadError(
        'INTEGRITY_FAILED',
        `${url}: sha256 ${digest} does not match the manifest's ${file.sha256}, twice; the server's copy differs`,
      );
    shaRetried = true;
    record = emptyRecord(file);
    ({ sha, xxh } = await hashers(record));
    setNote(`${file.path}: checksum mismatch; downloading it again`);
  }
}

class RetryableError extends Error {}

/**
 * One HTTP request for the rest of a file: pieces of `chunkBytes` are committed as they fill; what arrived before a
 * dropped connection is committed too (a short piece), so only bytes that never arrived are fetched again.
 */
async function fetchFrom(
  url: string,
  file: ManifestFile,
  offset: number,
  chunkBytes: number,
  signal: AbortSignal,
  commit: (data: Uint8Array<ArrayBuffer>) => Promise<void>,
  onPosition: (bytes: number) => void,
): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      signal,
      cache: 'no-store',
      headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
    });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw new RetryableError(`network error (${err instanceof Error ? err.message : String(err)})`);
  }
  if (isTransientStatus(res.status)) {
    await res.body?.cancel().catch(() => undefined);
    throw new RetryableError(`HTTP ${res.status} ${res.statusText}`.trim());
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new DownloadError('DOWNLOAD_FAILED', `${url}: HTTP ${res.status} ${res.statusText}`.trim());
  }
  // What the server says it is sending must agree with the manifest before a byte is stored.
  let skip = 0;
  let announcedTotal: number | null;
  if (res.status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('Content-Range') ?? '');
    if (!m || Number(m[1]) !== offset)
      throw new DownloadError(
        'DOWNLOAD_FAILED',
        `${url}: asked for bytes from ${offset}, got Content-Range "${res.headers.get('Content-Range')}"`,
      );
    announcedTotal = m[3] === '*' ? null : Number(m[3]);
  } else {
    // 200: the whole file (a server without Range support); skip what is stored.
    skip = offset;
    const len = res.headers.get('Content-Length');
    announcedTotal = len === null ? null : Number(len);
  }
  if (announcedTotal !== null && announcedTotal !== file.bytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new DownloadError(
      'DOWNLOAD_FAILED',
      `${url}: the server has ${announcedTotal} bytes but the manifest says ${file.bytes}; nothing was stored`,
    );
  }
  if (!res.body) throw new RetryableError('empty response body');
  const reader = res.body.getReader();
  let piece = new Uint8Array(Math.min(chunkBytes, file.bytes - offset));
  let fill = 0;
  let stored = offset;
  // Full pieces are stored behind the reader (at most two waiting), so the response stream is drained at network
  // speed: bytes still queued in a stream are discarded when its connection fails, bytes in a piece are not.
  let writes: Promise<void> = Promise.resolve();
  let waiting = 0;
  const store = (data: Uint8Array<ArrayBuffer>) => {
    waiting++;
    writes = writes.then(() => commit(data)).finally(() => void waiting--);
    writes.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  };
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw new RetryableError(`connection lost (${err instanceof Error ? err.message : String(err)})`);
      }
      if (chunk.done) break;
      let value = chunk.value;
      if (skip > 0) {
        const n = Math.min(skip, value.byteLength);
        skip -= n;
        value = value.subarray(n);
      }
      while (value.byteLength > 0) {
        if (stored + fill + value.byteLength > file.bytes)
          throw new DownloadError(
            'DOWNLOAD_FAILED',
            `${url}: the server sent more than the manifest's ${file.bytes} bytes`,
          );
        const n = Math.min(piece.byteLength - fill, value.byteLength);
        piece.set(value.subarray(0, n), fill);
        fill += n;
        value = value.subarray(n);
        if (fill === piece.byteLength) {
          store(piece);
          stored += fill;
          fill = 0;
          piece = new Uint8Array(Math.min(chunkBytes, file.bytes - stored));
        }
      }
      if (waiting >= 2) await writes;
      onPosition(stored + fill);
    }
    await writes;
    if (stored + fill < file.bytes)
      throw new RetryableError(`the response ended at byte ${stored + fill} of ${file.bytes}`);
  } catch (err) {
    // Finish storing the full pieces (a failing store is the error to report), then keep what arrived intact before
    // a network failure as a short piece (not on a pause: the user asked to stop now).
    await writes;
    if (fill > 0 && err instanceof RetryableError) await commit(piece.slice(0, fill));
    await reader.cancel().catch(() => undefined);
    throw err;
  }
}
