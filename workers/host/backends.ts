/**
 * Starting one plan: the window transcriber a job runs on, built for the plan's backend.  For 'server' that is the
 * OpenAI-compatible client, connected to the model the page asked for when the server has it.  For 'webgpu' and
 * 'wasm' it is the pipeline, loaded from this browser's storage (downloaded or resumed first) or from the network,
 * and proven by its warm-up (on WebGPU inside GPU error scopes with a time limit); a stored file whose record is
 * damaged is downloaded again once.  The pipeline is wrapped so that a lost GPU or an out-of-memory mid-job becomes
 * `BackendUnavailable`, which moves the job's remaining windows to the next backend.
 *
 * A plan with `graphs: 'one-at-a-time'` (or a load with the `graphs=one` test knob) loads the pipeline in the
 * low-memory mode: the audio encoder alone resident between jobs, and a job's windows all encoded before the encoder
 * is released and the embedding and decoder loaded (src/core/asr/one-graph.ts).  Its source must be read again at
 * every swap: the stored source reads IndexedDB again; without storage (`storage: 'memory'`) the network source
 * downloads the graph again.
 *
 * Live dictation follows the plan's `live` (live-source.ts, in `BackendInfo.live`): 'device' decodes
 * live segments on this backend; 'server' (one graph at a time, Automatic with a consented server) connects the
 * server's client too, as `ActiveBackend.liveTranscriber`, so that live segments go there while files stay on the
 * device (a server that does not answer at load leaves 'after-stop', with a reason); 'after-stop' decodes nothing
 * while recording.
 */
import type { DeviceBackend, LoadProgress, ModelKey, ModelManifest, Variant } from '../../src/core/asr/contract.ts';
import type { BackendInfo, ModelLoadOptions, RoutingSettings } from '../../src/core/protocol.ts';
import { GlmAsrPipeline, type ModelSource, type Residency } from '../../src/core/asr/pipeline.ts';
import { isPhased, type JobWindow, type PhasedTranscriber } from '../../src/core/asr/job.ts';
import { OneGraphTranscriber } from '../../src/core/asr/one-graph.ts';
import type { Plan } from '../../src/core/planner.ts';
import { RemoteTranscriber } from '../../src/core/remote/remote-transcriber.ts';
import { urlSource } from '../../src/core/asr/url-source.ts';
import type { WindowTranscriber } from '../../src/core/asr/window-transcriber.ts';
import { withTimeout } from '../../src/core/async.ts';
import { ensureStored } from '../model-store/model-files.ts';
import type { ModelStore } from '../model-store/model-store.ts';
import { FileEvicted, storedSource } from '../model-store/stored-source.ts';
import { withGpuErrorScopes } from '../ort/gpu-guard.ts';
import { createWebRuntime, wasmThreadsWanted } from '../ort/web.ts';
import { wasmThreadsPossible } from './device-probe.ts';
import { errorMessage, unavailableOrSelf } from './errors.ts';
import { liveSource } from './live-source.ts';
import type { GpuWatch } from './gpu-watch.ts';
import { WorkerError } from './worker-error.ts';

const DEFAULT_WARMUP_TIMEOUT_MS = 120_000;
/** How long a failed load waits for its runtime's release (a run stuck on a dead GPU never lets it finish). */
const RELEASE_WAIT_MS = 5_000;

