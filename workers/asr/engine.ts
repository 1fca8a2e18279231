/**
 * The worker's model host: picks the execution provider and variant, loads the pipeline from a URL, runs one
 * transcription at a time with cancellation, and releases everything.  Errors leave with protocol error codes.
 */
import type { ErrorCode, EngineChoice, EngineInfo, ModelLoadOptions, StorageReport } from '../protocol.ts';
import {
  F16_VARIANTS,
  isVariant,
  type LoadProgress,
  type ModelKey,
  type ModelManifest,
  type TranscribeEvent,
  type Transcript,
  type Variant,
} from './contract.ts';
import { OrtError, type OrtRuntime } from './ort/runtime.ts';
import { createWebRuntime, ortGpuDevice, probeWebGpu } from './ort/web.ts';
import { GlmAsrPipeline, PipelineError, type ModelSource } from './pipeline.ts';
import { downloadModel, DownloadError } from './store/downloader.ts';
import {
  DEFAULT_CHUNK_BYTES,
  MAX_CHUNK_BYTES,
  MIN_CHUNK_BYTES,
  ModelStore,
  modelId,
  StoreError,
  variantFiles,
  type ModelRecord,
} from './store/model-store.ts';
import { FileEvicted, storedSource } from './store/stored-source.ts';
import { urlSource } from './url-source.ts';

export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Variant preference when the caller says 'auto' (the first the model has wins). */
const PREFERENCE: Record<'webgpu-f16' | 'webgpu' | 'wasm', Variant[]> = {
  'webgpu-f16': ['q4f16', 'q4', 'fp16', 'fp32', 'q8'],
  webgpu: ['q4', 'fp32', 'q8'],
  wasm: ['q4', 'q8', 'fp32', 'q4f16', 'fp16'],
};

function preferenceKey(provider: 'webgpu' | 'wasm', shaderF16: boolean): keyof typeof PREFERENCE {
  return provider === 'wasm' ? 'wasm' : shaderF16 ? 'webgpu-f16' : 'webgpu';
}

function rank(order: readonly string[], v: string): number {
  const i = order.indexOf(v);
  return i < 0 ? order.length : i;
}

function clampChunk(bytes: number | undefined): number {
  return Math.min(MAX_CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, Math.round(bytes ?? DEFAULT_CHUNK_BYTES)));
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;

