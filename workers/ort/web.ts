/**
 * onnxruntime-web for the ASR worker, two builds, each its own module instance (its own `env`, WASM heap and thread
 * pool), both served from our own origin (never a CDN):
 *  - the WebGPU backend runs on the native WebGPU bundle (`onnxruntime-web/webgpu`, the 28.7 MB asyncify .wasm);
 *  - the WASM backend and Silero VAD run on the plain CPU bundle (`onnxruntime-web/wasm`, 14.8 MB), which has the CPU
 *    kernels the WebGPU bundle drops, GatherBlockQuantized among them (q4f16's 4-bit embedding), and is no slower
 *    without Asyncify's instrumentation (`npm run bench -- asr`, the WASM build rows: the tiny model decoded 0.9-2.6x
 *    as fast in three runs, its encoder in 0.5-0.8x the time; the full-size q8/q4 decoded 1.13x/0.98x, one run on a
 *    busy machine).
 * So a device on WASM never loads the asyncify build to run (the service worker still precaches both, for offline
 * use on either backend); a WebGPU device loads it for the model and the plain build for
 * the voice-activity model (which also keeps a GPU-loss failover's WASM instance warm).  The WebGPU adapter is probed
 * once per worker by ModelHost (../host/device-probe.ts, read by the planner); ORT requests its own device.  See
 * src/core/ort/runtime.ts.
 */

import * as ortGpu from 'onnxruntime-web/webgpu';
import * as ortCpu from 'onnxruntime-web/wasm';
import gpuWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import gpuMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import cpuWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import cpuMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import type { DeviceBackend } from '../../src/core/asr/contract.ts';
import { OrtRuntime, type OrtModule } from '../../src/core/ort/runtime.ts';
import { wasmThreadsPossible } from '../host/device-probe.ts';

interface Build {
  ort: OrtModule;
  wasm: string;
  mjs: string;
  configured: boolean;
}

const gpuBuild: Build = { ort: ortGpu as unknown as OrtModule, wasm: gpuWasmUrl, mjs: gpuMjsUrl, configured: false };
const cpuBuild: Build = { ort: ortCpu as unknown as OrtModule, wasm: cpuWasmUrl, mjs: cpuMjsUrl, configured: false };

function configure(build: Build, threads: number): OrtModule {
  const { env } = build.ort;
  // The non-bundled ORT builds (vite.config.ts resolves the "use-extern-wasm" condition) load their Emscripten module
  // from `mjs`: WASM threads then start that file, not a copy of this worker.
  env.wasm.wasmPaths = {
    wasm: new URL(build.wasm, self.location.href).href,
    mjs: new URL(build.mjs, self.location.href).href,
  };
  // Read once, when this build's WASM starts: the first runtime of a build sets its thread count.
  env.wasm.numThreads = wasmThreadsPossible() ? Math.max(1, threads) : 1;
  env.logLevel = 'error';
  build.configured = true;
  return build.ort;
}

/**
 * WASM threads a model load asks for: up to 4 (more adds little to a decode step and costs a worker each).  The VAD's
 * use of the plain build configures it with the same count, so a GPU-loss failover that reuses it gets what a WASM
 * load would have had.
 */
export function wasmThreadsWanted(): number {
  return Math.min(4, Math.max(1, navigator.hardwareConcurrency || 2));
}

export function createWebRuntime(backend: DeviceBackend, threads: number): OrtRuntime {
  const build = backend === 'webgpu' ? gpuBuild : cpuBuild;
  return new OrtRuntime(configure(build, threads), backend);
}

/**
 * The voice-activity model's runtime: the plain build (CPU only, whatever the model's backend), the WASM backend with
 * one intra-op thread, and its own run queue (a VAD frame does not queue behind a whole decode; on WASM it still waits
 * out the decoder step that holds the worker's thread).  It leaves the build's thread count to a WASM model load that
 * came first.
 */
export function createVadRuntime(): OrtRuntime {
  const ort = cpuBuild.configured ? cpuBuild.ort : configure(cpuBuild, wasmThreadsWanted());
  return new OrtRuntime(ort, 'wasm', { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

/** The GPUDevice ORT created (to destroy it on release), once a WebGPU session exists. */
export async function ortGpuDevice(): Promise<GPUDevice | undefined> {
  try {
    return (await ortGpu.env.webgpu.device) as GPUDevice | undefined;
  } catch {
    return undefined;
  }
}
