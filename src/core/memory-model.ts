/**
 * The planner's memory model: the estimated peak of loading a variant above an idle browser, and the budget it is
 * held to on iPhone/iPad.  `estimatePeakBytes` = RUNTIME_BYTES + WEIGHT_COPIES x the variant's graph bytes, the same
 * for both device backends; on a first visit (the variant is not stored yet: downloaded and loaded in one go)
 * FIRST_VISIT_COPIES instead.  Why this form, and the `npm run bench -- load` figures behind each constant:
 * docs/measurements.md (The planner's memory model).  Pure and isomorphic.
 */
import { GRAPHS, type DeviceBackend, type ModelManifest, type Variant } from './asr/contract.ts';

/** Default estimated-peak budget on iPhone/iPad (iOS kills the tab at ~1.5 GB; docs/platforms.md, Memory). */
export const IOS_BUDGET_BYTES = 1.2e9;
/** A software WebGPU adapter may run variants smaller than this (the tiny test models are 0.5–4 MB). */
export const SOFTWARE_GPU_MAX_BYTES = 64 * 2 ** 20;
/** Fixed memory of a load above an idle browser (measured on the tiny model; docs/measurements.md). */
export const RUNTIME_BYTES = 320e6;
/** How many times the weights are resident at the peak (docs/measurements.md). */
export const WEIGHT_COPIES = 2;
/**
 * The same on a first visit: downloaded into IndexedDB and loaded in one go.  `npm run bench -- load` (full-size
 * q4f16, Chromium WASM, 2026-11-27): 4831 MB peak above idle = 320 MB + 3.10 × 1454 MB (the download's buffers are
 * still resident when the load peaks).
 */
export const FIRST_VISIT_COPIES = 3.1;

/** Estimated peak memory of loading `variant` on `backend`: the formula above. */
export function estimatePeakBytes(
  manifest: ModelManifest,
  variant: Variant,
  backend: DeviceBackend,
  firstVisit = false,
): number {
  const info = manifest.variants[variant];
  if (!info) throw new Error(`the manifest has no ${variant} variant`);
  void backend; // same formula for both device backends (header)
  const weights = GRAPHS.reduce((sum, g) => sum + info.graphs[g].bytes, 0);
  return RUNTIME_BYTES + (firstVisit ? FIRST_VISIT_COPIES : WEIGHT_COPIES) * weights;
}
