/**
 * The worker's model host: what the worker entry (asr.worker.ts) calls to load, transcribe and release the model.
 * It holds the state the parts share: the active backend, the plans after it, the load's context, and an epoch that
 * every load and release bumps so that work started before one of them does not install its result.  The parts:
 * which plans to try and in what order (plan-runner.ts), starting one (backends.ts), the watch on the GPU device
 * (gpu-watch.ts), the model's turns (job-queue.ts) and the error codes (errors.ts).
 *
 * Live dictation's segments go where the active backend's `info.live` says (live-source.ts): to the
 * backend itself ('device'), to the server's client beside an on-device backend ('server': outside the model's
 * turns, so a file job on the device does not hold them up), or nowhere ('after-stop': the recordings module
 * starts no live session, and the finished recording is offered for a whole transcription).
 */
import type {
  DeviceReport,
  BackendChoice,
  BackendInfo,
  ErrorCode,
  ModelLoadOptions,
  RoutingSettings,
  StorageReport,
} from '../../src/core/protocol.ts';
import type { LoadProgress, ModelKey, ModelManifest, TranscribeEvent, Variant } from '../../src/core/asr/contract.ts';
import { runJob, type JobOptions, type JobResult } from '../../src/core/asr/job.ts';
import type { LiveSource, Plan } from '../../src/core/planner.ts';
import type { DeviceProbe, GpuProbe } from '../../src/core/device.ts';
import type { BackendUnavailable, WindowTranscriber } from '../../src/core/asr/window-transcriber.ts';
import type { GlmAsrPipeline } from '../../src/core/asr/pipeline.ts';
import { fetchManifest } from '../model-store/model-files.ts';
import { ModelStore, modelId } from '../model-store/model-store.ts';
import { ortGpuDevice } from '../ort/web.ts';
import { startBackend, type ActiveBackend, type LoadContext } from './backends.ts';
import { describeDevice, probeDevice, requestGpu } from './device-probe.ts';
import { errorMessage, toErrorInfo } from './errors.ts';
import { GpuWatch } from './gpu-watch.ts';
import { JobQueue } from './job-queue.ts';
import { describePlan, plansFor, serverAllowed, startFirst, startNext } from './plan-runner.ts';
import { WorkerError } from './worker-error.ts';

export { WorkerError } from './worker-error.ts';
export { toErrorInfo } from './errors.ts';

export class ModelHost {
  private active: ActiveBackend | null = null;
  /** The plans after the active one, in order: where a failing backend's work goes. */
  private remaining: Plan[] = [];
  private context: LoadContext | null = null;
  private readonly jobs = new JobQueue();
  private readonly store = new ModelStore();
  private readonly gpuWatch = new GpuWatch();
  private switching: Promise<WindowTranscriber | null> | null = null;
  /** Bumped by every load and release: a failover started before one of them must not install its backend. */
  private epoch = 0;
  /** Aborts an idle failover when a load or release starts. */
  private switchAbort = new AbortController();
  /** The active on-device backend failed and nothing could take over (the UI leaves 'ready'). */
  onBackendLost: (code: ErrorCode, detail: string) => void = () => {};
  /** The active backend changed by failover (mid-job or idle). */
  onBackendChanged: (info: BackendInfo, reason: string, inJob: boolean) => void = () => {};

  /** The WebGPU adapter's answer, asked once per worker: the capability line and every load's plan share it. */
  private gpuAnswer: Promise<{ gpu: GpuProbe | null; description: string }> | null = null;

  /** The page's `navigator.maxTouchPoints` (a worker has none), from the page's first message. */
  private maxTouchPoints: number | undefined;

