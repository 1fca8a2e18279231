/**
 * The device planner: before anything is downloaded, decide where a transcription runs (its backend: WebGPU, WASM on
 * the CPU or the server) and with which variant, from what the device reports (`DeviceProbe`, ./device.ts), the
 * model's manifest and the user's settings, and say why in short user-facing sentences.  The plan's `fallbacks` are the next plans to try, in order, when a warm-up or a job fails.  Pure and
 * isomorphic: no DOM, worker or Node APIs.
 *
 * Rules:
 *  - A GPU counts only when it is real: an adapter with `isFallbackAdapter` or a known software renderer (SwiftShader,
 *    llvmpipe, lavapipe, softpipe, Microsoft Basic Render Driver, "software") runs WebGPU only for variants under
 *    `SOFTWARE_GPU_MAX_BYTES` (the tiny test models), unless the settings ask for WebGPU explicitly.
 *  - WebGPU needs every graph's largest initializer to fit both `maxStorageBufferBindingSize` and `maxBufferSize`.
 *  - f16 variants need `shader-f16` on WebGPU; an explicitly requested one is replaced by its float32 twin.
 *  - WebGPU needs the audio encoder's attention in query blocks (models converted since 2026-12-07): in one call, a
 *    full-size encoder's 180 MB attention buffers are over what onnxruntime's WebGPU backend reuses, and pile up
 *    until the device is lost (`encoderAttentionBytes`, ./memory-model.ts).
 *  - iPhone/iPad (every iOS browser is WebKit): the estimated peak must stay under `iosBudgetBytes` (default 1.2 GB:
 *    iOS kills the tab at ~1.5 GB, and WebGPU buffers count against the same budget; docs/platforms.md, Memory).
 *  - `navigator.deviceMemory` (Chromium only, a power of two; older versions cap it at 8, Chromium 156 reports 16 on
 *    a 24 GiB machine): a peak over half of it prefers the server when one is usable.
 *  - Storage: a variant larger than the free quota still runs (it loads without being saved), with a reason.
 *  - The server is used only when configured and consented; `where: 'device'` never plans it, `where: 'server'`
 *    always does.
 *
 * Memory: the estimated peak (`estimatePeakBytes`, ./memory-model.ts: one measured formula per backend and graph
 * residency) against the iOS budget and half of `deviceMemory`.  On iPhone/iPad a variant whose graphs together are
 * over the budget is planned one graph at a time (`graphs: 'one-at-a-time'`) when that fits, and also when it does not
 * but is the lower peak (a plan WebGPU chosen by hand still makes); live dictation then takes its text from the server
 * where the user allowed it, else the recording is transcribed on the device at Stop (`live`).
 */
import {
  F16_VARIANTS,
  F32_TWIN,
  GRAPHS,
  VARIANTS,
  type Backend,
  type DeviceBackend,
  type GraphName,
  type ModelManifest,
  type Variant,
} from './asr/contract.ts';
import { detectPlatform, softwareRenderer, type DeviceProbe } from './device.ts';
import {
  encoderAttentionBytes,
  estimatePeakBytes,
  manifestBytes,
  IOS_BUDGET_BYTES,
  SOFTWARE_GPU_MAX_BYTES,
  WEBGPU_REUSED_BUFFER_MAX_BYTES,
  type GraphResidency,
} from './memory-model.ts';

export type Where = 'auto' | 'device' | 'server';

export interface PlannerSettings {
  where: Where;
  backend?: 'auto' | DeviceBackend;
  variant?: Variant | 'auto';
  /** The server to fall back to, null when none is configured; consented = the user agreed to send audio there. */
  server: { url: string; consented: boolean } | null;
  /** Estimated-peak budget on iPhone/iPad Safari, default 1.2e9 bytes (iOS kills the tab at ~1.5 GB). */
  iosBudgetBytes?: number;
}

export type { GraphResidency };

export interface Plan {
  backend: Exclude<Backend, 'cpu'>;
  variant: Variant | null;
  estimatedPeakBytes: number | null;
  /** On-device plans: how the graphs are resident (absent: 'both'). */
  graphs?: GraphResidency;
  reasons: string[];
}

