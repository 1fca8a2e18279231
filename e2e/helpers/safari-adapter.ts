/**
 * Safari's WebGPU adapter as it is on an iPhone 17 (iOS 26, Safari 26.0), presented to the app inside headless
 * Chromium: a script for the page (`addInitScript`) and for the ASR worker (`injectIntoWorkers`) that runs before the
 * app's code and reshapes what WebGPU and `navigator` report there, on top of SwiftShader.  e2e/safari-adapter.spec.ts
 * uses it to run the WebGPU path and the planner as an iPhone would.
 *
 * What Safari does differently, and what the script does about each:
 *  - `GPUAdapterInfo` has no `subgroupMinSize` / `subgroupMaxSize` (onnxruntime #26480 / WebKit bug 301878; a real
 *    iPhone on iOS 26: onnxruntime #26827) and `GPUDevice` has no `adapterInfo` (Safari 26.0): both are removed from
 *    the prototypes, so every adapter and device lacks them (and `requestAdapterInfo`, if the browser still had it,
 *    answers the same trimmed `GPUAdapterInfo`).  The info reads like Safari's: vendor "apple", no architecture,
 *    device or description, not a fallback adapter.
 *  - Limits: WebKit's HardwareCapabilities.mm gives iOS `maxBufferSize` = clamp(Metal's maxBufferLength / 3, 256 MiB,
 *    1 GiB) (WebKit PR #49472: "allow up to 1 GB buffers on iOS as the jetsam limit is still 1.5GB"; an iPhone 16
 *    Pro reports 1 GiB, a real iPhone on iOS 26 ≈ 1074 MB) and sets `maxStorageBufferBindingSize` and
 *    `maxUniformBufferBindingSize` to the same value; its Apple-family table gives the compute limits below.  Each
 *    limit of the adapter reads as the lower of SwiftShader's and the iPhone's (the higher, for the two alignments):
 *    SwiftShader cannot grant more than it has.  Its buffer and binding limits are 1 GiB too, so those two read
 *    exactly as on the iPhone.
 *  - `requestDevice` refuses, as Safari (and the spec) does, any required limit better than the adapter's (an
 *    `OperationError`) and any feature the adapter does not list (a `TypeError`).
 *  - Features: Safari 26.0's list (WebKit's baseFeatures for Apple GPUs), intersected with SwiftShader's, so no
 *    `subgroups`, `subgroup-size-control` or `chromium-experimental-*`.  `shader-f16` is listed because every iPhone
 *    GPU has it and the planner reads it, but SwiftShader cannot compute in f16: `requestDevice` leaves it out of the
 *    real request, so the device never has it (the spec runs float32 variants only).
 *  - `navigator`: Safari's iPhone user agent and platform, 6 CPU threads (iPhone 17), no `deviceMemory` and no
 *    `userAgentData` (Chromium only), `maxTouchPoints` 5 on the page's navigator; a worker's navigator has no
 *    `maxTouchPoints` in any browser, so none is added there.
 *
 * It also keeps a ledger in `globalThis.__safariAdapter` (read with `worker.evaluate`): every `createBuffer` size
 * (the largest, the count, any over the limit), the largest buffer bound in a bind group, the required limits and
 * features each `requestDevice` asked for, and the requests it refused.
 */

/** What an adapter and device look like on the emulated iPhone. */
export interface SafariProfile {
  userAgent: string;
  /** `navigator.platform` on an iPhone. */
  platform: string;
  /** Window's `navigator.maxTouchPoints` (WorkerNavigator has none). */
  maxTouchPoints: number;
  hardwareConcurrency: number;
  info: { vendor: string; architecture: string; device: string; description: string };
  /** Caps on the adapter's limits (alignments: floors). */
  limits: Record<string, number>;
  /** The features Safari lists for this GPU. */
  features: string[];
}

const GiB = 2 ** 30;

/** The iPhone 17 on iOS 26 with Safari 26.0 (sources in the header; the UA is tests/unit/planner.test.ts's). */
export const IPHONE_17_SAFARI_26: SafariProfile = {
  // Safari 26 freezes the OS version in its UA at 18_6; the Safari version is real.
  userAgent:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Mobile/15E148 Safari/604.1',
  platform: 'iPhone',
  maxTouchPoints: 5,
  hardwareConcurrency: 6,
  info: { vendor: 'apple', architecture: '', device: '', description: '' },
  limits: {
    maxBufferSize: GiB,
    maxStorageBufferBindingSize: GiB,
    maxUniformBufferBindingSize: GiB,
    maxBindGroups: 11,
    maxStorageBuffersPerShaderStage: 44,
    maxUniformBuffersPerShaderStage: 44,
    maxComputeWorkgroupStorageSize: 32 * 1024,
    maxComputeInvocationsPerWorkgroup: 1024,
    maxComputeWorkgroupSizeX: 1024,
    maxComputeWorkgroupSizeY: 1024,
    maxComputeWorkgroupSizeZ: 1024,
    maxComputeWorkgroupsPerDimension: 65535,
    minUniformBufferOffsetAlignment: 32,
    minStorageBufferOffsetAlignment: 32,
  },
  features: [
    'core-features-and-limits',
    'depth-clip-control',
    'depth32float-stencil8',
    'texture-compression-etc2',
    'texture-compression-astc',
    'texture-compression-astc-sliced-3d',
    'indirect-first-instance',
    'rg11b10ufloat-renderable',
    'shader-f16',
    'bgra8unorm-storage',
    'float32-filterable',
    'float32-blendable',
    'clip-distances',
    'timestamp-query',
  ],
};

