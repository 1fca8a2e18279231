/**
 * Which variant's audio encoder a pipeline on onnxruntime-node's CPU runs (the server, `npm run eval`'s node engine).
 *
 * The encoder's matrix products have 1500 rows per 30 s window (it attends the whole padded window: docs/model.md).
 * q8's encoder stores its weights as int8 (tools/glmasr_onnx/quantize.py `int8_weights`), so onnxruntime runs them
 * as DynamicQuantizeMatMul on its U8S8 int8 GEMM.  q4's MatMulNBits computes them either in float32 (accuracy level
 * 0: a float32 GEMM) or, at level 4, with an int8 kernel built for a few rows (a decode step), not 1500; and q8's
 * weights are closer to fp32 (docs/model.md).  So a CPU pipeline of q4 takes q8's encoder when the model has it and
 * the CPU has int8 dot products without saturation (`int8Dot`: VNNI on x86, dot products on ARM; server/cpu-features.ts);
 * `npm run bench -- cpu` measures the configurations side by side.  The decoder stays q4: one row per step, where
 * level 4's int8 kernel is fast and reads 63% of q8's bytes.  (The server itself prefers q8 whole on such a CPU, whose
 * decoder's int8 weights also take a prompt's ~390 rows on that GEMM: server/api/models.ts `cpuVariantOrder`; this
 * composition is what an explicit q4 gets there.)  Browsers run each variant whole.
 */
import type { ModelManifest, Variant } from './contract.ts';

export function cpuEncoderVariant(manifest: ModelManifest, variant: Variant, int8Dot: boolean): Variant {
  return variant === 'q4' && int8Dot && manifest.variants.q8 ? 'q8' : variant;
}