/**
 * Where live dictation's text comes from under a plan: 'device' (the plan's own backend, its graphs together),
 * 'server' (the server, as the audio arrives, while files stay on the device), or 'after-stop' (the plan holds one
 * graph at a time, which cannot decode as the user speaks: the recording is kept and transcribed on the device when
 * Stop is pressed).
 */
export type LiveSource = 'device' | 'server' | 'after-stop';

/**
 * Where live dictation's text comes from when `plan` runs: the server's own plan, the server; graphs together, the
 * device; one graph at a time cannot decode as the user speaks (two graph swaps per segment), so the server when
 * Automatic may use a consented one, else the recording is transcribed on the device when Stop is pressed.
 */
export function liveSourceFor(
  plan: Pick<Plan, 'backend' | 'graphs'>,
  settings: { where: Where; server: { consented: boolean } | null },
): LiveSource {
  if (plan.backend === 'server') return 'server';
  if (plan.graphs !== 'one-at-a-time') return 'device';
  return settings.where === 'auto' && !!settings.server?.consented ? 'server' : 'after-stop';
}

export interface PlanResult extends Plan {
  /** Next plans to try, in order, when this one fails (warm-up or mid-job). */
  fallbacks: Plan[];
  /** Where live dictation's text comes from (absent when blocked). */
  live?: LiveSource;
  /** No backend can run: the reasons say why and what to do (backend and variant are then not to be loaded). */
  blocked?: boolean;
  /** The server would be used but the user has not agreed to send audio to this URL yet: ask, then plan again. */
  needsConsent?: { url: string };
}

/**
 * Variant preference per backend (the first one the manifest has and that fits wins).  On WASM q8 comes first: its
 * MatMulInteger runs on WASM SIMD's int8 GEMM, while MatMulNBits (q4, q4f16) dequantizes its whole weight to float32
 * on every call (no int8 kernel for WASM in MLAS).  The full-size model on the plain WASM build in Chromium, one run,
 * 30 s window (`npm run bench -- asr`, the WASM build rows; a busy 2-core machine): decode q8 0.74, q4 0.14, q4f16
 * 0.13 tokens/s; encoder 87, 93, 51 s.  q4 and q4f16 decode alike; q4f16's faster encoder and 30% fewer bytes would
 * put it ahead of q4 once the memory rows of the planner's tests are redone for it.
 */
export const VARIANT_ORDER = {
  wasm: ['q8', 'q4', 'q4f16', 'fp32', 'fp16'],
  webgpuF16: ['q4f16', 'q4', 'fp16', 'fp32', 'q8'],
  webgpu: ['q4', 'fp32', 'q8'],
} as const satisfies Record<string, readonly Variant[]>;

/**
 * Ops the app's WASM backend has no CPU kernel for: a variant whose graphs use one (manifest `op_types`) is never
 * planned on WASM.  None today: the WASM backend runs on onnxruntime-web's plain CPU build (workers/ort/web.ts), which
 * has every contrib op the converter emits, GatherBlockQuantized (q4f16's 4-bit embedding) included; the WebGPU
 * bundle's asyncify build, which the WASM backend used before, lacks that one.
 */
export const WASM_MISSING_OPS: ReadonlySet<string> = new Set<string>();

/* ------------------------------------------------------------------------------------------------------------- */

const gb = (bytes: number) =>
  !Number.isFinite(bytes)
    ? 'of unknown size (the model manifest gives no sizes)'
    : bytes >= 1e9
      ? `${(bytes / 1e9).toFixed(1)} GB`
      : `${Math.round(bytes / 1e6)} MB`;
