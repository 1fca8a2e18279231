/**
 * The worker client: the page's handle on the ASR worker.  It creates the worker when the app connects and
 * terminates it when the app goes away, makes the worker's calls (worker-client/calls.ts: one table of calls and
 * results, ids matched in one place), and keeps what the page shows about the worker: the model's state, its load
 * progress and backend, storage (worker-client/storage-state.ts), the live transcript, and the running recording's
 * statistics (worker-client/capture-feed.ts, for the few components that show them).
 */

import { SAMPLE_RATE_HZ } from '../core/constants.ts';
import { LiveTranscript } from './dictation/live-transcript.ts';
import { Listeners, UpdatesFrom } from './shared/updates.ts';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { LoadProgress, ModelKey, TranscribeEvent, Transcript, Variant } from '../core/asr/contract.ts';
import { knobs, workerKnobs } from './knobs.ts';
import { asErrorInfo } from './shared/messages.ts';
import { Calls } from './worker-client/calls.ts';
import { CaptureFeed } from './worker-client/capture-feed.ts';
import { StorageState } from './worker-client/storage-state.ts';
import {
  isWorkerToMain,
  type CaptureStats,
  type DeviceReport,
  type BackendChoice,
  type BackendInfo,
  type ErrorInfo,
  type MainToWorker,
  type ModelLoadOptions,
  type Notice,
  type RecordingId,
  type RoutingSettings,
  type StorageReport,
  type TranscribeSource,
  type WorkerEvent,
} from '../core/protocol.ts';

export type ModelState = 'none' | 'loading' | 'ready' | 'error';

export interface TranscribeCall {
  /** The transcription call's id. */
  id: number;
  /** The transcript, and the library document it was kept in (null when storage refused it). */
  done: Promise<{ transcript: Transcript; docId: string | null }>;
  cancel(): void;
}

export interface FinishedCapture {
  stats: CaptureStats;
  poolMisses: number;
}

/** The worker's events the page re-renders for (the high-rate ones go to the capture feed only). */
export type ClientEvent = Exclude<WorkerEvent, { type: 'capture-stats' | 'mel-columns' | 'transcribe-event' }>;

export class WorkerClient implements ReactiveController {
  /** The running recording's statistics and log-mel columns (subscribe there; they do not re-render the app). */
  readonly capture = new CaptureFeed();
  /** Final stats per finished recording. */
  readonly finished = new Map<RecordingId, FinishedCapture>();
  /** Errors the worker reported outside any call. */
  lastError: ErrorInfo | null = null;
  /** Live dictation's transcript (recordings made while a model is ready). */
  readonly live = new LiveTranscript();

  /** The model: state, load progress, the backend it runs on, and the load error. */
  modelState: ModelState = 'none';
  loadProgress: LoadProgress | null = null;
  backend: BackendInfo | null = null;
  modelError: ErrorInfo | null = null;
  /** The last failover: the backend that took over and why (shown once, until the next load). */
  backendChange: { backend: BackendInfo; reason: string } | null = null;
  /** What storage holds and whether the browser made it persistent. */
  private readonly storageState: StorageState;

