/**
 * The worker's model host: picks the execution provider and variant, loads the pipeline from a URL, runs one
 * transcription at a time with cancellation, and releases everything.  Errors leave with protocol error codes.
 */
import type { ErrorCode, EngineChoice, EngineInfo } from '../protocol.ts';
import {
  F16_VARIANTS,
  isVariant,
  type LoadProgress,
  type ModelManifest,
  type TranscribeEvent,
  type Transcript,
  type Variant,
} from './contract.ts';
import { OrtError } from './ort/runtime.ts';
import { createWebRuntime, ortGpuDevice, probeWebGpu } from './ort/web.ts';
import { GlmAsrPipeline, PipelineError } from './pipeline.ts';
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

export function toErrorInfo(err: unknown): { code: ErrorCode; detail: string } {
  if (err instanceof EngineError) return { code: err.code, detail: err.message };
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
  onDeviceLost: (detail: string) => void = () => {};

  get engine(): EngineInfo | null {
    return this.info;
  }

  async load(
    baseUrl: string,
    wanted: Variant | 'auto',
    choice: EngineChoice,
    onProgress: (p: LoadProgress) => void,
  ): Promise<EngineInfo> {
    // Replacing a model keeps ORT's GPUDevice (it is created once per worker and reused by the new sessions).
    await this.release(false);
    const t0 = performance.now();
    const probe = choice === 'wasm' ? null : await probeWebGpu();
    if (choice === 'webgpu' && !probe?.adapter)
      throw new EngineError('NO_ADAPTER', `WebGPU was requested but ${probe?.description ?? 'is unavailable'}`);
    const provider: 'webgpu' | 'wasm' = probe?.adapter ? 'webgpu' : 'wasm';
    const source = urlSource(baseUrl);
    let manifest: ModelManifest;
    try {
      manifest = JSON.parse(await source.text('manifest.json')) as ModelManifest;
    } catch (err) {
      throw new EngineError('MODEL_LOAD_FAILED', err instanceof Error ? err.message : String(err));
    }
    const have = Object.keys(manifest.variants).filter(isVariant);
    let variant: Variant;
    let note = provider === 'webgpu' ? (probe?.description ?? '') : (probe?.description ?? 'WASM requested');
    if (wanted === 'auto') {
      const key = provider === 'wasm' ? 'wasm' : probe?.shaderF16 ? 'webgpu-f16' : 'webgpu';
      const pick = PREFERENCE[key].find((v) => have.includes(v));
      if (!pick) throw new EngineError('MODEL_LOAD_FAILED', `${baseUrl} lists no variants`);
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
        throw new EngineError('MODEL_LOAD_FAILED', `${baseUrl} has no ${variant} variant (it has ${have.join(', ')})`);
    }
    const threads = Math.min(4, Math.max(1, navigator.hardwareConcurrency || 2));
    const runtime = createWebRuntime(provider, threads);
    try {
      this.pipeline = await GlmAsrPipeline.load(runtime, source, variant, { onProgress, manifest });
    } catch (err) {
      await runtime.release().catch(() => undefined);
      throw err;
    }
    if (provider === 'webgpu') {
      const device = await ortGpuDevice();
      void device?.lost.then((info: GPUDeviceLostInfo) => {
        if (this.pipeline?.runtime === runtime) {
          this.pipeline = null;
          this.info = null;
          this.onDeviceLost(`${info.reason}: ${info.message}`);
        }
      });
    }
    this.info = {
      provider,
      variant,
      modelId: manifest.model_id,
      adapter: note,
      shaderF16: probe?.shaderF16 ?? false,
      loadMs: performance.now() - t0,
    };
    return this.info;
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