const mib = (bytes: number) =>
  bytes >= 2 ** 30 ? `${+(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;

const GRAPH_LABEL = { audio_encoder: 'encoder', embed_tokens: 'embedding', decoder_model_merged: 'decoder' } as const;

interface Context {
  probe: DeviceProbe;
  manifest: ModelManifest;
  settings: PlannerSettings;
  /** "iPhone" or "iPad" when the iOS budget applies. */
  iosDevice: string | null;
  budget: number;
}

interface Check {
  /** Failures that rule the variant out on this backend. */
  hard: string[];
  /** Failures that make the server preferable when it is usable (deviceMemory). */
  soft: string[];
  /** Notes that change nothing (storage). */
  notes: string[];
  peak: number;
  /** How the graphs are resident at `peak`. */
  graphs: GraphResidency;
  /** The iPhone/iPad budget failure among `hard`, if any. */
  overBudget?: string;
}

/** The first op of `variant`'s graphs that the WASM build lacks (manifest op_types), or null when it runs there. */
export function wasmMissingOp(
  manifest: ModelManifest,
  variant: Variant,
  missingOps: ReadonlySet<string> = WASM_MISSING_OPS,
): { graph: GraphName; op: string } | null {
  const info = manifest.variants[variant];
  if (!info) return null;
  for (const g of GRAPHS) {
    const op = Object.keys(info.graphs[g].op_types ?? {}).find((o) => missingOps.has(o));
    if (op) return { graph: g, op: op.replace(/^com\.microsoft\./, '') };
  }
  return null;
}

function check(ctx: Context, backend: DeviceBackend, variant: Variant, explicitWebGpu: boolean): Check {
  const { probe, manifest } = ctx;
  const info = manifest.variants[variant]!;
  // Decisions use the stored estimate: a first visit's higher peak (the download's buffers still resident) would
  // otherwise keep a variant from ever being stored, and so from ever reaching its lower peak.  It is reported.
  const firstVisit = probe.storedVariants !== undefined && !probe.storedVariants.includes(variant);
  // The graphs together, unless that is over an iPhone/iPad's budget and one graph at a time is lower.  (Only there:
  // elsewhere a device over half its deviceMemory prefers the server, which also gives live text as the user speaks.)
  const mem = probe.deviceMemoryGB;
  const overBudget = (peak: number) => !!ctx.iosDevice && peak > ctx.budget;
  const overHalf = (peak: number) => !!mem && peak > (mem * 2 ** 30) / 2;
  const both = estimatePeakBytes(manifest, variant, backend);
  const one = estimatePeakBytes(manifest, variant, backend, { graphs: 'one-at-a-time' });
  // Over the budget both ways too: a plan the settings force (WebGPU by hand) then loads one graph at a time, its best
  // chance on this device.
  const graphs: GraphResidency = overBudget(both) && one < both ? 'one-at-a-time' : 'both';
  const peak = graphs === 'both' ? both : one;
  const out: Check = { hard: [], soft: [], notes: [], peak, graphs };
  const where = `${backend === 'webgpu' ? 'WebGPU' : 'WASM'}`;
  if (graphs === 'one-at-a-time' && !overBudget(one))
    out.notes.push(
      `${variant} with its graphs loaded together would peak near ${gb(both)} on ${where}, over this ${ctx.iosDevice}'s ${gb(ctx.budget)} budget: one graph at a time (a file is encoded, then decoded)`,
    );
  if (firstVisit) {
    const firstPeak = estimatePeakBytes(manifest, variant, backend, { graphs, firstVisit: true });
    if (firstPeak > peak)
      out.notes.push(`the first load also downloads ${variant}: expect a peak near ${gb(firstPeak)} this once`);
  }
  if (backend === 'webgpu') {
    const gpu = probe.gpu!;
    const software = softwareRenderer(gpu);
    if (software && info.bytes >= SOFTWARE_GPU_MAX_BYTES && !explicitWebGpu)
      out.hard.push(`${software} is a software renderer, not a GPU`);
    else if (software)
      out.notes.push(`${software} is a software renderer; WebGPU is used for this ${gb(info.bytes)} model anyway`);
    if (F16_VARIANTS.has(variant) && !gpu.shaderF16) out.hard.push(`${variant} needs shader-f16, which this GPU lacks`);
    // Worded without the variant: the same for each variant of one model, so said once (deviceCandidate).
    const attention = encoderAttentionBytes(manifest, variant);
    if (attention > WEBGPU_REUSED_BUFFER_MAX_BYTES)
      out.hard.push(
        info.graphs.audio_encoder.attention_query_rows === undefined
          ? `this model was converted before 2026-12-07: its audio encoder's ${gb(attention)} attention buffers would pile up on WebGPU until the GPU is lost; convert it again (npm run model:convert) to use WebGPU`
          : `this model's audio encoder makes ${gb(attention)} attention buffers, over the ${mib(WEBGPU_REUSED_BUFFER_MAX_BYTES)} WebGPU reuses: they would pile up until the GPU is lost`,
      );
    const limit = Math.min(gpu.maxBufferSize, gpu.maxStorageBufferBindingSize);
    for (const g of GRAPHS) {
      // From the network: a size that is not a number is not under the limit.
      const liBytes = manifestBytes(info.graphs[g]?.largest_initializer?.bytes) ?? Infinity;
      if (liBytes > limit) {
        const which = gpu.maxBufferSize <= gpu.maxStorageBufferBindingSize ? 'buffer' : 'binding';
        out.hard.push(
          `${variant}'s ${gb(liBytes)} ${GRAPH_LABEL[g]} weight is over this GPU's ${mib(limit)} ${which} limit`,
        );
        break;
      }
    }
  }
  if (backend === 'wasm') {
    const missing = wasmMissingOp(manifest, variant);
    if (missing) out.hard.push(`${variant}'s ${GRAPH_LABEL[missing.graph]} uses ${missing.op}, which WASM lacks`);
  }
  // Over the budget both ways: both peaks are named (with the graphs together, and one graph at a time).
  if (overBudget(peak))
    out.hard.push(
      (out.overBudget =
        graphs === 'one-at-a-time'
          ? `the estimated peak of ${variant} on ${where}, ${gb(both)} with its graphs together and ${gb(one)} one graph at a time, is over this ${ctx.iosDevice}'s ${gb(ctx.budget)} budget`
          : `the estimated peak ${gb(peak)} of ${variant} on ${where} is over this ${ctx.iosDevice}'s ${gb(ctx.budget)} budget`),
    );
  if (overHalf(peak))
    out.soft.push(`the estimated peak ${gb(peak)} of ${variant} is over half of this device's ${mem} GB of memory`);
  if (probe.storage) {
    const free = Math.max(0, probe.storage.quota - probe.storage.usage);
    if (info.bytes > free)
      out.notes.push(
        `${variant} (${gb(info.bytes)}) does not fit the ${gb(free)} of storage left: it loads without being saved`,
      );
  }
  return out;
}