  private worker: Worker | null = null;
  private readonly calls = new Calls((message, transfer) => this.send(message, transfer));
  private readonly events = new Listeners<ClientEvent>();
  /** Anything shown about the worker changed (an event, a call's answer, a load's end): ClientUpdates follow it. */
  private readonly changes = new Listeners();
  private readonly transcribeEvents = new Map<number, (event: TranscribeEvent) => void>();
  /** The running load's call id (to pause or cancel its download). */
  private loadId: number | null = null;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
    this.storageState = new StorageState(this.calls, () => this.changed());
  }

  get storage(): StorageReport | null {
    return this.storageState.report;
  }
  get persisted(): boolean | null {
    return this.storageState.persisted;
  }

  hostConnected(): void {
    if (this.worker) return;
    this.worker = new Worker(new URL('../../workers/asr.worker.ts', import.meta.url), {
      type: 'module',
      name: 'asr',
    });
    this.worker.onmessage = (event: MessageEvent) => this.onMessage(event.data);
    this.post({ type: 'page-facts', maxTouchPoints: navigator.maxTouchPoints || 0 });
    // A test build's knobs, before any other message (a production build has none: the branch is not compiled in).
    if (__TEST_BUILD__) this.post({ type: 'test-knobs', knobs: workerKnobs(knobs) });
    this.worker.onerror = (event: ErrorEvent) => {
      this.lastError = { code: 'INTERNAL', detail: `worker failed: ${event.message}` };
      this.changed();
    };
  }

  hostDisconnected(): void {
    this.worker?.terminate();
    this.worker = null;
    this.calls.rejectAll({ code: 'CANCELLED', detail: 'worker terminated' });
  }

  /** Send a notice (no answer; `transfer` moves what it lists, e.g. a recording's port). */
  post(notice: Notice, transfer: Transferable[] = []): void {
    this.send(notice, transfer);
  }

  private send(message: MainToWorker, transfer: Transferable[]): void {
    if (!this.worker) throw new Error('the ASR worker is not running');
    this.worker.postMessage(message, transfer);
  }

  /** Re-render the app, and tell the components that follow the client (ClientUpdates). */
  private changed(): void {
    this.host.requestUpdate();
    this.changes.emit();
  }

  /** Called on every change shown about the worker (not the high-rate statistics); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    return this.changes.add(listener);
  }

  /** The worker's events (not the high-rate ones); returns the unsubscribe function. */
  on(listener: (event: ClientEvent) => void): () => void {
    return this.events.add(listener);
  }

  /** What a recording recorded, as a 32-bit float WAV file (a copy: exactly the transcribed samples). */
  recordingWav(recordingId: RecordingId): Promise<Uint8Array> {
    return this.calls.call('recording-wav', { recordingId });
  }

  /** Forget a recording's audio in the worker's memory (the library's copy stays). */
  discardRecording(recordingId: RecordingId): void {
    this.post({ type: 'recording-discard', recordingId });
  }

  /** Load (or replace) the model from a URL; progress and state are on this client. */
  async loadModel(
    baseUrl: string,
    variant: Variant | 'auto',
    backend: BackendChoice,
    options: ModelLoadOptions = { storage: 'store' },
    routing: RoutingSettings = { where: 'device', server: null },
  ): Promise<BackendInfo> {
    this.modelState = 'loading';
    this.modelError = null;
    this.backend = null;
    this.backendChange = null;
    this.loadProgress = null;
    this.changed();
    if (options.storage === 'store') void this.requestPersistence();
    try {
      const load = this.calls.start('model-load', {
        baseUrl: new URL(baseUrl, location.href).href,
        variant,
        backend,
        options,
        routing,
      });
      this.loadId = load.id;
      this.backend = await load.result;
      this.modelState = 'ready';
      return this.backend;
    } catch (err) {
      this.modelError = asErrorInfo(err);
      this.modelState = 'error';
      throw this.modelError;
    } finally {
      this.loadId = null;
      this.changed();
      this.refreshStorage().catch(() => undefined); // the settings panel refreshes itself when opened
    }
  }

  /** Pause (keep what is stored) or cancel (delete it) the running download. */
  stopDownload(mode: 'pause' | 'discard'): void {
    if (this.loadId !== null) this.post({ type: 'download-stop', id: this.loadId, mode });
  }

  /** Ask the browser to keep our storage under pressure; the answer is shown in settings. */
  requestPersistence(): Promise<boolean | null> {
    return this.storageState.requestPersistence();
  }

  refreshStorage(): Promise<StorageReport> {
    return this.storageState.refresh();
  }

  deleteStored(key: ModelKey): Promise<void> {
    return this.storageState.delete(key);
  }

  /** What this device offers the model: the worker's probe (the one the planner uses) and its summary line. */
  deviceReport(): Promise<DeviceReport> {
    return this.calls.call('device-probe', {});
  }

  async releaseModel(): Promise<void> {
    await this.calls.call('model-release', {});
    this.modelState = 'none';
    this.backend = null;
    this.changed();
  }

  /** Start a transcription; events stream to `onEvent`, the result (or an ErrorInfo) comes from `done`. */
  transcribe(
    source: TranscribeSource,
    onEvent: (event: TranscribeEvent) => void,
    routing?: RoutingSettings,
  ): TranscribeCall {
    // The samples are moved to the worker, not copied.
    const transfer = source.kind === 'pcm' ? [source.samples.buffer as ArrayBuffer] : [];
    const { id, result } = this.calls.start('transcribe', { source, ...(routing ? { routing } : {}) }, transfer);
    // Replies arrive as later tasks, so registering after posting misses no event.
    this.transcribeEvents.set(id, onEvent);
    const done = result.finally(() => this.transcribeEvents.delete(id));
    return { id: id, done, cancel: () => this.post({ type: 'cancel', id }) };
  }

  private onMessage(data: unknown): void {
    if (!isWorkerToMain(data)) return;
    switch (data.type) {
      case 'result':
        // The caller's continuation runs before the next render: it shows the state the answer left.
        this.calls.resolve(data.id, data.res);
        this.changed();
        return;
      case 'capture-stats':
        this.capture.pushStats(data.stats);
        return;
      case 'mel-columns':
        this.capture.pushMel(data.mel);
        return;
      case 'transcribe-event':
        this.transcribeEvents.get(data.id)?.(data.event);
        return; // the job's view re-renders itself
      case 'error':
        if (data.id === undefined || !this.calls.reject(data.id, data.error)) this.lastError = data.error;
        break;
      case 'capture-finished':
        this.capture.pushStats(data.stats);
        this.finished.set(data.stats.recordingId, { stats: data.stats, poolMisses: data.poolMisses });
        this.live.recordingEnded(data.stats.recordingId, data.stats.samples / SAMPLE_RATE_HZ);
        break;
      case 'live-event':
        this.live.apply(data.recordingId, data.event);
        break;
      case 'model-progress':
        this.loadProgress = data.progress;
        break;
      case 'backend-lost':
        // The active backend failed and nothing could take over: the model must be loaded again.
        this.modelState = 'error';
        this.modelError = data.error;
        this.backend = null;
        break;
      case 'backend-changed':
        this.backend = data.backend;
        // A switch during a job is told by the job itself (its engine-switch event): say it once.
        if (!data.inJob) this.backendChange = { backend: data.backend, reason: data.reason };
        this.modelState = 'ready';
        this.modelError = null;
        break;
      case 'ready':
      case 'recording-offer':
      case 'library-changed':
      case 'library-error':
        break;
    }
    this.events.emit(data);
    this.changed();
  }
}

/** For a component handed the app's worker client as a property: re-render it whenever what the client shows
 * changes (every event but the high-rate ones, every call's answer, a load's start and end). */
export class ClientUpdates extends UpdatesFrom<WorkerClient> {
  constructor(host: ReactiveControllerHost, current: () => WorkerClient | undefined) {
    super(host, current, (client, onChange) => client.onChange(onChange));
  }
}