export function toErrorInfo(err: unknown): { code: ErrorCode; detail: string } {
  if (err instanceof EngineError) return { code: err.code, detail: err.message };
  if (err instanceof StoreError || err instanceof DownloadError) return { code: err.code, detail: err.message };
  if (err instanceof PipelineError) return { code: err.code, detail: err.message };
  if (err instanceof OrtError) return { code: err.code === 'RUN_FAILED' ? 'INTERNAL' : err.code, detail: err.message };
  if (err instanceof DOMException && err.name === 'AbortError') return { code: 'CANCELLED', detail: 'cancelled' };
  if (err instanceof RangeError && /allocation|memory/i.test(err.message))
    return { code: 'OUT_OF_MEMORY', detail: err.message };
  return { code: 'INTERNAL', detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}

export class ModelHost {
  private pipeline: GlmAsrPipeline | null = null;
  private info: EngineInfo | null = null;
  private readonly running = new Map<number, AbortController>();
  private readonly store = new ModelStore();
  onDeviceLost: (detail: string) => void = () => {};

  get engine(): EngineInfo | null {
    return this.info;
  }

  async load(
    baseUrl: string,
    wanted: Variant | 'auto',
    choice: EngineChoice,
    options: ModelLoadOptions,
    onProgress: (p: LoadProgress) => void,
    signal: AbortSignal,
  ): Promise<EngineInfo> {
    // Replacing a model keeps ORT's GPUDevice (it is created once per worker and reused by the new sessions).
    await this.release(false);
    const t0 = performance.now();
    const stageMs: EngineInfo['stageMs'] = {};
    let stage: LoadProgress['stage'] = 'config';
    let stageStart = t0;
    const progress = (p: LoadProgress) => {
      if (p.stage !== stage) {
        const now = performance.now();
        stageMs[stage] = (stageMs[stage] ?? 0) + now - stageStart;
        stage = p.stage;
        stageStart = now;
      }
      onProgress(p);
    };
    const probe = choice === 'wasm' ? null : await probeWebGpu();
    if (choice === 'webgpu' && !probe?.adapter)
      throw new EngineError('NO_ADAPTER', `WebGPU was requested but ${probe?.description ?? 'is unavailable'}`);
    const provider: 'webgpu' | 'wasm' = probe?.adapter ? 'webgpu' : 'wasm';
    const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    const store = options.storage === 'store' ? this.store : null;
    store?.simulateQuota(options.quotaAfterBytes);
    progress({ stage: 'config', loaded: 0, total: 0, detail: base });
    const manifest = await this.manifest(base, store, wanted, provider, probe?.shaderF16 ?? false);
    const have = Object.keys(manifest.variants).filter(isVariant);
    let variant: Variant;
    let note = provider === 'webgpu' ? (probe?.description ?? '') : (probe?.description ?? 'WASM requested');
    if (wanted === 'auto') {
      const pick = PREFERENCE[preferenceKey(provider, probe?.shaderF16 ?? false)].find((v) => have.includes(v));
      if (!pick) throw new EngineError('MODEL_LOAD_FAILED', `${base} lists no variants`);
      variant = pick;
    } else {
      variant = wanted;
      if (provider === 'webgpu' && F16_VARIANTS.has(variant) && !probe?.shaderF16) {
        // Without shader-f16 one ORT bundle computes zeros silently: take the float32 twin instead.
        const twin: Variant = variant === 'q4f16' ? 'q4' : 'fp32';
        if (!have.includes(twin))
          throw new EngineError(
            'SESSION_CREATE_FAILED',
            `${variant} needs WebGPU shader-f16, which this adapter lacks`,
          );
        note += ` (no shader-f16: ${twin} instead of ${variant})`;
        variant = twin;
      }
      if (!have.includes(variant))
        throw new EngineError('MODEL_LOAD_FAILED', `${base} has no ${variant} variant (it has ${have.join(', ')})`);
    }
    const threads = Math.min(4, Math.max(1, navigator.hardwareConcurrency || 2));
    const repaired: string[] = [];
    const key: ModelKey = { modelId: manifest.model_id, revision: manifest.revision, variant };
    for (let attempt = 0; ; attempt++) {
      let source: ModelSource;
      if (store) {
        const record = await this.ensureStored(store, key, base, manifest, options, progress, signal);
        source = storedSource(store, record, repaired);
      } else {
        source = urlSource(base);
      }
      const runtime = createWebRuntime(provider, threads);
      try {
        this.pipeline = await GlmAsrPipeline.load(runtime, source, variant, { onProgress: progress, manifest, signal });
        this.watchDevice(runtime, provider);
        break;
      } catch (err) {
        await runtime.release().catch(() => undefined);
        // A stored file whose record was damaged is gone now: download it again, once.
        if (err instanceof FileEvicted && store && attempt === 0) {
          repaired.push(`${err.path} (downloaded again: ${err.message})`);
          continue;
        }
        throw err instanceof FileEvicted ? new EngineError('INTEGRITY_FAILED', err.message) : err;
      }
    }
    stageMs[stage] = (stageMs[stage] ?? 0) + performance.now() - stageStart;
    this.info = {
      provider,
      variant,
      modelId: manifest.model_id,
      adapter: note,
      shaderF16: probe?.shaderF16 ?? false,
      loadMs: performance.now() - t0,
      storage: store ? 'stored' : 'unsaved',
      stageMs,
      repaired,
    };
    return this.info;
  }

  /**
   * manifest.json from the network; when the network is unreachable, the manifest of a completely stored copy of
   * this model (offline use).
   */
  private async manifest(
    base: string,
    store: ModelStore | null,
    wanted: Variant | 'auto',
    provider: 'webgpu' | 'wasm',
    shaderF16: boolean,
  ): Promise<ModelManifest> {
    const url = new URL('manifest.json', base).href;
    let res: Response;
    try {
      res = await fetch(url, { cache: 'no-store' });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      const stored = store ? (await store.models()).filter((m) => m.baseUrl === base && m.complete) : [];
      const order = wanted === 'auto' ? PREFERENCE[preferenceKey(provider, shaderF16)] : [wanted, 'q4', 'fp32'];
      stored.sort((a, b) => rank(order, a.key.variant) - rank(order, b.key.variant) || b.updatedAt - a.updatedAt);
      const best = stored[0];
      if (best) return best.manifest;
      throw new EngineError(
        store ? 'OFFLINE_NOT_STORED' : 'MODEL_LOAD_FAILED',
        `cannot reach ${url} (${why})${store ? ' and no complete copy of it is stored' : ''}`,
      );
    }
    if (!res.ok) throw new EngineError('MODEL_LOAD_FAILED', `${url}: HTTP ${res.status} ${res.statusText}`.trim());
    try {
      return JSON.parse(await res.text()) as ModelManifest;
    } catch (err) {
      throw new EngineError('MODEL_LOAD_FAILED', `${url} is not a model manifest (${err})`);
    }
  }

  /** The stored copy of the variant, downloading (or resuming) whatever is missing first. */
  private async ensureStored(
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
      if (signal.reason instanceof EngineError && signal.reason.code === 'CANCELLED') await store.deleteModel(id);
      throw err;
    }
    const complete = { ...record, complete: true };
    await store.putModel(complete);
    return complete;
  }

  private watchDevice(runtime: OrtRuntime, provider: 'webgpu' | 'wasm'): void {
    if (provider !== 'webgpu') return;
    void ortGpuDevice().then((device) =>
      device?.lost.then((info: GPUDeviceLostInfo) => {
        if (this.pipeline?.runtime === runtime) {
          this.pipeline = null;
          this.info = null;
          this.onDeviceLost(`${info.reason}: ${info.message}`);
        }
      }),
    );
  }

  /** What is stored, and how much room the browser gives this site. */
  async storageReport(): Promise<StorageReport> {
    const estimate = await navigator.storage?.estimate?.().catch(() => undefined);
    const base = { usage: estimate?.usage ?? null, quota: estimate?.quota ?? null };
    try {
      return { ...base, models: await this.store.list() };
    } catch (err) {
      return { ...base, models: [], unavailable: err instanceof Error ? err.message : String(err) };
    }
  }

  async deleteStored(key: ModelKey): Promise<void> {
    await this.store.deleteModel(modelId(key));
  }

  async transcribe(
    requestId: number,
    pcm: Float32Array,
    onEvent: (e: TranscribeEvent) => void,
    maxNewTokens?: number,
  ): Promise<Transcript> {
    const pipeline = this.pipeline;
    if (!pipeline) throw new EngineError('NOT_LOADED', 'no model is loaded');
    if (this.running.size) throw new EngineError('INTERNAL', 'a transcription is already running');
    const controller = new AbortController();
    this.running.set(requestId, controller);
    try {
      return await pipeline.transcribe(pcm, {
        signal: controller.signal,
        onEvent,
        ...(maxNewTokens ? { maxNewTokens } : {}),
      });
    } finally {
      this.running.delete(requestId);
    }
  }

  cancel(requestId: number): void {
    this.running.get(requestId)?.abort(new DOMException('cancelled by the user', 'AbortError'));
  }

  /** Dispose the sessions; `destroyDevice` also destroys ORT's GPUDevice (an explicit release frees the GPU). */
  async release(destroyDevice = true): Promise<void> {
    for (const c of this.running.values()) c.abort(new DOMException('model released', 'AbortError'));
    const p = this.pipeline;
    this.pipeline = null;
    const wasGpu = this.info?.provider === 'webgpu';
    this.info = null;
    if (p) await p.release();
    if (p && wasGpu && destroyDevice) (await ortGpuDevice())?.destroy();
  }
}
