/**
 * The f16 guard: GLM-ASR's audio path can overflow in half precision (FunASR warns of it; see docs/model.md), so an
 * f16 variant's audio features are checked for inf/NaN, and a window whose features hold any is encoded again with
 * the audio encoder of the variant's float32 twin (F32_TWIN: q4f16 → q4, fp16 → fp32), loaded on first need and
 * kept.  The browser stores only the planned variant, so the twin may come from another source (the network).
 * Isomorphic.
 */
import { F32_TWIN, type ModelManifest, type Variant } from './contract.ts';
import type { OrtRuntime, Session } from '../ort/runtime.ts';
import { PipelineError } from './errors.ts';
import { loadGraph, type ModelSource } from './load.ts';

function allFinite(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i] as number)) return false;
  return true;
}

export class F16Twin {
  private encoder: Promise<Session> | null = null;

  constructor(
    private readonly runtime: OrtRuntime,
    private readonly manifest: ModelManifest,
    /** The variant whose features are checked. */
    private readonly variant: Variant,
    /** Where the twin's audio encoder is read. */
    private readonly source: ModelSource,
  ) {}

  /**
   * `features` when all finite, else the window encoded again by the twin's encoder (`encode` with its session).
   * Returns the rows and the variant that gave them; PipelineError('NON_FINITE') when the twin is missing, cannot be
   * loaded, or overflows too.
   */
  async check(
    features: Float32Array,
    encode: (session: Session) => Promise<Float32Array>,
    signal?: AbortSignal,
  ): Promise<{ features: Float32Array; variant: Variant }> {
    if (allFinite(features)) return { features, variant: this.variant };
    const twin = F32_TWIN[this.variant];
    const what = `audio_encoder (${this.variant}) gave inf/NaN audio features`;
    if (!twin || !this.manifest.variants[twin])
      throw new PipelineError('NON_FINITE', `${what}, and the model has no float32 twin to re-encode with`);
    let session: Session;
    try {
      session = await (this.encoder ??= this.load(twin, signal));
    } catch (err) {
      this.encoder = null;
      throw new PipelineError(
        'NON_FINITE',
        `${what}; its float32 twin (${twin}) could not be loaded: ${err instanceof Error ? err.message : err}`,
      );
    }
    const again = await encode(session);
    if (!allFinite(again)) throw new PipelineError('NON_FINITE', `${what}, and so did its float32 twin (${twin})`);
    return { features: again, variant: twin };
  }

  private load(twin: Variant, signal?: AbortSignal): Promise<Session> {
    const bytes = this.manifest.variants[twin]!.graphs.audio_encoder.bytes;
    const progress = { done: 0, total: bytes, onProgress: () => {} };
    return loadGraph(this.runtime, this.source, this.manifest, twin, 'audio_encoder', progress, signal);
  }
}
