/**
 * The planner's memory model: the estimated peak of a model above an idle browser, as iOS counts it (the web process's
 * JavaScript and WASM heaps plus the GPU buffers the page holds: on iOS WebGPU's Metal allocations count against the
 * same jetsam limit, docs/platforms.md, Memory), and the budget it is held to on iPhone/iPad.
 *
 * One measured formula per backend and graph residency.  On WASM:
 *
 *   peak = fixed + perWeightByte × resident weights
 *
 * where the resident weights are every graph's bytes when the graphs are loaded together ('both'), and the larger
 * side, the audio encoder or the embedding with the decoder, when they are loaded one at a time (the low-memory mode,
 * src/core/asr/one-graph.ts).  On WebGPU the two sides are figured apart (`PeakFormula.sides`):
 *
 *   peak = fixed + largest weight + (encoder side + decoder side, or the larger one at a time)
 *   encoder side = perWeightByte × its weights + its run's buffers;  decoder side = perWeightByte × its weights
 *
 * A first visit (the variant is downloaded and loaded in one go) has its own factor.
 * Where each constant comes from: PEAK_FORMULA below and docs/measurements.md (The planner's memory model).  Pure and
 * isomorphic.
 */
import { GRAPHS, type DeviceBackend, type ModelManifest, type Variant } from './asr/contract.ts';
import { WINDOW_FRAMES } from './constants.ts';

/**
 * How the graphs of an on-device plan are resident: 'both' (encoder, embedding and decoder loaded together) or
 * 'one-at-a-time' (the low-memory mode: a file or finished recording is encoded window by window with only the
 * encoder loaded, which is released before the embedding and decoder load and decode every window).
 */
export type GraphResidency = 'both' | 'one-at-a-time';

/** Default estimated-peak budget on iPhone/iPad (iOS kills the tab at ~1.5 GB; docs/platforms.md, Memory). */
export const IOS_BUDGET_BYTES = 1.2e9;
/** A software WebGPU adapter may run variants smaller than this (the tiny test models are 0.5–4 MB). */
export const SOFTWARE_GPU_MAX_BYTES = 64 * 2 ** 20;

export interface PeakFormula {
  /** Bytes above an idle browser whatever the model (runtime, WASM heap, shaders, KV cache, activations). */
  fixedBytes: number;
  /** Peak bytes per byte of resident weights (a stored variant). */
  perWeightByte: number;
  /** The same on a first visit (downloaded and loaded in one go). */
  firstVisitPerWeightByte: number;
  /**
   * Formulas measured side by side (WebGPU): each side's peak is figured apart, the encoder side (its weights and its
   * run) and the decoder side (the embedding's and decoder's weights); the larger counts one graph at a time, their sum
   * with the graphs together, and these terms are added.  `largestInitializer`: the model's largest weight once more
   * (Chromium keeps the mapping of the staging buffer that uploaded it after the upload; `npm run bench -- staging`).
   * `encoderRunPerAttentionByte`: the audio encoder's run adds this many times one of its attention tensors
   * (`encoderAttentionBytes`) in GPU buffers above its weights (the tensors of a run that onnxruntime makes faster than
   * the GPU frees them).
   */
  sides?: { largestInitializer: boolean; encoderRunPerAttentionByte: number };
  /**
   * One graph at a time never estimated below the graphs together (WASM: the heap never shrinks, so the decoder's load
   * lands on the encoder's high-water mark; q4 on a first visit measured 3302 MB one at a time, 2808-2867 MB
   * together).  Only for 'one-at-a-time' rows.
   */
  notBelowBoth?: boolean;
}

/**
 * GPU bytes the full-size audio encoder's run adds above its weights, per byte of one of its attention tensors
 * (`encoderAttentionBytes`: 30 MB for 20 heads x 250 query rows x 1500 keys x 4).  Measured on SwiftShader, where
 * onnxruntime submits the whole run before the GPU has done any of it, so every tensor it makes and destroys in the run
 * is allocated at once: the most a slower GPU can hold (tools/probes/onnxruntime-1.31/encoder-buffers/, 2026-12-07: a
 * full-size q4 window, attention in 250-row blocks).
 */
export const ENCODER_RUN_PER_ATTENTION_BYTE = 32.5;

/**
 * The same in the low-memory mode, whose audio encoder has a WebGPU context of its own that submits its commands every
 * 4 dispatches (asr/residency.ts, LOW_MEMORY_ENCODER_PENDING_DISPATCHES): a tensor the run releases is reused soon, so
 * its run holds about one layer's working set.  Measured the same way side by side (2026-12-07, the same full-size q4
 * window, the run started after the load's staging buffers were gone): 246 MB above the weights at the run's peak with
 * 4 (196 MB with 1, 976 MB with onnxruntime's default of 16); 8.3 x the 30 MB attention tensor, rounded up.
 */