/** The ledger the script keeps in `globalThis.__safariAdapter`. */
export interface SafariLedger {
  /** Adapters handed out (each `requestAdapter` that answered one). */
  adapters: number;
  buffers: number;
  largestBuffer: number;
  /** Sizes of buffers created over the profile's `maxBufferSize` (none expected). */
  overLimit: number[];
  /** The largest buffer range bound in a bind group. */
  largestBinding: number;
  requests: { requiredLimits: Record<string, number>; requiredFeatures: string[]; withheld: string[] }[];
  refused: string[];
}

/**
 * The script, runs in a page or a worker (classic script, its own scope).  Kept free of closures over this module:
 * it is shipped as source (`safariAdapterScript`).
 */
function presentSafariAdapter(profile: SafariProfile): void {
  type Ledger = SafariLedger;
  const g = globalThis as unknown as Record<string, unknown>;
  if (g['__safariAdapter']) return;
  const ledger: Ledger = {
    adapters: 0,
    buffers: 0,
    largestBuffer: 0,
    overLimit: [],
    largestBinding: 0,
    requests: [],
    refused: [],
  };
  g['__safariAdapter'] = ledger;

  const getter = (proto: object, key: string, get: (this: unknown) => unknown) =>
    Object.defineProperty(proto, key, { get, configurable: true, enumerable: true });
  const remove = (proto: object | undefined, key: string) => {
    if (proto && Object.prototype.hasOwnProperty.call(proto, key)) delete (proto as Record<string, unknown>)[key];
  };

  // navigator: Navigator.prototype in a page, WorkerNavigator.prototype in a worker.
  const nav = g['navigator'] as object | undefined;
  const navProto = nav ? (Object.getPrototypeOf(nav) as object) : undefined;
  if (navProto) {
    getter(navProto, 'userAgent', () => profile.userAgent);
    getter(navProto, 'appVersion', () => profile.userAgent.replace(/^Mozilla\//, ''));
    getter(navProto, 'platform', () => profile.platform);
    getter(navProto, 'hardwareConcurrency', () => profile.hardwareConcurrency);
    if ('vendor' in navProto) getter(navProto, 'vendor', () => 'Apple Computer, Inc.');
    if ('maxTouchPoints' in navProto) getter(navProto, 'maxTouchPoints', () => profile.maxTouchPoints);
    remove(navProto, 'deviceMemory');
    remove(navProto, 'userAgentData');
  }

  const Adapter = g['GPUAdapter'] as { prototype: object } | undefined;
  const Device = g['GPUDevice'] as { prototype: object } | undefined;
  const Info = g['GPUAdapterInfo'] as { prototype: object } | undefined;
  const Limits = g['GPUSupportedLimits'] as { prototype: object } | undefined;
  const Gpu = g['GPU'] as { prototype: object } | undefined;
  if (!Adapter || !Device || !Info || !Limits || !Gpu) return;

  // GPUAdapterInfo as Safari 26 fills it.
  for (const key of ['subgroupMinSize', 'subgroupMaxSize', 'subgroupMatrixConfigs']) remove(Info.prototype, key);
  for (const [key, value] of Object.entries(profile.info)) getter(Info.prototype, key, () => value);
  getter(Info.prototype, 'isFallbackAdapter', () => false);
  remove(Adapter.prototype, 'isFallbackAdapter');
  // Safari 26.0 has no GPUDevice.adapterInfo (onnxruntime then reads adapter.info instead).
  remove(Device.prototype, 'adapterInfo');

  // Limits: each the lower of the real adapter's and the iPhone's (alignments: the higher).
  const realAdapterLimits = Object.getOwnPropertyDescriptor(Adapter.prototype, 'limits')!.get!;
  const lowered = (real: Record<string, number>) => {
    const out = Object.create(Limits.prototype) as Record<string, number>;
    for (const key in real) {
      const value = real[key]!;
      const cap = profile.limits[key];
      const v = cap === undefined ? value : key.startsWith('min') ? Math.max(value, cap) : Math.min(value, cap);
      Object.defineProperty(out, key, { value: v, enumerable: true });
    }
    return Object.freeze(out);
  };
  const limitsOf = new WeakMap<object, Record<string, number>>();
  getter(Adapter.prototype, 'limits', function (this: unknown) {
    const self = this as object;
    let l = limitsOf.get(self);
    if (!l) limitsOf.set(self, (l = lowered(realAdapterLimits.call(self) as Record<string, number>)));
    return l;
  });

  // Features: Safari's list, as far as this adapter has them (shader-f16 listed regardless: see the header).
  const realAdapterFeatures = Object.getOwnPropertyDescriptor(Adapter.prototype, 'features')!.get!;
  const realFeatures = (self: object) => realAdapterFeatures.call(self) as Set<string>;
  const featuresOf = new WeakMap<object, Set<string>>();
  getter(Adapter.prototype, 'features', function (this: unknown) {
    const self = this as object;
    let f = featuresOf.get(self);
    if (!f) {
      const real = realFeatures(self);
      f = new Set(profile.features.filter((name) => real.has(name) || name === 'shader-f16'));
      featuresOf.set(self, f);
    }
    return f;
  });

  const realRequestAdapter = (Gpu.prototype as { requestAdapter: (o?: unknown) => Promise<object | null> })
    .requestAdapter;
  (Gpu.prototype as { requestAdapter: unknown }).requestAdapter = async function (this: unknown, options?: unknown) {
    const adapter = await realRequestAdapter.call(this, options);
    if (adapter) ledger.adapters++;
    return adapter;
  };
  const adapterProto = Adapter.prototype as Record<string, unknown>;
  if (typeof adapterProto['requestAdapterInfo'] === 'function')
    adapterProto['requestAdapterInfo'] = async function (this: { info: unknown }) {
      return this.info;
    };

  const realRequestDevice = adapterProto['requestDevice'] as (this: object, d?: unknown) => Promise<object>;
  adapterProto['requestDevice'] = async function (
    this: { limits: Record<string, number>; features: Set<string> },
    descriptor: { requiredLimits?: Record<string, number | undefined>; requiredFeatures?: string[] } = {},
  ) {
    const limits = this.limits;
    const requiredLimits: Record<string, number> = {};
    for (const [key, value] of Object.entries(descriptor.requiredLimits ?? {})) {
      if (value === undefined) continue;
      requiredLimits[key] = value;
      const have = limits[key];
      const better = have === undefined ? true : key.startsWith('min') ? value < have : value > have;
      if (better) {
        const why = `requiredLimits.${key} = ${value} is better than the adapter's ${String(have)}`;
        ledger.refused.push(why);
        throw new DOMException(why, 'OperationError');
      }
    }
    const requiredFeatures = [...(descriptor.requiredFeatures ?? [])];
    for (const f of requiredFeatures)
      if (!this.features.has(f)) {
        const why = `requiredFeatures has ${f}, which the adapter does not list`;
        ledger.refused.push(why);
        throw new TypeError(why);
      }
    const real = realFeatures(this);
    const withheld = requiredFeatures.filter((f) => !real.has(f));
    ledger.requests.push({ requiredLimits, requiredFeatures, withheld });
    return realRequestDevice.call(this, {
      ...descriptor,
      requiredFeatures: requiredFeatures.filter((f) => real.has(f)),
    });
  };

  // The ledger of buffers and bindings.
  const deviceProto = Device.prototype as Record<string, unknown>;
  const realCreateBuffer = deviceProto['createBuffer'] as (this: object, d: { size: number }) => object;
  deviceProto['createBuffer'] = function (this: object, d: { size: number }) {
    ledger.buffers++;
    if (d.size > ledger.largestBuffer) ledger.largestBuffer = d.size;
    if (d.size > profile.limits['maxBufferSize']!) ledger.overLimit.push(d.size);
    return realCreateBuffer.call(this, d);
  };
  const realCreateBindGroup = deviceProto['createBindGroup'] as (this: object, d: unknown) => object;
  deviceProto['createBindGroup'] = function (
    this: object,
    d: { entries?: { resource?: { buffer?: { size: number }; offset?: number; size?: number } }[] },
  ) {
    for (const e of d.entries ?? []) {
      const r = e.resource;
      if (!r || typeof r !== 'object' || !r.buffer) continue;
      const size = r.size ?? r.buffer.size - (r.offset ?? 0);
      if (size > ledger.largestBinding) ledger.largestBinding = size;
    }
    return realCreateBindGroup.call(this, d);
  };
}

/** The script's source for `addInitScript` / `injectIntoWorkers`. */
export function safariAdapterScript(profile: SafariProfile = IPHONE_17_SAFARI_26): string {
  return `(${presentSafariAdapter.toString()})(${JSON.stringify(profile)});`;
}