interface Candidate {
  plan: Plan | null;
  /** True when the plan only passes the hard rules (a soft failure is in its reasons). */
  soft: boolean;
  /** Why this backend (or its better variants) cannot be used. */
  rejected: string[];
}

function deviceCandidate(ctx: Context, backend: DeviceBackend): Candidate {
  const { probe, manifest, settings } = ctx;
  const wantedBackend = settings.backend ?? 'auto';
  const label = backend === 'webgpu' ? 'WebGPU' : 'WASM';
  if (wantedBackend !== 'auto' && wantedBackend !== backend)
    return {
      plan: null,
      soft: false,
      rejected: [`${label} is off (the settings ask for ${wantedBackend === 'webgpu' ? 'WebGPU' : 'WASM'})`],
    };
  if (backend === 'webgpu' && !probe.gpu)
    return {
      plan: null,
      soft: false,
      rejected: [`WebGPU is unavailable (${probe.gpuUnavailableReason ?? 'no adapter'})`],
    };
  const explicitWebGpu = backend === 'webgpu' && wantedBackend === 'webgpu';
  const have = VARIANTS.filter((v) => manifest.variants[v]);
  const pre: string[] = [];
  let order: readonly Variant[];
  const wanted = settings.variant ?? 'auto';
  if (wanted === 'auto') {
    order =
      backend === 'wasm' ? VARIANT_ORDER.wasm : probe.gpu!.shaderF16 ? VARIANT_ORDER.webgpuF16 : VARIANT_ORDER.webgpu;
    order = order.filter((v) => have.includes(v));
    const f16 = backend === 'webgpu' && !probe.gpu!.shaderF16 ? have.find((v) => F16_VARIANTS.has(v)) : undefined;
    if (f16) pre.push(`${f16} needs shader-f16, which this GPU lacks`);
    if (!order.length)
      return { plan: null, soft: false, rejected: [...pre, `the model has no variant ${label} can run`] };
  } else {
    let v: Variant = wanted;
    const twin = F32_TWIN[v];
    if (backend === 'webgpu' && F16_VARIANTS.has(v) && !probe.gpu!.shaderF16 && twin && have.includes(twin)) {
      pre.push(`${v} needs shader-f16; using ${twin}`);
      v = twin;
    }
    if (!have.includes(v))
      return { plan: null, soft: false, rejected: [`the model has no ${v} variant (it has ${have.join(', ')})`] };
    order = [v];
  }
  const rejected: string[] = [];
  // Of the variants over the iPhone/iPad budget only the one with the smallest peak is named.
  let overBudget: Check | null = null;
  const rejectedWithBudget = () => (overBudget ? [...rejected, overBudget.overBudget!] : rejected);
  let softPick: { variant: Variant; c: Check } | null = null;
  for (const v of order) {
    const c = check(ctx, backend, v, explicitWebGpu);
    if (c.hard.length) {
      for (const h of c.hard) if (h !== c.overBudget && !rejected.includes(h)) rejected.push(h);
      if (c.overBudget && (!overBudget || c.peak < overBudget.peak)) overBudget = c;
      continue;
    }
    if (c.soft.length) {
      softPick ??= { variant: v, c };
      continue;
    }
    return { plan: makePlan(ctx, backend, v, c, [...pre, ...c.notes]), soft: false, rejected: rejectedWithBudget() };
  }
  if (softPick) {
    const { variant, c } = softPick;
    // An explicit WebGPU setting keeps WebGPU even when the server would be preferable.
    return {
      plan: makePlan(ctx, backend, variant, c, [...pre, ...c.soft, ...c.notes]),
      soft: !explicitWebGpu,
      rejected: rejectedWithBudget(),
    };
  }
  if (explicitWebGpu) {
    // The settings ask for WebGPU and there is an adapter: try it anyway (the fallbacks catch a failure).
    const v = order[0]!;
    const c = check(ctx, backend, v, true);
    const warn = c.hard.map((h) => `${h}; trying WebGPU as the settings ask`);
    return { plan: makePlan(ctx, backend, v, c, [...pre, ...warn, ...c.soft, ...c.notes]), soft: false, rejected: [] };
  }
  return { plan: null, soft: false, rejected: [...pre, ...rejectedWithBudget()] };
}

