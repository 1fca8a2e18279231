/**
 * Gathers the device planner's `DeviceProbe` (planner.ts) in the ASR worker: the WebGPU adapter (info, limits,
 * shader-f16), `navigator.userAgent`, `maxTouchPoints`, `deviceMemory`, `hardwareConcurrency`,
 * `navigator.storage.estimate()` and `crossOriginIsolated`.  Every field is read defensively (Safari 26 lacks some
 * `adapter.info` fields, older browsers lack `info`, WebKitGTK lacks `storage.estimate`): a missing API gives
 * null/0/false/'', never a throw.  It reads `globalThis` through structural types, so it compiles in the worker and
 * in Node, and it never imports onnxruntime.  ModelHost asks `requestGpu` once per worker; the app's capability line
 * (`describeDevice`) and every load's plan read that one answer.
 */
import { withTimeout } from '../../src/core/async.ts';
import { describeGpu, type DeviceProbe, type GpuProbe } from '../../src/core/device.ts';

/** The parts of a GPUAdapter read here (structural, so no WebGPU types are needed). */
interface AdapterLike {
  info?: unknown;
  isFallbackAdapter?: unknown;
  features?: { has(name: string): boolean };
  limits?: unknown;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<AdapterLike | null>;
}
interface ProbeNavigator {
  userAgent?: unknown;
  maxTouchPoints?: unknown;
  deviceMemory?: unknown;
  hardwareConcurrency?: unknown;
  gpu?: GpuLike | null;
  storage?: { estimate?: () => Promise<{ quota?: number; usage?: number }> };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** `obj[key]`, undefined when obj is not an object or the getter throws. */
function field(obj: unknown, key: string): unknown {
  if (typeof obj !== 'object' || obj === null) return undefined;
  try {
    return (obj as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** What the planner needs from an adapter; missing fields read as '' / false / 0. */
function readAdapter(adapter: AdapterLike): GpuProbe {
  const info = field(adapter, 'info');
  // `isFallbackAdapter` moved from GPUAdapter to GPUAdapterInfo (Chrome 136); read both.
  const fallback = field(info, 'isFallbackAdapter') ?? field(adapter, 'isFallbackAdapter');
  let shaderF16: boolean;
  try {
    shaderF16 = adapter.features?.has('shader-f16') === true;
  } catch {
    shaderF16 = false;
  }
  const limits = field(adapter, 'limits');
  return {
    vendor: str(field(info, 'vendor')),
    architecture: str(field(info, 'architecture')),
    description: str(field(info, 'description')),
    isFallbackAdapter: fallback === true,
    shaderF16,
    maxBufferSize: num(field(limits, 'maxBufferSize')) ?? 0,
    maxStorageBufferBindingSize: num(field(limits, 'maxStorageBufferBindingSize')) ?? 0,
  };
}

interface GpuRequest {
  /** The adapter itself (ORT may be handed it), null when there is none. */
  adapter: AdapterLike | null;
  gpu: GpuProbe | null;
  /** The adapter's description, or why there is none. */
  description: string;
}

/** `navigator.gpu.requestAdapter({powerPreference: 'high-performance'})`, read for the planner. */
export async function requestGpu(): Promise<GpuRequest> {
  const nav = (globalThis as { navigator?: ProbeNavigator }).navigator;
  const gpu = field(nav, 'gpu') as GpuLike | null | undefined;
  if (!gpu || typeof gpu.requestAdapter !== 'function')
    return { adapter: null, gpu: null, description: 'navigator.gpu is missing' };
  let adapter: AdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { adapter: null, gpu: null, description: `requestAdapter failed: ${String(err)}` };
  }
  if (!adapter) return { adapter: null, gpu: null, description: 'no WebGPU adapter' };
  const probe = readAdapter(adapter);
  return { adapter, gpu: probe, description: describeGpu(probe) };
}

/** What the storage estimate says, null when it is missing, fails or takes longer than `timeoutMs`. */
async function storageEstimate(nav: ProbeNavigator, timeoutMs: number): Promise<DeviceProbe['storage']> {
  const storage = field(nav, 'storage') as ProbeNavigator['storage'];
  const estimate = storage?.estimate;
  if (typeof estimate !== 'function') return null;
  try {
    const e = await withTimeout(estimate.call(storage), timeoutMs, () => null);
    const quota = num(e?.quota);
    const usage = num(e?.usage);
    return quota === null || usage === null ? null : { quota, usage };
  } catch {
    return null;
  }
}

/**
 * The probe for `planEngine`.  `webgpu`: an answer of `requestGpu()` already obtained
 * (pass it to keep its adapter for ORT), null when WebGPU must not be probed, undefined (default) to probe it here.
 */
export async function probeDevice(
  webgpu?: { gpu: GpuProbe | null; description: string } | null,
  opts: {
    storageTimeoutMs?: number;
    /** The page's navigator.maxTouchPoints (a worker's navigator has none); the navigator's own when absent. */
    maxTouchPoints?: number;
  } = {},
): Promise<DeviceProbe> {
  const g = globalThis as { navigator?: ProbeNavigator; crossOriginIsolated?: unknown };
  const nav: ProbeNavigator = g.navigator ?? {};
  const [gpu, storage] = await Promise.all([
    webgpu === undefined ? requestGpu() : Promise.resolve(webgpu),
    storageEstimate(nav, opts.storageTimeoutMs ?? 2000),
  ]);
  const probe: DeviceProbe = {
    gpu: gpu?.gpu ?? null,
    userAgent: str(field(nav, 'userAgent')),
    maxTouchPoints: opts.maxTouchPoints ?? num(field(nav, 'maxTouchPoints')) ?? 0,
    deviceMemoryGB: num(field(nav, 'deviceMemory')),
    storage,
    crossOriginIsolated: g.crossOriginIsolated === true,
    sharedMemory: typeof (g as { SharedArrayBuffer?: unknown }).SharedArrayBuffer === 'function',
    hardwareConcurrency: num(field(nav, 'hardwareConcurrency')) ?? 1,
  };
  if (!probe.gpu) probe.gpuUnavailableReason = gpu?.description ?? 'WebGPU was not probed';
  return probe;
}

const MIB = 1024 * 1024;

/**
 * Whether onnxruntime-web may run WASM on several threads here: they need SharedArrayBuffer, which browsers give only
 * to cross-origin isolated pages (and WebKitGTK not even then).
 */
export function wasmThreadsPossible(): boolean {
  const g = globalThis as { crossOriginIsolated?: unknown; SharedArrayBuffer?: unknown };
  return g.crossOriginIsolated === true && typeof g.SharedArrayBuffer === 'function';
}

/** The capability line: the adapter with the limits that matter to the model, or why there is no WebGPU. */
export function describeDevice(probe: DeviceProbe): string {
  const g = probe.gpu;
  const cpu = `${probe.hardwareConcurrency} CPU thread${probe.hardwareConcurrency === 1 ? '' : 's'}${
    !probe.crossOriginIsolated
      ? ' (one for the model: the page is not cross-origin isolated)'
      : probe.sharedMemory === false
        ? ' (one for the model: this browser has no SharedArrayBuffer)'
        : ''
  }`;
  if (!g) return `WebGPU unavailable: ${probe.gpuUnavailableReason ?? 'unknown'}. The model runs on the CPU · ${cpu}`;
  return [
    `WebGPU: ${describeGpu(g)}${g.isFallbackAdapter ? ' (software fallback)' : ''}`,
    `max buffer ${Math.round(g.maxBufferSize / MIB)} MiB`,
    `max binding ${Math.round(g.maxStorageBufferBindingSize / MIB)} MiB`,
    `shader-f16 ${g.shaderF16 ? 'yes' : 'no'}`,
    cpu,
  ].join(' · ');
}
