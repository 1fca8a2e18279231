/**
 * onnxruntime-web for the ASR worker: the native WebGPU bundle (which also carries the WASM CPU EP).  Its .wasm is
 * served from our own origin (never a CDN).  The WebGPU adapter is probed once per worker by ModelHost
 * (../host/device-probe.ts, read by the planner); ORT requests its own device.  See src/core/ort/runtime.ts.
 */

import * as ort from 'onnxruntime-web/webgpu';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import mjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import type { DeviceBackend } from '../../src/core/asr/contract.ts';
import { OrtRuntime, type OrtModule } from '../../src/core/ort/runtime.ts';
import { wasmThreadsPossible } from '../host/device-probe.ts';

let wasmConfigured = false;

function configureWasm(threads: number): void {
  // The non-bundled ORT build (vite.config.ts resolves the "use-extern-wasm" condition) loads its Emscripten module
  // from `mjs`: WASM threads then start that file, not a copy of this worker.
  ort.env.wasm.wasmPaths = {
    wasm: new URL(wasmUrl, self.location.href).href,
    mjs: new URL(mjsUrl, self.location.href).href,
  };
  ort.env.wasm.numThreads = wasmThreadsPossible() ? Math.max(1, threads) : 1;
  ort.env.logLevel = 'error';
  wasmConfigured = true;
}

export function createWebRuntime(backend: DeviceBackend, threads: number): OrtRuntime {
  configureWasm(threads);
  return new OrtRuntime(ort as unknown as OrtModule, backend);
}

/**
 * The voice-activity model's runtime: the same onnxruntime instance (one module owns it), the WASM backend with one
 * intra-op thread, and its own run queue (a VAD frame does not queue behind a whole decode; on WASM it still waits
 * out the decoder step that holds the worker's thread).  It leaves the WASM
 * thread count to the model's load when that came first (ORT reads it once, when its WASM starts).
 */
export function createVadRuntime(): OrtRuntime {
  if (!wasmConfigured) configureWasm(navigator.hardwareConcurrency || 1);
  return new OrtRuntime(ort as unknown as OrtModule, 'wasm', { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

/** The GPUDevice ORT created (to destroy it on release), once a WebGPU session exists. */
export async function ortGpuDevice(): Promise<GPUDevice | undefined> {
  try {
    return (await ort.env.webgpu.device) as GPUDevice | undefined;
  } catch {
    return undefined;
  }
}
