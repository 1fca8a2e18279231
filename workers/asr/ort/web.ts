/**
 * onnxruntime-web for the ASR worker: the native WebGPU bundle (which also carries the WASM CPU EP).  Its .wasm is
 * served from our own origin (never a CDN), and WebGPU is chosen only for a real adapter.  See runtime.ts.
 */

import * as ort from 'onnxruntime-web/webgpu';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import mjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import { OrtRuntime, type OrtModule, type Provider } from './runtime.ts';

export interface WebGpuProbe {
  adapter: GPUAdapter | null;
  /** "vendor architecture description", or why there is none. */
  description: string;
  shaderF16: boolean;
  maxBufferSize: number;
}

export async function probeWebGpu(): Promise<WebGpuProbe> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { adapter: null, description: 'navigator.gpu is missing', shaderF16: false, maxBufferSize: 0 };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { adapter: null, description: `requestAdapter failed: ${String(err)}`, shaderF16: false, maxBufferSize: 0 };
  }
  if (!adapter) return { adapter: null, description: 'no WebGPU adapter', shaderF16: false, maxBufferSize: 0 };
  const info = adapter.info;
  return {
    adapter,
    description: [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'WebGPU adapter',
    shaderF16: adapter.features.has('shader-f16'),
    maxBufferSize: adapter.limits.maxBufferSize,
  };
}

export function createWebRuntime(provider: Exclude<Provider, 'cpu'>, threads: number): OrtRuntime {
  // The non-bundled ORT build (vite.config.ts resolves the "use-extern-wasm" condition) loads its Emscripten module
  // from `mjs`: WASM threads then start that file, not a copy of this worker.
  ort.env.wasm.wasmPaths = {
    wasm: new URL(wasmUrl, self.location.href).href,
    mjs: new URL(mjsUrl, self.location.href).href,
  };
  ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.max(1, threads) : 1;
  ort.env.logLevel = 'error';
  return new OrtRuntime(ort as unknown as OrtModule, provider);
}

/** The GPUDevice ORT created (to destroy it on release), once a WebGPU session exists. */
export async function ortGpuDevice(): Promise<GPUDevice | undefined> {
  try {
    return (await ort.env.webgpu.device) as GPUDevice | undefined;
  } catch {
    return undefined;
  }
}
