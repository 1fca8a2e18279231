/**
 * What a device reports to the planner (`DeviceProbe`, gathered in the worker by workers/host/device-probe.ts) and
 * what the planner reads out of it: the platform from the user agent, and whether a WebGPU adapter is a real GPU or
 * a software renderer.  Pure and isomorphic.
 */
import type { Variant } from './asr/contract.ts';

export interface GpuProbe {
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
  shaderF16: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface DeviceProbe {
  gpu: GpuProbe | null;
  /** Why there is no adapter ("navigator.gpu is missing", "no WebGPU adapter"), when `gpu` is null. */
  gpuUnavailableReason?: string;
  userAgent: string;
  maxTouchPoints: number;
  /** `navigator.deviceMemory` in GiB (Chromium only, a power of two, capped), null where the browser has none. */
  deviceMemoryGB: number | null;
  /** `navigator.storage.estimate()`, null where it is missing or failed. */
  storage: { quota: number; usage: number } | null;
  crossOriginIsolated: boolean;
  /** SharedArrayBuffer exists (WebKitGTK is cross-origin isolated without it): WASM threads are possible only with
   *  both.  Absent: assumed to follow `crossOriginIsolated`. */
  sharedMemory?: boolean;
  hardwareConcurrency: number;
  /**
   * Variants of this model completely stored on this device (the model host fills it in).  A variant not stored
   * yet is a first visit, whose download and load in one go peak higher (FIRST_VISIT_COPIES).  Absent: unknown,
   * estimated as stored.
   */
  storedVariants?: Variant[];
}

export type Os = 'ios' | 'ipados' | 'macos' | 'android' | 'windows' | 'linux' | 'other';
export type Browser = 'safari' | 'chrome' | 'firefox' | 'edge' | 'other';

const SOFTWARE_RENDERER = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|software/i;

export function detectPlatform(userAgent: string, maxTouchPoints: number): { os: Os; browser: Browser } {
  const ua = userAgent;
  let os: Os = 'other';
  if (/iPhone|iPod/.test(ua)) os = 'ios';
  else if (/iPad/.test(ua)) os = 'ipados';
  // iPadOS Safari asks for desktop sites with a Mac user agent; only the touch screen tells them apart.
  else if (/Macintosh|Mac OS X/.test(ua)) os = maxTouchPoints > 1 ? 'ipados' : 'macos';
  else if (/Android/.test(ua)) os = 'android';
  else if (/Windows/.test(ua)) os = 'windows';
  else if (/Linux|X11|CrOS/.test(ua)) os = 'linux';
  let browser: Browser = 'other';
  if (/Edg(e|A|iOS)?\//.test(ua)) browser = 'edge';
  else if (/Firefox\/|FxiOS\//.test(ua)) browser = 'firefox';
  else if (/OPR\/|SamsungBrowser\//.test(ua)) browser = 'other';
  else if (/Chrome\/|CriOS\/|Chromium\//.test(ua)) browser = 'chrome';
  else if (/Safari\//.test(ua) && /Version\//.test(ua)) browser = 'safari';
  return { os, browser };
}

/** The software renderer's name ("SwiftShader"), or null for a real GPU. */
export function softwareRenderer(gpu: GpuProbe): string | null {
  const m = SOFTWARE_RENDERER.exec(`${gpu.vendor} ${gpu.architecture} ${gpu.description}`);
  const name = m?.[0].toLowerCase();
  if (name === 'swiftshader') return 'SwiftShader';
  if (name?.startsWith('microsoft')) return 'Microsoft Basic Render Driver';
  if (name) return name === 'software' ? describeGpu(gpu) : name;
  return gpu.isFallbackAdapter ? `the fallback adapter (${describeGpu(gpu)})` : null;
}

/** "vendor architecture description" of an adapter. */
export function describeGpu(gpu: GpuProbe): string {
  return [gpu.vendor, gpu.architecture, gpu.description].filter(Boolean).join(' ') || 'WebGPU adapter';
}
