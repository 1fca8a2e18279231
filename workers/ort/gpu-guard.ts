/**
 * A WebGPU warm-up that must prove itself: run it inside `out-of-memory` and `validation` error scopes of the
 * GPUDevice onnxruntime created, with a time limit.  A captured GPU error or an overrun throws an OrtError, so the
 * model host moves to its next plan: a GPU that accepts the model and then fails must fail loudly at load, not mid-job
 * (docs/platforms.md, "Failing loudly").  An overrun destroys the device (a run stuck on it never returns otherwise).
 */
import { withTimeout } from '../../src/core/async.ts';
import { OrtError } from '../../src/core/ort/runtime.ts';
import { ortGpuDevice } from './web.ts';

export async function withGpuErrorScopes(run: () => Promise<void>, timeoutMs: number): Promise<void> {
  const device = await ortGpuDevice();
  device?.pushErrorScope('out-of-memory');
  device?.pushErrorScope('validation');
  let failure: unknown = null;
  try {
    await withTimeout(run(), timeoutMs, () => {
      // The stuck run would hold the runtime (and its release) forever: destroying the device ends it.
      device?.destroy();
      throw new OrtError('RUN_FAILED', `the GPU warm-up took longer than ${Math.round(timeoutMs / 1000)} s`);
    });
  } catch (err) {
    failure = err;
  }
  const validation = await device?.popErrorScope().catch(() => null);
  const oom = await device?.popErrorScope().catch(() => null);
  if (oom) throw new OrtError('OUT_OF_MEMORY', `the GPU ran out of memory during the warm-up: ${oom.message}`);
  if (validation) throw new OrtError('RUN_FAILED', `the GPU reported a validation error: ${validation.message}`);
  if (failure) throw failure;
}
