/**
 * The worker's model host.  It asks the planner (planner.ts) where to run from a probe of this device, the model's
 * manifest and the user's routing settings; starts that plan (the pipeline on WebGPU or WASM, confirmed by its
 * warm-up under GPU error scopes with a time limit, or the OpenAI-compatible server client); moves to the plan's
 * next engine when one fails to start; runs one transcription job at a time (job.ts), handing the remaining windows
 * of a job to the next engine when the current one fails mid-job; and releases everything.  Errors leave with
 * protocol error codes.
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
import { describeDevice, probeDevice, requestGpu, wasmThreadsPossible } from './device-probe.ts';
import { WorkerError } from './worker-error.ts';
import { runJob, type JobOptions, type JobResult } from '../../src/core/asr/job.ts';
import { ensureStored, fetchManifest } from '../model-store/model-files.ts';
import { withGpuErrorScopes } from '../ort/gpu-guard.ts';
import { OrtError } from '../../src/core/ort/runtime.ts';
import { createWebRuntime, ortGpuDevice } from '../ort/web.ts';
import { GlmAsrPipeline, PipelineError, type ModelSource } from '../../src/core/asr/pipeline.ts';
import { planEngine, wasmMissingOp, type DeviceProbe, type GpuProbe, type Plan } from '../../src/core/planner.ts';
import { RemoteTranscriber } from '../../src/core/remote/remote-transcriber.ts';
import { DownloadError } from '../model-store/downloader.ts';
import { ModelStore, modelId, StoreError } from '../model-store/model-store.ts';
import { FileEvicted, storedSource } from '../model-store/stored-source.ts';
import { urlSource } from '../../src/core/asr/url-source.ts';
import { BackendUnavailable, type WindowTranscriber } from '../../src/core/asr/window-transcriber.ts';

export { WorkerError as WorkerError };

const DEFAULT_WARMUP_TIMEOUT_MS = 120_000;

const UNAVAILABLE_CODE: Record<BackendUnavailable['reason'], ErrorCode> = {
  'device-lost': 'DEVICE_LOST_GPU',
  'out-of-memory': 'OUT_OF_MEMORY',
  'server-unreachable': 'SERVER_UNREACHABLE',
  'server-error': 'SERVER_ERROR',
  'runtime-error': 'INTERNAL',
};

export function toErrorInfo(err: unknown): { code: ErrorCode; detail: string } {
  if (err instanceof WorkerError) return { code: err.code, detail: err.message };
  if (err instanceof StoreError || err instanceof DownloadError) return { code: err.code, detail: err.message };
  if (err instanceof PipelineError) return { code: err.code, detail: err.message };
  if (err instanceof BackendUnavailable) return { code: UNAVAILABLE_CODE[err.reason], detail: err.message };
  if (err instanceof OrtError) return { code: err.code === 'RUN_FAILED' ? 'INTERNAL' : err.code, detail: err.message };
  if (err instanceof DOMException && err.name === 'AbortError') return { code: 'CANCELLED', detail: 'cancelled' };
  if (err instanceof RangeError && /allocation|memory/i.test(err.message))
    return { code: 'OUT_OF_MEMORY', detail: err.message };
  return { code: 'INTERNAL', detail: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}

/** A failure that moves to the next plan (anything else, like a paused download, ends the load). */
function isEngineFailure(err: unknown): boolean {
  return (
    err instanceof OrtError ||
    err instanceof BackendUnavailable ||
    (err instanceof PipelineError && err.code === 'WARMUP_FAILED') ||
    (err instanceof RangeError && /allocation|memory/i.test(err.message))
  );
}

