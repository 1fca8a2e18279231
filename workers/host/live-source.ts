/**
 * Where live dictation's text comes from once a plan runs: the one place the worker decides it (backends.ts calls
 * it when a plan starts; the answer travels to the page as `BackendInfo.live`).  Its own file, with no worker
 * imports, so that the Node unit test (tests/unit/live-source.test.ts) checks it as it is.
 */
import type { GraphResidency, LiveSource, Plan, PlanResult } from '../../src/core/planner.ts';
import type { RoutingSettings } from '../../src/core/protocol.ts';

/**
 * Where live text comes from when `plan` runs with its graphs `residency`.  The planner's own answer
 * (`PlanResult.live`) when it planned this residency; otherwise (a fallback plan, or the `graphs=one` test knob
 * forcing one graph at a time on a plan the planner made with both) the planner's rule: the server's own plan gives
 * live text from the server; graphs together decode live on the device; one graph at a time cannot decode as the
 * user speaks (two graph swaps per segment), so live text comes from the server when Automatic may use a consented
 * one, and otherwise the recording is transcribed on the device when Stop is pressed.
 */
export function liveSource(
  plan: Plan & Pick<PlanResult, 'live'>,
  residency: GraphResidency,
  routing: RoutingSettings,
): LiveSource {
  if (plan.backend === 'server') return 'server';
  if (residency !== 'one-at-a-time') return 'device';
  if (plan.live && plan.graphs === 'one-at-a-time') return plan.live;
  return routing.where === 'auto' && !!routing.server?.consented ? 'server' : 'after-stop';
}