function makePlan(ctx: Context, backend: DeviceBackend, variant: Variant, c: Check, reasons: string[]): Plan {
  const what = backend === 'webgpu' ? 'WebGPU' : 'WASM (CPU)';
  const how = c.graphs === 'one-at-a-time' ? ', one graph at a time' : '';
  const budget = ctx.iosDevice ? ` within this ${ctx.iosDevice}'s ${gb(ctx.budget)} budget` : '';
  return {
    backend,
    variant,
    estimatedPeakBytes: c.peak,
    ...(c.graphs === 'one-at-a-time' ? { graphs: c.graphs } : {}),
    reasons: [
      ...reasons,
      `${variant} on ${what}${how}, estimated peak ${gb(c.peak)}${c.peak <= ctx.budget ? budget : ''}`,
    ],
  };
}

function serverPlan(reason: string): Plan {
  return { backend: 'server', variant: null, estimatedPeakBytes: null, reasons: [reason] };
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}

function blocked(backend: Plan['backend'], reasons: string[], needsConsent?: { url: string }): PlanResult {
  return {
    backend,
    variant: null,
    estimatedPeakBytes: null,
    reasons: dedupe(reasons),
    fallbacks: [],
    blocked: true,
    ...(needsConsent ? { needsConsent } : {}),
  };
}

function withReasons(plan: Plan, before: string[]): Plan {
  return { ...plan, reasons: dedupe([...before, ...plan.reasons]) };
}