export const ENCODER_RUN_PER_ATTENTION_BYTE_LOW_MEMORY = 8.3;

/**
 * The formulas in use, each measured by `npm run bench -- memory` on the full-size random-weight model with the store
 * handing onnxruntime its pieces (piece-bytes.ts): WASM with the graphs together from q4f16 and q4 side by side in one
 * run; WASM one graph at a time from q4 (the WASM heap never shrinks, so the decoder's load lands on top of the
 * encoder's high-water mark: never estimated below the graphs together); WebGPU side by side (below).
 * docs/measurements.md, The planner's memory model, has the figures and commands.  Until 2026-12-07 every row was
 * 320 MB + 2 x (3.1 x on a first visit), measured when the store handed onnxruntime a whole copy of each file.
 */
const WEBGPU_SIDES = { largestInitializer: true, encoderRunPerAttentionByte: ENCODER_RUN_PER_ATTENTION_BYTE };
const WEBGPU_BOTH: PeakFormula = {
  fixedBytes: 320e6,
  perWeightByte: 1.088,
  firstVisitPerWeightByte: 1.088,
  sides: WEBGPU_SIDES,
};

export const PEAK_FORMULA: Record<DeviceBackend, Record<GraphResidency, PeakFormula>> = {
  // Measured on full-size q4 (docs/measurements.md, The planner's memory model): the decoder side one graph at a time
  // (embedding and decoder, 1410 MB) peaked at 2340 MB on a first visit = 320 MB + the 485.5 MB embedding's kept
  // staging mapping + 1.088 x 1410 MB; the encoder's run on SwiftShader added ENCODER_RUN_PER_ATTENTION_BYTE x its 30 MB
  // attention tensor above its 434 MB of weights.  The graphs together are the sum of the sides: in the stored load of
  // 2026-12-06 with the encoder's warm-up (980 MB renderer + 2764 MB GPU buffers: the weights and that run's 919 MB)
  // the renderer held 980 MB against the formula's 968 MB.  A first visit measured no higher than a stored load.
  webgpu: {
    both: WEBGPU_BOTH,
    // One graph at a time the encoder's run is the low-memory mode's (ENCODER_RUN_PER_ATTENTION_BYTE_LOW_MEMORY).
    'one-at-a-time': {
      ...WEBGPU_BOTH,
      sides: { ...WEBGPU_SIDES, encoderRunPerAttentionByte: ENCODER_RUN_PER_ATTENTION_BYTE_LOW_MEMORY },
    },
  },
  wasm: {
    // Measured side by side (2026-12-07, the store's pieces, `npm run bench -- memory`): q4f16 2360 MB stored and
    // 2542 MB on a first visit for its 1283 MB (320 MB + 1.590 x and 1.731 x), q4 2842 and 2867 MB for its 1845 MB
    // (1.367 x and 1.380 x); the larger of the two, rounded up.  Measured with q4f16's weights prepacked, which the
    // WASM backend no longer does (load.ts, PREPACK_FREE_ON_WASM: 127-244 MB less heap), so on the safe side for q4f16;
    // q8, WASM's first variant, was not measured in the browser (its heap: 1.10 x its weights, docs/measurements.md).
    both: { fixedBytes: 320e6, perWeightByte: 1.6, firstVisitPerWeightByte: 1.74 },
    // 3302 MB for q4's larger side (1410 MB), 320 MB + 2.12 x (a first visit; 3294 stored and 3333 first, 2.11-2.14 x,
    // before the store handed over its pieces); never below the graphs together.
    'one-at-a-time': {
      fixedBytes: 320e6,
      perWeightByte: 2.12,
      firstVisitPerWeightByte: 2.12,
      notBelowBoth: true,
    },
  },
};

/** A byte count read from a manifest (which comes from the network): a finite non-negative number, or null. */
export function manifestBytes(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : null;
}

/**
 * A graph's bytes as the manifest gives them.  The manifest comes from the network: a size that is not a finite
 * non-negative number counts as endless, so the estimate is over every budget rather than NaN (which no budget check
 * would catch).
 */
