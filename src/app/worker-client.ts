/**
 * Owns the ASR worker: creates it when the host connects, terminates it when the host goes away, routes its typed
 * messages to listeners and turns request/response pairs into promises.
 */

import { SAMPLE_RATE_HZ } from '../core/constants.ts';
import { LiveTranscript } from './dictation/live-transcript.ts';
import { UpdatesFrom } from './shared/updates.ts';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { LoadProgress, ModelKey, TranscribeEvent, Transcript, Variant } from '../core/asr/contract.ts';
import { knobs, workerKnobs } from './knobs.ts';
import { asErrorInfo } from './shared/messages.ts';
import {
  isWorkerToMain,
  type CaptureStats,
  type DeviceReport,
  type BackendChoice,
  type BackendInfo,
  type ErrorInfo,
  type MainToWorker,
  type MelColumns,
  type ModelLoadOptions,
  type RoutingSettings,
  type StorageReport,
  type TranscribeSource,
  type WorkerToMain,
} from '../core/protocol.ts';

export type ModelState = 'none' | 'loading' | 'ready' | 'error';

export interface TranscriptionJob {
  requestId: number;
  /** The transcript, and the library document it was kept in (null when storage refused it). */
  done: Promise<{ transcript: Transcript; docId: string | null }>;
  cancel(): void;
}

export interface FinishedCapture {
  stats: CaptureStats;
  poolMisses: number;
}

type Listener = (message: WorkerToMain) => void;

export class WorkerClient implements ReactiveController {
  /** Latest stats of the running capture (level meter, elapsed time). */
  captureStats: CaptureStats | null = null;
  /** Final stats per finished capture session. */
  readonly finished = new Map<number, FinishedCapture>();
  /** Errors the worker reported without a request id. */
  lastError: ErrorInfo | null = null;
  /** Live dictation's transcript (recordings made while a model is ready). */
  readonly live = new LiveTranscript();

  private worker: Worker | null = null;
  private readonly listeners = new Set<Listener>();
  private readonly melListeners = new Set<(mel: MelColumns) => void>();
  private readonly pending = new Map<number, { resolve: (m: WorkerToMain) => void; reject: (e: ErrorInfo) => void }>();
  private nextRequestId = 1;
  private readonly eventHandlers = new Map<number, (event: TranscribeEvent) => void>();

  /** The model: state, load progress, what it runs on, and the load error. */
  modelState: ModelState = 'none';
  loadProgress: LoadProgress | null = null;
  engineInfo: BackendInfo | null = null;
  modelError: ErrorInfo | null = null;
  /** The last failover: the engine that took over and why (shown once, until the next load). */
  engineChange: { engine: BackendInfo; reason: string } | null = null;
  /** The running load's request id (to pause or cancel its download). */
  private loadRequestId: number | null = null;
  /** What storage holds (refreshed after loads and deletes) and whether the browser made it persistent. */
  storage: StorageReport | null = null;
  persisted: boolean | null = null;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {
    if (this.worker) return;
    this.worker = new Worker(new URL('../../workers/asr.worker.ts', import.meta.url), {
      type: 'module',
      name: 'asr',
    });
    this.worker.onmessage = (event: MessageEvent) => this.onMessage(event.data);
    // A test build's knobs, before any other message (a production build has none: the branch is not compiled in).
    if (__TEST_BUILD__)
      this.worker.postMessage({ type: 'test-knobs', knobs: workerKnobs(knobs) } satisfies MainToWorker);
    this.worker.onerror = (event: ErrorEvent) => {
      this.lastError = { code: 'INTERNAL', detail: `worker failed: ${event.message}` };
      this.host.requestUpdate();
    };
  }

  hostDisconnected(): void {
    this.worker?.terminate();
    this.worker = null;
    for (const { reject } of this.pending.values()) reject({ code: 'CANCELLED', detail: 'worker terminated' });
    this.pending.clear();
  }

