/**
 * What this browser offers the model: a real WebGPU adapter (not just `navigator.gpu`), its limits and features.
 * `requestAdapter()` returning null is the common "WebGPU exists but is unusable" case (headless, blocklisted GPU).
 */

export interface GpuCapability {
  available: boolean;
  /** Why not, when unavailable. */
  reason?: string;
  vendor?: string;
  architecture?: string;
  description?: string;
  isFallbackAdapter?: boolean;
  shaderF16?: boolean;
  maxBufferSize?: number;
  maxStorageBufferBindingSize?: number;
}

export async function probeWebGpu(): Promise<GpuCapability> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { available: false, reason: 'navigator.gpu is missing (WebGPU not supported or disabled)' };
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (error) {
    return { available: false, reason: `requestAdapter failed: ${String(error)}` };
  }
  if (!adapter) return { available: false, reason: 'no WebGPU adapter (requestAdapter returned null)' };
  // Safari 26 may omit adapter.info fields (onnxruntime #26480): read defensively.
  const info = (adapter as GPUAdapter & { info?: Partial<GPUAdapterInfo> }).info ?? {};
  const fallback = (info as { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return {
    available: true,
    vendor: info.vendor || 'unknown vendor',
    architecture: info.architecture || '',
    description: info.description || '',
    ...(fallback === undefined ? {} : { isFallbackAdapter: fallback }),
    shaderF16: adapter.features.has('shader-f16'),
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  };
}

const MIB = 1024 * 1024;

export function describeGpu(cap: GpuCapability | null): string {
  if (!cap) return 'Checking for WebGPU…';
  if (!cap.available) return `WebGPU unavailable: ${cap.reason}. The model would run on the CPU (WASM).`;
  const name = [cap.vendor, cap.architecture, cap.description].filter(Boolean).join(' ');
  const parts = [
    `WebGPU: ${name}${cap.isFallbackAdapter ? ' (software fallback)' : ''}`,
    `max buffer ${Math.round((cap.maxBufferSize ?? 0) / MIB)} MiB`,
    `max binding ${Math.round((cap.maxStorageBufferBindingSize ?? 0) / MIB)} MiB`,
    `shader-f16 ${cap.shaderF16 ? 'yes' : 'no'}`,
  ];
  return parts.join(' · ');
}