function graphBytes(manifest: ModelManifest, variant: Variant): Record<(typeof GRAPHS)[number], number> {
  const info = manifest.variants[variant];
  if (!info) throw new Error(`the manifest has no ${variant} variant`);
  const size = (g: (typeof GRAPHS)[number]) => manifestBytes(info.graphs?.[g]?.bytes) ?? Infinity;
  return {
    audio_encoder: size('audio_encoder'),
    embed_tokens: size('embed_tokens'),
    decoder_model_merged: size('decoder_model_merged'),
  };
}

/** Of graph sizes `b`, the bytes resident at the peak: every graph ('both'), or the larger side ('one-at-a-time'). */
function resident(b: Record<(typeof GRAPHS)[number], number>, graphs: GraphResidency): number {
  if (graphs === 'both') return b.audio_encoder + b.embed_tokens + b.decoder_model_merged;
  return Math.max(b.audio_encoder, b.embed_tokens + b.decoder_model_merged);
}

/**
 * Estimated peak memory of `variant` on `backend` with its graphs resident as `graphs`: the formula above.  Infinity
 * when the manifest's sizes are not numbers.
 */
export function estimatePeakBytes(
  manifest: ModelManifest,
  variant: Variant,
  backend: DeviceBackend,
  opts: { graphs?: GraphResidency; firstVisit?: boolean } = {},
): number {
  const graphs = opts.graphs ?? 'both';
  const f = PEAK_FORMULA[backend][graphs];
  const k = opts.firstVisit ? f.firstVisitPerWeightByte : f.perWeightByte;
  const b = graphBytes(manifest, variant);
  let peak: number;
  if (!f.sides) peak = f.fixedBytes + k * resident(b, graphs);
  else {
    const g = manifest.variants[variant]!.graphs;
    // A largest weight that is not a size within its graph's bytes counts as the whole graph (an upper bound), never
    // as nothing.
    const largest = (name: (typeof GRAPHS)[number]) => {
      const l = manifestBytes(g[name]?.largest_initializer?.bytes);
      return l !== null && l <= b[name] ? l : b[name];
    };
    const kept = f.sides.largestInitializer ? Math.max(...GRAPHS.map(largest)) : 0;
    const encoder = k * b.audio_encoder + f.sides.encoderRunPerAttentionByte * encoderAttentionBytes(manifest, variant);
    const decoder = k * (b.embed_tokens + b.decoder_model_merged);
    peak = f.fixedBytes + kept + (graphs === 'both' ? encoder + decoder : Math.max(encoder, decoder));
  }
  // One graph at a time never below the graphs together where the formula says so (WASM); 'both' rows never set it.
  if (f.notBelowBoth && graphs !== 'both')
    peak = Math.max(peak, estimatePeakBytes(manifest, variant, backend, { ...opts, graphs: 'both' }));
  return peak;
}

/**
 * The largest storage buffer onnxruntime-web's WebGPU backend keeps for reuse (its buffer cache's largest size class,
 * 1.31.1).  A released tensor over it is destroyed and the next one made anew, and a destroyed buffer stays allocated
 * until the GPU has run what was submitted with it: docs/onnxruntime-1.31.md, 2.8.
 */
export const WEBGPU_REUSED_BUFFER_MAX_BYTES = 160 * 2 ** 20;

/**
 * Bytes of one of the audio encoder's float32 attention tensors for a 30 s window: heads x query rows x keys x 4, with
 * 1500 positions after the encoder's stride-2 convolution.  Every variant's encoder holds one such tensor per block:
 * the float32 variants' scores and softmax, and the f16 variants' softmax cast to float32 and back (transformers'
 * eager attention takes the softmax in float32; whether onnxruntime's WebGPU backend drops that cast pair is not
 * known here, SwiftShader has no shader-f16).  The query rows are the manifest's `attention_query_rows` (250 since
 * 2026-12-07), or all 1500 for an encoder converted before.  Older manifests give no head count: Whisper's and
 * GLM-ASR's encoders have heads 64 wide (1280 / 20), so hidden / 64.  A manifest comes from the network: a field that
 * is not a positive whole number counts as absent.
 */
export function encoderAttentionBytes(manifest: ModelManifest, variant: Variant): number {
  const positions = WINDOW_FRAMES / 2;
  const whole = (n: unknown): number | null => (Number.isSafeInteger(n) && (n as number) > 0 ? (n as number) : null);
  const rows = whole(manifest.variants[variant]?.graphs?.audio_encoder?.attention_query_rows) ?? positions;
  const heads =
    whole(manifest.model?.audio_num_attention_heads) ??
    Math.max(1, Math.round((whole(manifest.model?.audio_hidden_size) ?? 64) / 64));
  return heads * Math.min(rows, positions) * positions * 4;
}