function describePlan(p: Plan): string {
  if (p.backend === 'server') return 'the server';
  return `${p.backend === 'webgpu' ? 'WebGPU' : 'CPU (WASM)'}${p.variant ? ` ${p.variant}` : ''}`;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

interface Active {
  engine: WindowTranscriber;
  info: BackendInfo;
  pipeline: GlmAsrPipeline | null;
}

/** What a load decided, kept for failover. */
interface LoadContext {
  base: string;
  /** The variant the page asked for ('auto': the planner's). */
  variant: Variant | 'auto';
  manifest: ModelManifest | null;
  store: ModelStore | null;
  options: ModelLoadOptions;
  routing: RoutingSettings;
  adapter: string;
  shaderF16: boolean;
}

export class ModelHost {
  private active: Active | null = null;
  /** The plans after the active one, in order: where a failing engine's work goes. */
  private remaining: Plan[] = [];
  private context: LoadContext | null = null;
  private readonly running = new Map<number, AbortController>();
  private readonly store = new ModelStore();
  /** Windows finished on WebGPU in the running job (for the `loseGpuAfterWindows` test hook). */
  private gpuWindows = 0;
  private gpuLost: string | null = null;
  /** ORT's GPUDevice was lost or destroyed in this worker: it stays unusable, so WebGPU is never planned again. */
  private gpuGone: string | null = null;
  private switching: Promise<WindowTranscriber | null> | null = null;
  /** Bumped by every load and release: a failover started before one of them must not install its engine. */
  private epoch = 0;
  /** Aborts an idle failover when a load or release starts. */
  private switchAbort = new AbortController();
  /** The active on-device engine failed and nothing could take over (the UI leaves 'ready'). */
  onEngineLost: (code: ErrorCode, detail: string) => void = () => {};
  /** The active engine changed by failover (mid-job or idle). */
  onEngineChanged: (info: BackendInfo, reason: string, inJob: boolean) => void = () => {};

  /** The WebGPU adapter's answer, asked once per worker: the capability line and every load's plan share it. */
  private gpuAnswer: Promise<{ gpu: GpuProbe | null; description: string }> | null = null;

  private gpu(): Promise<{ gpu: GpuProbe | null; description: string }> {
    this.gpuAnswer ??= requestGpu().then(({ gpu, description }) => ({ gpu, description }));
    return this.gpuAnswer;
  }

  /** The planner's probe: the worker's one adapter answer, and no GPU once ORT's device was lost in this tab. */
  private async probe(): Promise<DeviceProbe> {
    const probe = await probeDevice(await this.gpu());
    if (this.gpuGone) {
      probe.gpu = null;
      probe.gpuUnavailableReason = `the GPU was lost earlier in this tab (${this.gpuGone}); reload the page to use it again`;
    }
    return probe;
  }

  /** What this device offers (the planner's probe) and its one-line summary, for the app's capability line. */
  async deviceReport(): Promise<DeviceReport> {
    const probe = await this.probe();
    return { probe, summary: describeDevice(probe) };
  }

  get engine(): BackendInfo | null {
    return this.active?.info ?? null;
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
    // Replacing a model keeps ORT's GPUDevice (it is created once per worker and reused by the new sessions).
    await this.release(false);
    const epoch = this.epoch;
    const t0 = performance.now();
    const stageMs: BackendInfo['stageMs'] = {};
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
    const settings = {
      where: routing.where,
      engine: choice,
      variant: wanted,
      server: routing.server ? { url: routing.server.url, consented: routing.server.consented } : null,
    };
    const plan = planEngine(probe, manifest, settings);
    if (plan.blocked)
      throw new WorkerError(plan.needsConsent ? 'CONSENT_REQUIRED' : 'NO_ENGINE', plan.reasons.join('; '));
    if (
      options.ifStored &&
      (!store || !manifest || plan.backend === 'server' || !probe.storedVariants?.includes(plan.variant!))
    )
      throw new WorkerError(
        'NOT_STORED',
        `${plan.variant ?? 'the model'} at revision ${manifest?.revision ?? '?'} is not complete in this browser's storage`,
      );
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
    const plans = [plan as Plan, ...plan.fallbacks];
    // An explicit WebGPU choice still keeps the CPU as its way out (nothing lost when the GPU fails).
    if (choice === 'webgpu' && !plans.some((p) => p.backend === 'wasm')) {
      const cpu = planEngine(probe, manifest, { ...settings, engine: 'wasm' });
      if (!cpu.blocked && cpu.backend === 'wasm') plans.push(cpu);
    }
    const failed: string[] = [];
    let firstError: unknown = null;
    while (plans.length) {
      const p = plans.shift()!;
      if (p.backend === 'server' && !routing.server?.consented) {
        if (!failed.length && p === plan)
          throw new WorkerError(
            'CONSENT_REQUIRED',
            `sending audio to ${routing.server?.url ?? 'a server'} needs your permission`,
          );
        continue;
      }
      try {
        const active = await this.start(p, progress, signal);
        stageMs[stage] = (stageMs[stage] ?? 0) + performance.now() - stageStart;
        active.info.reasons = [...p.reasons, ...failed];
        active.info.fallbacks = plans.map(describePlan);
        active.info.loadMs = performance.now() - t0;
        active.info.stageMs = stageMs;
        if (epoch !== this.epoch) {
          await active.pipeline?.release().catch(() => undefined);
          throw new DOMException('replaced by a newer load', 'AbortError');
        }
        this.active = active;
        this.remaining = plans;
        return active.info;
      } catch (err) {
        if (signal.aborted || !isEngineFailure(err)) throw err;
        firstError ??= err;
        failed.push(`${describePlan(p)} failed (${message(err)})`);
      }
    }
    if (firstError && failed.length > 1) {
      const { code } = toErrorInfo(firstError);
      throw new WorkerError(code, `every engine failed: ${failed.join('; ')}`);
    }
    throw firstError ?? new WorkerError('NO_ENGINE', 'no engine could start');
  }

  /** Start one plan: the server client, or the pipeline on WebGPU/WASM (warm-up included). */
  private async start(p: Plan, progress: (p: LoadProgress) => void, signal: AbortSignal): Promise<Active> {
    const ctx = this.context!;
    const info = (extra: Partial<BackendInfo>): BackendInfo => ({
      backend: p.backend,
      variant: p.variant,
      label: '',
      reasons: p.reasons,
      fallbacks: [],
      modelId: ctx.manifest?.model_id ?? '',
      adapter: ctx.adapter,
      shaderF16: ctx.shaderF16,
      loadMs: 0,
      storage: 'unsaved',
      stageMs: {},
      repaired: [],
      ...extra,
    });
    if (p.backend === 'server') {
      const server = ctx.routing.server!;
      progress({ stage: 'config', loaded: 0, total: 0, detail: server.url });
      const options = { ...(server.apiKey ? { apiKey: server.apiKey } : {}), signal };
      let remote = await RemoteTranscriber.connect(server.url, options);
      // The model the page asked for, when the server serves it under the app server's names (directory, variant).
      const dir = decodeURIComponent(new URL(ctx.base).pathname.split('/').filter(Boolean).pop() ?? '');
      const wanted = [ctx.variant !== 'auto' ? `${dir}@${ctx.variant}` : '', dir, ctx.manifest?.model_id ?? ''];
      const best = wanted.find((id) => id && remote.models.includes(id));
      if (best && best !== remote.model) remote = await RemoteTranscriber.connect(server.url, { ...options, model: best });
      return {
        engine: remote,
        pipeline: null,
        info: info({ label: remote.label, modelId: remote.model, storage: 'remote' }),
      };
    }
    const manifest = ctx.manifest;
    const variant = p.variant;
    if (!manifest || !variant) throw new WorkerError('MODEL_LOAD_FAILED', 'the model description is unavailable');
    const provider = p.backend;
    const threads = Math.min(4, Math.max(1, navigator.hardwareConcurrency || 2));
    // Multi-threaded WASM needs SharedArrayBuffer (cross-origin isolation); web.ts falls back to one thread.
    const wasmThreads = wasmThreadsPossible() ? threads : 1;
    const repaired: string[] = [];
    const key: ModelKey = { modelId: manifest.model_id, revision: manifest.revision, variant };
    const timeout = ctx.routing.warmUpTimeoutMs ?? DEFAULT_WARMUP_TIMEOUT_MS;
    for (let attempt = 0; ; attempt++) {
      let source: ModelSource;
      if (ctx.store) {
        const record = await ensureStored(ctx.store, key, ctx.base, manifest, ctx.options, progress, signal);
        source = storedSource(ctx.store, record, repaired);
      } else {
        source = urlSource(ctx.base);
      }
      const runtime = createWebRuntime(provider, threads);
      try {
        const pipeline = await GlmAsrPipeline.load(runtime, source, variant, {
          onProgress: progress,
          manifest,
          signal,
          // The device stores the planned variant only; an f16 overflow's float32 twin encoder comes from the network.
          twinSource: urlSource(ctx.base),
          ...(provider === 'webgpu'
            ? {
                guardWarmUp: (run: () => Promise<void>) =>
                  withGpuErrorScopes(run, timeout).catch((err: unknown) => {
                    // A GPU that failed its self-test is not planned again in this tab.
                    this.gpuGone ??= `the warm-up failed: ${message(err)}`;
                    throw err;
                  }),
              }
            : {}),
        });
        if (provider === 'webgpu') this.watchDevice(pipeline);
        const label =
          provider === 'webgpu'
            ? `WebGPU (${ctx.adapter || 'GPU'})`
            : `CPU (WASM, ${wasmThreads} thread${wasmThreads === 1 ? '' : 's'})`;
        return {
          engine: this.deviceEngine(pipeline, label),
          pipeline,
          info: info({ label, storage: ctx.store ? 'stored' : 'unsaved', repaired, decoder: pipeline.decoderInfo }),
        };
      } catch (err) {
        // A run stuck on a dead GPU would hold release() forever: wait a little, then move on.
        await Promise.race([runtime.release().catch(() => undefined), new Promise((r) => setTimeout(r, 5_000))]);
        // A stored file whose record was damaged is gone now: download it again, once.
        if (err instanceof FileEvicted && ctx.store && attempt === 0) {
          repaired.push(`${err.path} (downloaded again: ${err.message})`);
          continue;
        }
        throw err instanceof FileEvicted ? new WorkerError('INTEGRITY_FAILED', err.message) : err;
      }
    }
  }

  /** The pipeline as a job engine: GPU loss and out-of-memory become BackendUnavailable (failover). */
  private deviceEngine(pipeline: GlmAsrPipeline, label: string): WindowTranscriber {
    const kind = pipeline.kind;
    return {
      kind,
      label,
      transcribeWindow: async (samples, span, opts) => {
        if (kind === 'webgpu' && this.gpuLost)
          throw new BackendUnavailable('webgpu', 'device-lost', `the GPU device was lost (${this.gpuLost})`);
        let result;
        try {
          result = await pipeline.transcribeWindow(samples, span, opts);
        } catch (err) {
          if (opts.signal?.aborted) throw err;
          if (kind === 'webgpu' && this.gpuLost)
            throw new BackendUnavailable('webgpu', 'device-lost', `the GPU device was lost (${this.gpuLost})`, {
              cause: err,
            });
          if (err instanceof OrtError && err.code === 'DEVICE_LOST_GPU')
            throw new BackendUnavailable(kind, 'device-lost', err.message, { cause: err });
          if (err instanceof OrtError && err.code === 'OUT_OF_MEMORY')
            throw new BackendUnavailable(kind, 'out-of-memory', err.message, { cause: err });
          if (err instanceof RangeError && /allocation|memory/i.test(err.message))
            throw new BackendUnavailable(kind, 'out-of-memory', err.message, { cause: err });
          if (err instanceof OrtError && kind === 'webgpu')
            throw new BackendUnavailable(kind, 'runtime-error', err.message, { cause: err });
          throw err;
        }
        const lose = this.context?.routing.loseGpuAfterWindows;
        if (kind === 'webgpu' && lose && ++this.gpuWindows === lose) await this.loseGpu();
        return result;
      },
    };
  }

  /** Test hook: destroy ORT's GPUDevice, as a driver reset or an OS memory kill would. */
  private async loseGpu(): Promise<void> {
    const device = await ortGpuDevice();
    if (!device) return;
    device.destroy();
    const info = await device.lost;
    this.gpuLost ??= `${info.reason}: ${info.message || 'device destroyed'}`;
    this.gpuGone ??= this.gpuLost;
  }

  private watchDevice(pipeline: GlmAsrPipeline): void {
    this.gpuLost = null;
    void ortGpuDevice().then((device) =>
      device?.lost.then((info: GPUDeviceLostInfo) => {
        // An explicit release destroys the device on purpose; ORT keeps the device, so a lost one stays lost.
        if (info.reason !== 'destroyed' || this.active?.pipeline === pipeline)
          this.gpuGone ??= `${info.reason}: ${info.message || 'device lost'}`;
        if (this.active?.pipeline !== pipeline) return;
        this.gpuLost ??= `${info.reason}: ${info.message}`;
        // While a job runs, its next window moves it; when idle, move now so the next job just works.
        if (this.running.size === 0)
          void this.failover(
            new BackendUnavailable('webgpu', 'device-lost', `the GPU device was lost (${this.gpuLost})`),
          );
      }),
    );
  }

  /**
   * Replace the active engine with the next plan that starts (the server only with consent), or null when none
   * does.  One switch at a time: concurrent callers share it.  Only a release or a new load stops it (a cancelled
   * job stops waiting for it, job.ts, and the next job gets the engine).
   */
  private failover(failure: BackendUnavailable): Promise<WindowTranscriber | null> {
    this.switching ??= this.switchEngine(failure).finally(() => (this.switching = null));
    return this.switching;
  }

  private async switchEngine(failure: BackendUnavailable): Promise<WindowTranscriber | null> {
    const reason = failure.message;
    const failed = this.active;
    const ctx = this.context;
    const epoch = this.epoch;
    if (!ctx || !failed) return null;
    const signal = this.switchAbort.signal;
    // A failed on-device engine is released first (its memory is needed by the next one); a server engine is
    // stateless and stays usable for later jobs if nothing else starts.
    if (failed.pipeline) {
      this.active = null;
      await failed.pipeline.release().catch(() => undefined);
    }
    let why = reason;
    while (this.remaining.length && !signal.aborted && epoch === this.epoch) {
      let p = this.remaining.shift()!;
      if (p.backend === 'server' && !this.serverAllowed(ctx.routing)) continue;
      // The CPU can run the variant that is already stored (an f16 variant too): no second download mid-job.
      // Unless the WASM build lacks one of its ops (q4f16's 4-bit embedding): then the planned WASM variant.
      const stored = failed.info.variant;
      if (
        p.backend === 'wasm' &&
        stored &&
        failed.info.backend !== 'server' &&
        ctx.store &&
        ctx.manifest &&
        !wasmMissingOp(ctx.manifest, stored)
      )
        p = { ...p, variant: stored };
      try {
        const t0 = performance.now();
        const next = await this.start(p, () => undefined, signal);
        if (epoch !== this.epoch) {
          await next.pipeline?.release().catch(() => undefined);
          return null;
        }
        next.info.loadMs = performance.now() - t0;
        next.info.reasons = [`${failed.info.label} stopped: ${reason}`, ...p.reasons];
        next.info.fallbacks = this.remaining.map(describePlan);
        this.active = next;
        this.onEngineChanged(next.info, reason, this.running.size > 0);
        return next.engine;
      } catch (err) {
        if (signal.aborted) break;
        why = `${why}; ${describePlan(p)} failed too (${message(err)})`;
      }
    }
    if (epoch === this.epoch && failed.pipeline && !signal.aborted) this.onEngineLost(toErrorInfo(failure).code, why);
    return null;
  }

  /** Whether `routing` (the settings now) still lets audio go to its server. */
  private serverAllowed(routing: RoutingSettings): boolean {
    return routing.where !== 'device' && !!routing.server?.consented;
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
    routing?: RoutingSettings,
  ): Promise<JobResult> {
    const epoch = this.epoch;
    if (this.switching) await this.switching;
    // A release (or a new load) while the switch finished: this engine is no longer the one to use.
    if (epoch !== this.epoch) throw new WorkerError('NOT_LOADED', 'the model was released or replaced');
    // The settings as they are now (consent may have been revoked since the load).
    if (routing && this.context)
      this.context.routing = { ...this.context.routing, where: routing.where, server: routing.server };
    const active = this.active;
    if (!active) throw new WorkerError('NOT_LOADED', 'no model is loaded');
    if (active.info.backend === 'server' && this.context && !this.serverAllowed(this.context.routing)) {
      throw new WorkerError(
        'CONSENT_REQUIRED',
        `audio may no longer be sent to ${this.context.routing.server?.url ?? 'the server'}: load the model again`,
      );
    }
    const controller = new AbortController();
    this.running.set(requestId, controller);
    try {
      return await this.runOnModel(pcm, controller.signal, { onEvent, ...(maxNewTokens ? { maxNewTokens } : {}) });
    } finally {
      this.running.delete(requestId);
    }
  }

  private liveIds = 0;
  /** The model runs one job or live decode at a time: each waits for the previous one to settle. */
  private turn: Promise<unknown> = Promise.resolve();

  /**
   * A job on the engine active when its turn comes (a decode before it may have failed over), with failover; jobs
   * and live decodes take turns because they share the model's state.
   */
  private runOnModel(pcm: Float32Array, signal: AbortSignal, opts: Omit<JobOptions, 'signal' | 'next'> = {}) {
    const fn = async (): Promise<JobResult> => {
      const engine = this.active?.engine;
      if (!engine) throw new WorkerError('NOT_LOADED', 'no model is loaded');
      signal.throwIfAborted();
      this.gpuWindows = 0;
      return runJob(pcm, engine, { ...opts, signal, next: (failure) => this.failover(failure) });
    };
    const run = this.turn.then(fn, fn);
    this.turn = run.catch(() => undefined);
    return run;
  }

  /**
   * One live-dictation segment (≤ 30 s) on the active engine, with the same failover as a job.  Jobs and live
   * decodes take turns (they share the model's state): each waits for the one before it.
   */
  async decodeSegment(pcm: Float32Array, signal: AbortSignal): Promise<{ text: string; engine: string }> {
    if (this.switching) await this.switching;
    if (!this.active) throw new WorkerError('NOT_LOADED', 'no model is loaded');
    const id = -++this.liveIds;
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    this.running.set(id, controller);
    try {
      const r = await this.runOnModel(pcm, controller.signal);
      return { text: r.text, engine: r.windows[0]?.engine ?? this.active?.info.backend ?? '' };
    } finally {
      this.running.delete(id);
      signal.removeEventListener('abort', onAbort);
    }
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

  /** Whether a model is ready for live dictation. */
  get ready(): boolean {
    return this.active !== null;
  }

  cancel(requestId: number): void {
    this.running.get(requestId)?.abort(new DOMException('cancelled by the user', 'AbortError'));
  }

  /** Dispose the sessions; `destroyDevice` also destroys ORT's GPUDevice (an explicit release frees the GPU). */
  async release(destroyDevice = true): Promise<void> {
    for (const c of this.running.values()) c.abort(new DOMException('model released', 'AbortError'));
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