/** Decide where and how to transcribe.  `manifest` null: the model description could not be fetched. */
export function planBackend(probe: DeviceProbe, manifest: ModelManifest | null, settings: PlannerSettings): PlanResult {
  const server = settings.server;
  const serverUsable = !!server && server.consented;
  const consent = server && !server.consented ? { url: server.url } : undefined;

  if (settings.where === 'server') {
    if (!server)
      return blocked('server', [
        'no server is configured: enter a server URL, or choose Automatic or Only on this device',
      ]);
    if (!server.consented)
      return blocked('server', [`audio is sent to ${server.url} only after you agree to it`], consent);
    return {
      ...serverPlan(`transcribing on the server ${server.url}, as the settings ask`),
      fallbacks: [],
      live: 'server',
    };
  }

  const { os } = detectPlatform(probe.userAgent, probe.maxTouchPoints);
  let gpu: Candidate, wasm: Candidate;
  if (manifest) {
    const ctx: Context = {
      probe,
      manifest,
      settings,
      iosDevice: os === 'ios' ? 'iPhone' : os === 'ipados' ? 'iPad' : null,
      budget: settings.iosBudgetBytes ?? IOS_BUDGET_BYTES,
    };
    gpu = deviceCandidate(ctx, 'webgpu');
    wasm = deviceCandidate(ctx, 'wasm');
  } else {
    const none: Candidate = { plan: null, soft: false, rejected: ['the model description could not be fetched'] };
    gpu = none;
    wasm = none;
  }
  const auto = settings.where === 'auto';
  const serverFallback = auto && serverUsable ? [serverPlan(`the server ${server.url}`)] : [];
  const onDevice = [gpu, wasm].filter((c) => c.plan).map((c) => c.plan!);
  const fallbacksAfter = (backend: Plan['backend']): Plan[] => {
    if (backend === 'webgpu') return [...serverFallback, ...(wasm.plan ? [wasm.plan] : [])];
    if (backend === 'wasm') return serverFallback;
    return onDevice;
  };
  const result = (plan: Plan, before: string[]): PlanResult => {
    const live = liveSourceFor(plan, settings);
    const note =
      plan.graphs !== 'one-at-a-time'
        ? []
        : live === 'server'
          ? [`live dictation: the text comes from the server ${server?.url ?? ''} as you speak`]
          : ['live dictation: the recording is kept and transcribed on this device when you press Stop'];
    const planned = withReasons(plan, before);
    return {
      ...planned,
      reasons: dedupe([...planned.reasons, ...note]),
      fallbacks: fallbacksAfter(plan.backend),
      live,
    };
  };

  // 1. An on-device plan that fits every rule.
  if (gpu.plan && !gpu.soft) return result(gpu.plan, gpu.rejected);
  if (wasm.plan && !wasm.soft) return result(wasm.plan, [...gpu.rejected, ...wasm.rejected]);
  const rejected = [...gpu.rejected, ...wasm.rejected];
  // 2. Automatic: the server, when it is configured and agreed to.
  if (auto && serverUsable) {
    const soft = [gpu, wasm].flatMap((c) => (c.plan ? c.plan.reasons.slice(0, -1) : []));
    return result(serverPlan(`transcribing on the server ${server.url}`), [...rejected, ...soft]);
  }
  // 3. An on-device plan that breaks only the soft rule (deviceMemory), and there is no usable server.
  const soft = gpu.plan ? gpu : wasm.plan ? wasm : null;
  if (soft?.plan) return result(soft.plan, soft === gpu ? gpu.rejected : rejected);
  // 4. Nothing can run.
  const backend: Plan['backend'] = probe.gpu && settings.backend !== 'wasm' ? 'webgpu' : 'wasm';
  if (!auto) return blocked(backend, [...rejected, 'nothing fits on this device; choose Automatic to use a server']);
  if (consent)
    return blocked(backend, [...rejected, `agree to send audio to ${consent.url} to transcribe there`], consent);
  return blocked(backend, [...rejected, 'nothing fits on this device and no server is configured: enter a server URL']);
}
