/**
 * Which variant's audio encoder a pipeline on onnxruntime-node's CPU runs (the server, `npm run eval`'s node engine).
 *
 * The encoder's matrix products have 1500 rows per 30 s window (it attends the whole padded window: docs/model.md).
 * q8's are DynamicQuantizeMatMul / MatMulIntegerToFloat: int8 activations times int8 weights through onnxruntime's
 * int8 GEMM (AVX-512 VNNI, AVX2 or NEON dot products).  q4's MatMulNBits computes them either in float32 (accuracy
 * level 0: a float32 GEMM) or, at level 4, with an int8 kernel built for a few rows (a decode step), not 1500; and
 * q8's weights are closer to fp32 (docs/model.md).  So a CPU pipeline of q4 takes q8's encoder when the model has it
 * (`npm run bench -- cpu` measures the three side by side).  The decoder stays q4: one row per step, where level 4's
 * int8 kernel is fastest and reads half q8's bytes.  Browsers run each variant whole (the WASM build computes
 * MatMulNBits in float32 at any level, and WebGPU has no int8 GEMM for MatMulInteger).
 */
import type { ModelManifest, Variant } from './contract.ts';

export function cpuEncoderVariant(manifest: ModelManifest, variant: Variant): Variant {
  return variant === 'q4' && manifest.variants.q8 ? 'q8' : variant;
}