  /** What only the page knows of the device (the `page-facts` notice); a value that is not a count is ignored. */
  pageFacts(facts: { maxTouchPoints: unknown }): void {
    const n = facts.maxTouchPoints;
    if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 1000) this.maxTouchPoints = n;
  }

  /** The planner's probe: the worker's one adapter answer, and no GPU once ORT's device was lost in this tab. */
  private async probe(): Promise<DeviceProbe> {
    this.gpuAnswer ??= requestGpu().then(({ gpu, description }) => ({ gpu, description }));
    const probe = await probeDevice(await this.gpuAnswer, { maxTouchPoints: this.maxTouchPoints });
    if (this.gpuWatch.gone) {
      probe.gpu = null;
      probe.gpuUnavailableReason = `the GPU was lost earlier in this tab (${this.gpuWatch.gone}); reload the page to use it again`;
    }
    return probe;
  }

  /** What this device offers (the planner's probe) and its one-line summary, for the app's capability line. */
  async deviceReport(): Promise<DeviceReport> {
    const probe = await this.probe();
    return { probe, summary: describeDevice(probe) };
  }

  async load(
    baseUrl: string,
    wanted: Variant | 'auto',
    choice: BackendChoice,
    options: ModelLoadOptions,
    routing: RoutingSettings,
    onProgress: (p: LoadProgress) => void,
    signal: AbortSignal,
  ): Promise<BackendInfo> {
    // Replacing a model releases every session first; onnxruntime-web 1.31 then destroys its GPUDevice and makes a new
    // one for the next model's sessions (gpu-watch.ts).
    await this.release(false);
    const epoch = this.epoch;
    const t0 = performance.now();
    const stages = stageClock(onProgress);
    const progress = stages.progress;
    const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
    const store = options.storage === 'store' ? this.store : null;
    store?.simulateQuota(options.quotaAfterBytes);
    progress({ stage: 'config', loaded: 0, total: 0, detail: base });
    const probe = await this.probe();
    let manifest: ModelManifest | null = null;
    if (routing.where !== 'server') {
      try {
        manifest = await fetchManifest(base, store, wanted);
      } catch (err) {
        // Automatic with a server the user allowed: the server can still transcribe.  Otherwise say what failed.
        if (routing.where === 'device' || !routing.server?.consented) throw err;
      }
    }
    // A variant not stored yet is a first visit (download and load in one go: a higher peak, planner.ts).
    if (manifest && store) {
      const stored = await store.models().catch(() => []);
      probe.storedVariants = stored
        .filter((m) => m.complete && m.key.modelId === manifest.model_id && m.key.revision === manifest.revision)
        .map((m) => m.key.variant);
    }
    const request = { wanted, choice, routing, ifStored: !!options.ifStored, usesStore: !!store };
    const plans = plansFor(probe, manifest, request);
    const gpu = probe.gpu;
    this.context = {
      base,
      variant: wanted,
      manifest,
      store,
      options,
      routing,
      adapter: gpu ? [gpu.vendor, gpu.architecture, gpu.description].filter(Boolean).join(' ') : '',
      shaderF16: gpu?.shaderF16 ?? false,
    };
    const { started, plan, failed, rest } = await startFirst(
      plans,
      routing,
      (p) => this.start(p, progress, signal),
      signal,
    );
    started.info.reasons = withLiveNote([...plan.reasons, ...failed], started);
    started.info.fallbacks = rest.map(describePlan);
    started.info.loadMs = performance.now() - t0;
    started.info.stageMs = stages.end();
    if (epoch !== this.epoch) {
      await started.pipeline?.release().catch(() => undefined);
      throw new DOMException('replaced by a newer load', 'AbortError');
    }
    this.active = started;
    this.remaining = rest;
    return started.info;
  }

  /** Start one plan with this load's context; a WebGPU pipeline is watched for the loss of its device. */
  private async start(p: Plan, progress: (p: LoadProgress) => void, signal: AbortSignal): Promise<ActiveBackend> {
    const started = await startBackend(p, this.context!, this.gpuWatch, progress, signal);
    const pipeline = started.pipeline;
    if (pipeline && p.backend === 'webgpu') {
      this.watchGpu(pipeline);
      // One graph at a time: a swap that released the last session ended onnxruntime's device (not a loss); the
      // next side runs on a new device, watched from then on.
      pipeline.onResident = () => this.watchGpu(pipeline);
    }
    return started;
  }

  /** Watch the GPUDevice `pipeline` runs on now, until a swap of its graphs ends that device (pipeline.emptied). */
  private watchGpu(pipeline: GlmAsrPipeline): void {
    const emptied = pipeline.emptied;
    this.gpuWatch.watch(
      () => this.active?.pipeline === pipeline && pipeline.emptied === emptied,
      (failure) => {
        // While a job runs, its next window moves it; when idle, move now so the next job just works.
        if (this.jobs.idle) void this.failover(failure);
      },
    );
  }

  /**
   * Replace the active backend with the next plan that starts (the server only with consent), or null when none
   * does.  One switch at a time: concurrent callers share it.  Only a release or a new load stops it (a cancelled
   * job stops waiting for it, job.ts, and the next job gets the backend).
   */
  private failover(failure: BackendUnavailable): Promise<WindowTranscriber | null> {
    this.switching ??= this.switchBackend(failure).finally(() => (this.switching = null));
    return this.switching;
  }

  private async switchBackend(failure: BackendUnavailable): Promise<WindowTranscriber | null> {
    const reason = failure.message;
    const failed = this.active;
    const ctx = this.context;
    const epoch = this.epoch;
    if (!ctx || !failed) return null;
    const signal = this.switchAbort.signal;
    // A failed on-device backend is released first (its memory is needed by the next one); the server is
    // stateless and stays usable for later jobs if nothing else starts.
    if (failed.pipeline) {
      this.active = null;
      await failed.pipeline.release().catch(() => undefined);
    }
    const start = async (p: Plan) => {
      const t0 = performance.now();
      const started = await this.start(p, () => undefined, signal);
      started.info.loadMs = performance.now() - t0;
      return started;
    };
    const current = () => epoch === this.epoch;
    const { started, plan, why } = await startNext(this.remaining, failed, ctx, reason, start, signal, current);
    if (started && plan) {
      started.info.reasons = withLiveNote([`${failed.info.label} stopped: ${reason}`, ...plan.reasons], started);
      started.info.fallbacks = this.remaining.map(describePlan);
      this.active = started;
      this.onBackendChanged(started.info, reason, !this.jobs.idle);
      return started.transcriber;
    }
    if (current() && failed.pipeline && !signal.aborted) this.onBackendLost(toErrorInfo(failure).code, why);
    return null;
  }

  /** What is stored, and how much room the browser gives this site. */
  async storageReport(): Promise<StorageReport> {
    const estimate = await navigator.storage?.estimate?.().catch(() => undefined);
    const base = { usage: estimate?.usage ?? null, quota: estimate?.quota ?? null };
    try {
      return { ...base, models: await this.store.list() };
    } catch (err) {
      return { ...base, models: [], unavailable: errorMessage(err) };
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
    routing?: RoutingSettings,
  ): Promise<JobResult> {
    const epoch = this.epoch;
    if (this.switching) await this.switching;
    // A release (or a new load) while the switch finished: this backend is no longer the one to use.
    if (epoch !== this.epoch) throw new WorkerError('NOT_LOADED', 'the model was released or replaced');
    // The settings as they are now (consent may have been revoked since the load).
    if (routing && this.context)
      this.context.routing = { ...this.context.routing, where: routing.where, server: routing.server };
    const active = this.active;
    if (!active) throw new WorkerError('NOT_LOADED', 'no model is loaded');
    if (active.info.backend === 'server' && this.context && !serverAllowed(this.context.routing)) {
      throw new WorkerError(
        'CONSENT_REQUIRED',
        `audio may no longer be sent to ${this.context.routing.server?.url ?? 'the server'}: load the model again`,
      );
    }
    const opts = { onEvent, ...(maxNewTokens ? { maxNewTokens } : {}) };
    return this.jobs.run(requestId, (signal) => this.runOnActive(pcm, signal, opts));
  }

  /** A job on the backend active when its turn comes (a decode before it may have failed over), with failover. */
  private async runOnActive(
    pcm: Float32Array,
    signal: AbortSignal,
    opts: Omit<JobOptions, 'signal' | 'next'> = {},
  ): Promise<JobResult> {
    const transcriber = this.active?.transcriber;
    if (!transcriber) throw new WorkerError('NOT_LOADED', 'no model is loaded');
    signal.throwIfAborted();
    this.gpuWatch.jobStarted();
    return runJob(pcm, transcriber, { ...opts, signal, next: (failure) => this.failover(failure) });
  }

  /**
   * One live-dictation segment (≤ 30 s) on the active backend, with the same failover as a job.  Jobs and live
   * decodes take turns (they share the model's state): each waits for the one before it.
   */
  async decodeSegment(pcm: Float32Array, signal: AbortSignal): Promise<{ text: string; backend: string }> {
    if (this.switching) await this.switching;
    if (!this.active) throw new WorkerError('NOT_LOADED', 'no model is loaded');
    const server = this.active.info.live === 'server' ? this.active.liveTranscriber : undefined;
    if (server) {
      // Live text from the server beside the device's model: not one of the model's turns (no shared state).
      if (this.context && !serverAllowed(this.context.routing))
        throw new WorkerError(
          'CONSENT_REQUIRED',
          `audio may no longer be sent to ${this.context.routing.server?.url ?? 'the server'}: load the model again`,
        );
      const r = await runJob(pcm, server, { signal });
      return { text: r.text, backend: r.windows[0]?.engine ?? 'server' };
    }
    if (this.active.info.live === 'after-stop')
      throw new WorkerError('NOT_LOADED', 'the model is held one graph at a time: recordings are transcribed at Stop');
    const r = await this.jobs.run(this.jobs.liveId(), (s) => this.runOnActive(pcm, s), signal);
    return { text: r.text, backend: r.windows[0]?.engine ?? this.active?.info.backend ?? '' };
  }

  /** The loaded model as a library document names it (null when none is loaded). */
  get identity(): { id: string; revision: string; variant: string | null } | null {
    const active = this.active;
    if (!active) return null;
    return {
      id: active.info.modelId,
      revision: this.context?.manifest?.revision ?? '',
      variant: active.info.variant,
    };
  }

  /** Whether a model is ready (for files, and for live dictation as `liveSource` says). */
  get ready(): boolean {
    return this.active !== null;
  }

  /** Where live dictation's text comes from with the active backend (null when none is loaded). */
  get liveSource(): LiveSource | null {
    return this.active?.info.live ?? null;
  }

  cancel(requestId: number): void {
    this.jobs.cancel(requestId, new DOMException('cancelled by the user', 'AbortError'));
  }

  /** Dispose the sessions; `destroyDevice` also destroys ORT's GPUDevice (an explicit release frees the GPU). */
  async release(destroyDevice = true): Promise<void> {
    this.jobs.cancelAll(new DOMException('model released', 'AbortError'));
    this.epoch++;
    this.switchAbort.abort(new DOMException('model released', 'AbortError'));
    this.switchAbort = new AbortController();
    await this.switching?.catch(() => undefined);
    const active = this.active;
    this.active = null;
    this.remaining = [];
    const wasGpu = active?.info.backend === 'webgpu';
    if (active?.pipeline) await active.pipeline.release().catch(() => undefined);
    if (wasGpu && destroyDevice) (await ortGpuDevice())?.destroy();
  }
}

/** A started backend's reasons with its note on live dictation, unless the planner's reasons already say it. */
function withLiveNote(reasons: string[], started: ActiveBackend): string[] {
  const note = started.liveNote;
  return note && !reasons.some((r) => r.startsWith('live dictation:')) ? [...reasons, note] : reasons;
}

/** Milliseconds per load stage, from the progress events that pass through `progress` (the clock stops at `end`). */
function stageClock(onProgress: (p: LoadProgress) => void) {
  const stageMs: BackendInfo['stageMs'] = {};
  let stage: LoadProgress['stage'] = 'config';
  let stageStart = performance.now();
  const lap = (now: number) => (stageMs[stage] = (stageMs[stage] ?? 0) + now - stageStart);
  return {
    progress: (p: LoadProgress) => {
      if (p.stage !== stage) {
        const now = performance.now();
        lap(now);
        stage = p.stage;
        stageStart = now;
      }
      onProgress(p);
    },
    end: () => {
      lap(performance.now());
      return stageMs;
    },
  };
}