/** What a load decided, kept for failover. */
export interface LoadContext {
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

/** A started plan: what jobs run on, what the UI shows, and the pipeline to release (null for the server). */
export interface ActiveBackend {
  transcriber: WindowTranscriber;
  info: BackendInfo;
  pipeline: GlmAsrPipeline | null;
  /** Where live segments go when not to `transcriber`: the server's client, with `info.live` 'server' on a device. */
  liveTranscriber?: WindowTranscriber;
  /** A sentence for the reasons about where live text comes from, when the planner's reasons do not say it. */
  liveNote?: string;
}

/** Start one plan: the server client, or the pipeline on WebGPU/WASM (warm-up included). */
export async function startBackend(
  plan: Plan,
  ctx: LoadContext,
  gpu: GpuWatch,
  progress: (p: LoadProgress) => void,
  signal: AbortSignal,
): Promise<ActiveBackend> {
  const info = (extra: Partial<BackendInfo>): BackendInfo => ({
    backend: plan.backend,
    variant: plan.variant,
    label: '',
    reasons: plan.reasons,
    fallbacks: [],
    modelId: ctx.manifest?.model_id ?? '',
    adapter: ctx.adapter,
    shaderF16: ctx.shaderF16,
    loadMs: 0,
    storage: 'unsaved',
    stageMs: {},
    repaired: [],
    live: 'device',
    ...extra,
  });
  if (plan.backend === 'server') {
    const remote = await connectServer(ctx, progress, signal);
    return {
      transcriber: remote,
      pipeline: null,
      info: info({ label: remote.label, modelId: remote.model, storage: 'remote', live: 'server' }),
    };
  }
  const residency: Residency =
    plan.graphs === 'one-at-a-time' || ctx.options.graphs === 'one-at-a-time' ? 'one-at-a-time' : 'both';
  const loaded = await loadPipeline(plan.backend, plan.variant, residency, ctx, gpu, progress, signal);
  const { pipeline, repaired, label } = loaded;
  const windows = residency === 'one-at-a-time' ? new OneGraphTranscriber(pipeline, label) : null;
  const live = await liveFor(plan, residency, ctx, progress, signal).catch(async (err: unknown) => {
    await pipeline.release().catch(() => undefined);
    throw err;
  });
  return {
    transcriber: deviceTranscriber(windows ?? pipeline.asTranscriber(label), gpu, ctx),
    pipeline,
    info: info({
      label,
      storage: ctx.store ? 'stored' : 'unsaved',
      repaired,
      decoder: pipeline.decoderInfo,
      live: live.source,
      ...(live.remote ? { liveServer: ctx.routing.server?.url ?? '' } : {}),
    }),
    ...(live.remote ? { liveTranscriber: live.remote } : {}),
    ...(live.note ? { liveNote: live.note } : {}),
  };
}

/**
 * Where an on-device plan's live text comes from, with the server's client when that is the server.  A server that
 * does not answer now leaves the recordings to be transcribed at Stop (said in `note`); only a cancelled load fails.
 */
async function liveFor(
  plan: Plan,
  residency: Residency,
  ctx: LoadContext,
  progress: (p: LoadProgress) => void,
  signal: AbortSignal,
): Promise<{ source: BackendInfo['live']; remote?: RemoteTranscriber; note?: string }> {
  const source = liveSource(plan, residency, ctx.routing);
  if (source === 'device') return { source };
  const atStop = 'live dictation: the recording is kept and transcribed on this device when you press Stop';
  if (source === 'after-stop') return { source, note: atStop };
  try {
    const remote = await connectServer(ctx, progress, signal);
    return {
      source,
      remote,
      note: `live dictation: the text comes from the server ${ctx.routing.server?.url ?? ''} as you speak`,
    };
  } catch (err) {
    if (signal.aborted) throw err;
    return { source: 'after-stop', note: `${atStop} (the server did not answer: ${errorMessage(err)})` };
  }
}

/** The server's client, on the model the page asked for when the server serves it under the app server's names. */
async function connectServer(
  ctx: LoadContext,
  progress: (p: LoadProgress) => void,
  signal: AbortSignal,
): Promise<RemoteTranscriber> {
  const server = ctx.routing.server!;
  progress({ stage: 'config', loaded: 0, total: 0, detail: server.url });
  const options = { ...(server.apiKey ? { apiKey: server.apiKey } : {}), signal };
  const remote = await RemoteTranscriber.connect(server.url, options);
  // The app server names a model by its directory, and a variant of it as directory@variant.
  const dir = decodeURIComponent(new URL(ctx.base).pathname.split('/').filter(Boolean).pop() ?? '');
  const wanted = [ctx.variant !== 'auto' ? `${dir}@${ctx.variant}` : '', dir, ctx.manifest?.model_id ?? ''];
  const best = wanted.find((id) => id && remote.models.includes(id));
  if (best && best !== remote.model) return RemoteTranscriber.connect(server.url, { ...options, model: best });
  return remote;
}

/** The pipeline for a device plan, loaded and warmed up, with the stored pieces it repaired and its UI label. */
async function loadPipeline(
  backend: DeviceBackend,
  variant: Variant | null,
  residency: Residency,
  ctx: LoadContext,
  gpu: GpuWatch,
  progress: (p: LoadProgress) => void,
  signal: AbortSignal,
): Promise<{ pipeline: GlmAsrPipeline; repaired: string[]; label: string }> {
  const manifest = ctx.manifest;
  if (!manifest || !variant) throw new WorkerError('MODEL_LOAD_FAILED', 'the model description is unavailable');
  const threads = wasmThreadsWanted();
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
    const runtime = createWebRuntime(backend, threads);
    try {
      const pipeline = await GlmAsrPipeline.load(runtime, source, variant, {
        onProgress: progress,
        manifest,
        signal,
        residency,
        // The device stores the planned variant only; an f16 overflow's float32 twin encoder comes from the network.
        twinSource: urlSource(ctx.base),
        ...(backend === 'webgpu'
          ? {
              guardWarmUp: (run: () => Promise<void>) =>
                withGpuErrorScopes(run, timeout).catch((err: unknown) => {
                  // A GPU that failed its self-test is not planned again in this tab.
                  gpu.markGone(`the warm-up failed: ${errorMessage(err)}`);
                  throw err;
                }),
            }
          : {}),
      });
      const label =
        backend === 'webgpu'
          ? `WebGPU (${ctx.adapter || 'GPU'})`
          : `CPU (WASM, ${wasmThreads} thread${wasmThreads === 1 ? '' : 's'})`;
      return { pipeline, repaired, label };
    } catch (err) {
      // A run stuck on a dead GPU would hold release() forever: wait a little, then move on.
      await withTimeout(
        runtime.release().catch(() => undefined),
        RELEASE_WAIT_MS,
        () => undefined,
      );
      // A stored file whose record was damaged is gone now: download it again, once.
      if (err instanceof FileEvicted && ctx.store && attempt === 0) {
        repaired.push(`${err.path} (downloaded again: ${err.message})`);
        continue;
      }
      throw err instanceof FileEvicted ? new WorkerError('INTEGRITY_FAILED', err.message) : err;
    }
  }
}