  post(message: MainToWorker, transfer: Transferable[] = []): void {
    if (!this.worker) throw new Error('the ASR worker is not running');
    this.worker.postMessage(message, transfer);
  }

  onMel(listener: (mel: MelColumns) => void): () => void {
    this.melListeners.add(listener);
    return () => this.melListeners.delete(listener);
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What a capture session recorded, as a 32-bit float WAV file (a copy: exactly the transcribed samples). */
  recordingWav(sessionId: number): Promise<Uint8Array> {
    const requestId = this.nextRequestId++;
    return new Promise<WorkerToMain>((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      this.post({ type: 'recording-get', requestId, sessionId, format: 'wavf32' });
    }).then((message) => {
      if (message.type !== 'recording' || message.format !== 'wavf32') throw new Error('unexpected reply');
      return message.data;
    });
  }

  private request<T extends WorkerToMain>(build: (requestId: number) => MainToWorker, transfer: Transferable[] = []) {
    const requestId = this.nextRequestId++;
    const promise = new Promise<WorkerToMain>((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      this.post(build(requestId), transfer);
    }) as Promise<T>;
    return { requestId, promise };
  }

  /** Load (or replace) the model from a URL; progress and state are on this controller. */
  async loadModel(
    baseUrl: string,
    variant: Variant | 'auto',
    engine: BackendChoice,
    options: ModelLoadOptions = { storage: 'store' },
    routing: RoutingSettings = { where: 'device', server: null },
  ): Promise<BackendInfo> {
    this.modelState = 'loading';
    this.modelError = null;
    this.engineInfo = null;
    this.engineChange = null;
    this.loadProgress = null;
    this.host.requestUpdate();
    if (options.storage === 'store') void this.requestPersistence();
    try {
      const { requestId, promise } = this.request<Extract<WorkerToMain, { type: 'model-ready' }>>((requestId) => ({
        type: 'model-load',
        requestId,
        baseUrl: new URL(baseUrl, location.href).href,
        variant,
        engine,
        options,
        routing,
      }));
      this.loadRequestId = requestId;
      const ready = await promise;
      this.engineInfo = ready.engine;
      this.modelState = 'ready';
      return ready.engine;
    } catch (err) {
      this.modelError = asErrorInfo(err);
      this.modelState = 'error';
      throw this.modelError;
    } finally {
      this.loadRequestId = null;
      this.host.requestUpdate();
      this.refreshStorage().catch(() => undefined); // the settings panel refreshes itself when opened
    }
  }

  /** Pause (keep what is stored) or cancel (delete it) the running download. */
  stopDownload(mode: 'pause' | 'discard'): void {
    if (this.loadRequestId !== null) this.post({ type: 'download-stop', requestId: this.loadRequestId, mode });
  }

  /** Ask the browser to keep our storage under pressure (Window-only API); the answer is shown in settings. */
  async requestPersistence(): Promise<boolean | null> {
    try {
      const s = navigator.storage;
      if (!s?.persist) return (this.persisted = null);
      this.persisted = (await s.persisted()) || (await s.persist());
    } catch {
      this.persisted = null;
    }
    this.host.requestUpdate();
    return this.persisted;
  }

  async refreshStorage(): Promise<StorageReport> {
    const { promise } = this.request<Extract<WorkerToMain, { type: 'storage-report' }>>((requestId) => ({
      type: 'storage-list',
      requestId,
    }));
    this.storage = (await promise).report;
    if (this.persisted === null) this.persisted = (await navigator.storage?.persisted?.().catch(() => null)) ?? null;
    this.host.requestUpdate();
    return this.storage;
  }

  /** What this device offers the model: the worker's probe (the one the planner uses) and its summary line. */
  async deviceReport(): Promise<DeviceReport> {
    const { promise } = this.request<Extract<WorkerToMain, { type: 'device-report' }>>((requestId) => ({
      type: 'device-probe',
      requestId,
    }));
    return (await promise).report;
  }

  async deleteStored(key: ModelKey): Promise<void> {
    const { promise } = this.request<Extract<WorkerToMain, { type: 'storage-report' }>>((requestId) => ({
      type: 'storage-delete',
      requestId,
      key,
    }));
    this.storage = (await promise).report;
    this.host.requestUpdate();
  }

  async releaseModel(): Promise<void> {
    const { promise } = this.request((requestId) => ({ type: 'model-release', requestId }));
    await promise;
    this.modelState = 'none';
    this.engineInfo = null;
    this.host.requestUpdate();
  }

  /** Start a transcription; events stream to `onEvent`, the result (or an ErrorInfo) comes from `done`. */
  transcribe(
    source: TranscribeSource,
    onEvent: (event: TranscribeEvent) => void,
    routing?: RoutingSettings,
  ): TranscriptionJob {
    const transfer = source.kind === 'pcm' ? [source.samples.buffer as ArrayBuffer] : [];
    const { requestId, promise } = this.request<Extract<WorkerToMain, { type: 'transcribe-done' }>>(
      (requestId) => ({
        type: 'transcribe',
        requestId,
        source,
        ...(routing ? { routing } : {}),
      }),
      transfer,
    );
    // Replies arrive as later tasks, so registering after posting misses no event.
    this.eventHandlers.set(requestId, onEvent);
    const done = promise
      .then((m) => ({ transcript: m.transcript, docId: m.docId }))
      .finally(() => this.eventHandlers.delete(requestId));
    return { requestId, done, cancel: () => this.post({ type: 'cancel', requestId }) };
  }

  private onMessage(data: unknown): void {
    if (!isWorkerToMain(data)) return;
    switch (data.type) {
      case 'capture-stats':
        this.captureStats = data.stats;
        break;
      case 'capture-finished':
        this.captureStats = data.stats;
        this.finished.set(data.stats.sessionId, { stats: data.stats, poolMisses: data.poolMisses });
        this.live.recordingEnded(data.stats.sessionId, data.stats.samples / SAMPLE_RATE_HZ);
        break;
      case 'live-event':
        this.live.apply(data.sessionId, data.event);
        break;
      case 'mel-columns':
        for (const listener of this.melListeners) listener(data.mel);
        return; // no re-render for mel columns: the canvas draws them itself
      case 'error':
        if (data.requestId !== undefined && this.pending.has(data.requestId)) {
          this.pending.get(data.requestId)?.reject(data.error);
          this.pending.delete(data.requestId);
        } else {
          this.lastError = data.error;
        }
        break;
      case 'recording':
      case 'storage-report':
      case 'device-report':
      case 'model-ready':
      case 'model-released':
      case 'transcribe-done': {
        const entry = this.pending.get(data.requestId);
        this.pending.delete(data.requestId);
        entry?.resolve(data);
        break;
      }
      case 'model-progress':
        this.loadProgress = data.progress;
        break;
      case 'engine-lost':
        // The active engine failed and nothing could take over: the model must be loaded again.
        this.modelState = 'error';
        this.modelError = data.error;
        this.engineInfo = null;
        break;
      case 'engine-changed':
        this.engineInfo = data.engine;
        // A switch during a job is told by the job itself (its engine-switch event): say it once.
        if (!data.inJob) this.engineChange = { engine: data.engine, reason: data.reason };
        this.modelState = 'ready';
        this.modelError = null;
        break;
      case 'transcribe-event':
        this.eventHandlers.get(data.requestId)?.(data.event);
        return; // the panel re-renders itself
      case 'ready':
      case 'library-changed':
      case 'library-error':
        break;
    }
    for (const listener of this.listeners) listener(data);
    this.host.requestUpdate();
  }
}

/**
 * For a component that is handed the app's WorkerClient as a property: re-render it on every worker message the
 * controller routes.
 */
export class EngineUpdates extends UpdatesFrom<WorkerClient> {
  constructor(host: ReactiveControllerHost, current: () => WorkerClient | undefined) {
    super(host, current, (engine, onChange) => engine.on(onChange));
  }
}
