/**
 * Where live dictation's text comes from once a plan runs: the one place the worker decides it (backends.ts calls
 * it when a plan starts; the answer travels to the page as `BackendInfo.live`).  Its own file, with no worker
 * imports, so that the Node unit test (tests/unit/live-source.test.ts) checks it as it is.
 */
import { liveSourceFor, type GraphResidency, type LiveSource, type Plan } from '../../src/core/planner.ts';
import type { RoutingSettings } from '../../src/core/protocol.ts';

/**
 * Where live text comes from when `plan` runs with its graphs `residency`: the planner's rule (liveSourceFor), applied
 * to the residency the worker actually loads (a fallback plan, or the `graphs=one` test knob forcing one graph at a
 * time on a plan the planner made with both, has no `live` of the planner's for it).
 */
export function liveSource(plan: Plan, residency: GraphResidency, routing: RoutingSettings): LiveSource {
  return liveSourceFor({ backend: plan.backend, graphs: residency }, routing);
}
