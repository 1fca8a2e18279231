/**
 * A model's files for the worker: its manifest (from the network, or from a complete stored copy when offline) and
 * the stored copy of a variant, downloaded or resumed first when incomplete (downloader.ts, into model-store.ts).
 * Used by the model host.
 */
import type { ModelLoadOptions } from '../../src/core/protocol.ts';
import type { LoadProgress, ModelKey, ModelManifest, Variant } from '../../src/core/asr/contract.ts';
import { WorkerError } from '../host/worker-error.ts';
import { downloadModel } from './downloader.ts';
import {
  DEFAULT_CHUNK_BYTES,
  MAX_CHUNK_BYTES,
  MIN_CHUNK_BYTES,
  modelId,
  StoreError,
  variantFiles,
  type ModelRecord,
  type ModelStore,
} from './model-store.ts';

function clampChunk(bytes: number | undefined): number {
  return Math.min(MAX_CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, Math.round(bytes ?? DEFAULT_CHUNK_BYTES)));
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;

/**
 * manifest.json from the network; when the network is unreachable, the manifest of a completely stored copy of this
 * model (offline use), preferring the `wanted` variant.
 */
export async function fetchManifest(
  base: string,
  store: ModelStore | null,
  wanted: Variant | 'auto',
): Promise<ModelManifest> {
  const url = new URL('manifest.json', base).href;
  let res: Response;
  try {
    res = await fetch(url, { cache: 'no-store' });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    const stored = store ? (await store.models()).filter((m) => m.baseUrl === base && m.complete) : [];
    stored.sort(
      (a, b) => Number(b.key.variant === wanted) - Number(a.key.variant === wanted) || b.updatedAt - a.updatedAt,
    );
    const best = stored[0];
    if (best) return best.manifest;
    throw new WorkerError(
      store ? 'OFFLINE_NOT_STORED' : 'MODEL_LOAD_FAILED',
      `cannot reach ${url} (${why})${store ? ' and no complete copy of it is stored' : ''}`,
    );
  }
  if (!res.ok) throw new WorkerError('MODEL_LOAD_FAILED', `${url}: HTTP ${res.status} ${res.statusText}`.trim());
  try {
    return JSON.parse(await res.text()) as ModelManifest;
  } catch (err) {
    throw new WorkerError('MODEL_LOAD_FAILED', `${url} is not a model manifest (${err})`);
  }
}

/** The stored copy of the variant, downloading (or resuming) whatever is missing first. */
export async function ensureStored(
  store: ModelStore,
  key: ModelKey,
  base: string,
  manifest: ModelManifest,
  options: ModelLoadOptions,
  progress: (p: LoadProgress) => void,
  signal: AbortSignal,
): Promise<ModelRecord> {
  const id = modelId(key);
  const files = variantFiles(manifest, key.variant);
  const bytes = files.reduce((n, f) => n + f.bytes, 0);
  const existing = await store.model(id);
  const record: ModelRecord = {
    id,
    key,
    baseUrl: base,
    manifest,
    files,
    bytes,
    chunkBytes: clampChunk(options.chunkBytes),
    complete: false,
    createdAt: existing?.createdAt ?? Date.now(),
    updatedAt: Date.now(),
  };
  const fileRecords = await store.files(id);
  const done = new Set(fileRecords.filter((f) => f.done).map((f) => f.path));
  if (existing?.complete && files.every((f) => done.has(f.path))) return { ...existing, baseUrl: base };
  await store.putModel(record);
  const stored = fileRecords.reduce((n, f) => n + (files.some((x) => x.path === f.path) ? f.offset : 0), 0);
  const needed = bytes - stored;
  const estimate = await navigator.storage?.estimate?.().catch(() => undefined);
  const available =
    estimate?.quota !== undefined && estimate.usage !== undefined ? estimate.quota - estimate.usage : null;
  if (available !== null && needed > available)
    throw new StoreError(
      'STORAGE_FULL',
      `the model needs ${mb(needed)} more and the browser allows ${mb(available)} more for this site`,
    );
  const download = downloadModel({
    store,
    id,
    baseUrl: base,
    files,
    chunkBytes: record.chunkBytes,
    signal,
    needed,
    available,
    onProgress: (download, loaded, total) =>
      progress({ stage: 'download', loaded, total, detail: manifest.model_id, download }),
  });
  try {
    await download;
  } catch (err) {
    // Cancel (unlike pause) removes the partial copy.
    if (signal.reason instanceof WorkerError && signal.reason.code === 'CANCELLED') await store.deleteModel(id);
    throw err;
  }
  const complete = { ...record, complete: true };
  await store.putModel(complete);
  return complete;
}