/**
 * The pipeline's window transcriber (a phased one in the low-memory mode) as the job runs it: GPU loss and
 * out-of-memory become BackendUnavailable (failover), in a window or in a phase (encoding every window, a swap).
 */
function deviceTranscriber(inner: WindowTranscriber, gpu: GpuWatch, ctx: LoadContext): WindowTranscriber {
  const backend = inner.backend;
  const onGpu = backend === 'webgpu';
  const guarded = async <R>(signal: AbortSignal | undefined, work: () => Promise<R>): Promise<R> => {
    if (onGpu && gpu.isLost) throw gpu.lostError();
    try {
      return await work();
    } catch (err) {
      if (signal?.aborted) throw err;
      if (onGpu && gpu.isLost) throw gpu.lostError(err);
      throw unavailableOrSelf(err, backend);
    }
  };
  const transcriber: WindowTranscriber = {
    backend,
    label: inner.label,
    transcribeWindow: async (samples, span, opts) => {
      const result = await guarded(opts.signal, () => inner.transcribeWindow(samples, span, opts));
      if (onGpu) await gpu.windowDone(ctx.routing.loseGpuAfterWindows);
      return result;
    },
  };
  if (!isPhased(inner)) return transcriber;
  const phased: PhasedTranscriber = {
    ...transcriber,
    beginJob: (windows: readonly JobWindow[], opts) => guarded(opts.signal, () => inner.beginJob(windows, opts)),
    endJob: () => inner.endJob(),
  };
  return phased;
}
