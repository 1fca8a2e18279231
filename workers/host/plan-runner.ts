/**
 * The plans a load tries and the order it tries them in.  The planner (planner.ts) picks a plan and its fallbacks
 * from the device probe, the manifest and the user's settings; a load starts the first plan that starts (a warm-up
 * that fails moves on to the next), and a failover later starts the next of the remaining ones.  The server is used
 * only with the user's consent.  Starting one plan is backends.ts; the model host keeps what started.
 */
import type { ModelManifest, Variant } from '../../src/core/asr/contract.ts';
import type { BackendChoice, RoutingSettings } from '../../src/core/protocol.ts';
import { planBackend, wasmMissingOp, type Plan, type PlannerSettings } from '../../src/core/planner.ts';
import { type DeviceProbe } from '../../src/core/device.ts';
import type { ActiveBackend, LoadContext } from './backends.ts';
import { errorMessage, isBackendFailure, toErrorInfo } from './errors.ts';
import { WorkerError } from './worker-error.ts';

/** How a plan reads in the UI's reasons and fallbacks. */
export function describePlan(p: Plan): string {
  if (p.backend === 'server') return 'the server';
  return `${p.backend === 'webgpu' ? 'WebGPU' : 'CPU (WASM)'}${p.variant ? ` ${p.variant}` : ''}`;
}

/** Whether `routing` (the settings now) still lets audio go to its server. */
export function serverAllowed(routing: RoutingSettings): boolean {
  return routing.where !== 'device' && !!routing.server?.consented;
}

/** What the page asked a load for. */
export interface LoadRequest {
  wanted: Variant | 'auto';
  choice: BackendChoice;
  routing: RoutingSettings;
  /** Load only a variant that is completely stored (`ModelLoadOptions.ifStored`). */
  ifStored: boolean;
  /** The load keeps the model in this browser's storage (`ModelLoadOptions.storage` 'store'). */
  usesStore: boolean;
}

/**
 * The plans to try, in order: the planner's plan and its fallbacks.  Throws when nothing may run (no backend, no
 * consent yet, or not stored when only a stored model was asked for).
 */
export function plansFor(probe: DeviceProbe, manifest: ModelManifest | null, request: LoadRequest): Plan[] {
  const { routing, choice } = request;
  const settings: PlannerSettings = {
    where: routing.where,
    backend: choice,
    variant: request.wanted,
    server: routing.server ? { url: routing.server.url, consented: routing.server.consented } : null,
  };
  const plan = planBackend(probe, manifest, settings);
  if (plan.blocked)
    throw new WorkerError(plan.needsConsent ? 'CONSENT_REQUIRED' : 'NO_ENGINE', plan.reasons.join('; '));
  if (
    request.ifStored &&
    (!request.usesStore || !manifest || plan.backend === 'server' || !probe.storedVariants?.includes(plan.variant!))
  )
    throw new WorkerError(
      'NOT_STORED',
      `${plan.variant ?? 'the model'} at revision ${manifest?.revision ?? '?'} is not complete in this browser's storage`,
    );
  const plans = [plan as Plan, ...plan.fallbacks];
  // An explicit WebGPU choice still keeps the CPU as its way out (nothing lost when the GPU fails).
  if (choice === 'webgpu' && !plans.some((p) => p.backend === 'wasm')) {
    const cpu = planBackend(probe, manifest, { ...settings, backend: 'wasm' });
    if (!cpu.blocked && cpu.backend === 'wasm') plans.push(cpu);
  }
  return plans;
}

/**
 * A load: start the first of `plans` that starts, and return it with what failed before it (for its reasons) and
 * the plans after it (for failover).  A failure that is not the backend's (a cancel, a paused download) ends the
 * load at once; when every plan fails, the first failure's code is reported with all of them.
 */
export async function startFirst(
  plans: Plan[],
  routing: RoutingSettings,
  start: (p: Plan) => Promise<ActiveBackend>,
  signal: AbortSignal,
): Promise<{ started: ActiveBackend; plan: Plan; failed: string[]; rest: Plan[] }> {
  const first = plans[0];
  const rest = [...plans];
  const failed: string[] = [];
  let firstError: unknown = null;
  while (rest.length) {
    const p = rest.shift()!;
    if (p.backend === 'server' && !routing.server?.consented) {
      if (!failed.length && p === first)
        throw new WorkerError(
          'CONSENT_REQUIRED',
          `sending audio to ${routing.server?.url ?? 'a server'} needs your permission`,
        );
      continue;
    }
    try {
      return { started: await start(p), plan: p, failed, rest };
    } catch (err) {
      if (signal.aborted || !isBackendFailure(err)) throw err;
      firstError ??= err;
      failed.push(`${describePlan(p)} failed (${errorMessage(err)})`);
    }
  }
  if (firstError && failed.length > 1) {
    const { code } = toErrorInfo(firstError);
    throw new WorkerError(code, `every backend failed: ${failed.join('; ')}`);
  }
  throw firstError ?? new WorkerError('NO_ENGINE', 'no backend could start');
}

/**
 * The plan a failover starts: a WASM plan runs the variant already stored (an f16 variant too: no second download
 * mid-job), unless the WASM build lacks one of its ops (`WASM_MISSING_OPS`; none in the plain build the WASM backend
 * loads, so q4f16 stays); then the planned WASM variant.
 */
function onStoredVariant(p: Plan, failed: ActiveBackend, ctx: LoadContext): Plan {
  const stored = failed.info.variant;
  if (
    p.backend === 'wasm' &&
    stored &&
    failed.info.backend !== 'server' &&
    ctx.store &&
    ctx.manifest &&
    !wasmMissingOp(ctx.manifest, stored)
  )
    return { ...p, variant: stored };
  return p;
}

/**
 * A failover: start the next of `remaining` (taken from it as tried; the server only while allowed) in place of
 * `failed`, or null when none starts, with why each one failed after `reason`.  `current` turns false when a release
 * or a newer load made this failover moot: then nothing more is tried, and what started is released.
 */
export async function startNext(
  remaining: Plan[],
  failed: ActiveBackend,
  ctx: LoadContext,
  reason: string,
  start: (p: Plan) => Promise<ActiveBackend>,
  signal: AbortSignal,
  current: () => boolean,
): Promise<{ started: ActiveBackend | null; plan?: Plan; why: string }> {
  let why = reason;
  while (remaining.length && !signal.aborted && current()) {
    const p = onStoredVariant(remaining.shift()!, failed, ctx);
    if (p.backend === 'server' && !serverAllowed(ctx.routing)) continue;
    try {
      const started = await start(p);
      if (!current()) {
        await started.pipeline?.release().catch(() => undefined);
        return { started: null, why };
      }
      return { started, plan: p, why };
    } catch (err) {
      if (signal.aborted) break;
      why = `${why}; ${describePlan(p)} failed too (${errorMessage(err)})`;
    }
  }
  return { started: null, why };
}
