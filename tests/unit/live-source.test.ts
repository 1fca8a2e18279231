/**
 * Where live dictation's text comes from in the worker (workers/host/live-source.ts): the planner's rule
 * (liveSourceFor) applied to the residency the load uses, so the planner's own `live` for its plans, and the same
 * answer when the `graphs=one` knob forces one graph at a time on a plan made with both (or for a fallback plan).
 * The e2e side (the page's note, no live decode, the recording transcribed at Stop, live text from the server) is
 * e2e/live-one-graph.spec.ts.
 */
import { describe, expect, test } from 'vitest';
import type { Plan } from '../../src/core/planner.ts';
import type { RoutingSettings } from '../../src/core/protocol.ts';
import { liveSource } from '../../workers/host/live-source.ts';

const URL_ = 'http://127.0.0.1:8080/v1';
const wasm: Plan = { backend: 'wasm', variant: 'fp32', estimatedPeakBytes: 1, reasons: [] };
const server: Plan = { backend: 'server', variant: null, estimatedPeakBytes: null, reasons: [] };
const routing = (where: RoutingSettings['where'], consented: boolean | null): RoutingSettings => ({
  where,
  server: consented === null ? null : { url: URL_, consented },
});

describe('liveSource', () => {
  test('graphs together: live on the device, whatever the server', () => {
    expect(liveSource(wasm, 'both', routing('auto', true))).toBe('device');
    expect(liveSource(wasm, 'both', routing('device', null))).toBe('device');
  });
  test("the server's own plan: live from the server", () => {
    expect(liveSource(server, 'both', routing('server', true))).toBe('server');
  });
  test.each([
    ['Automatic, server allowed', routing('auto', true), 'server'],
    ['Automatic, server not agreed to', routing('auto', false), 'after-stop'],
    ['Automatic, no server', routing('auto', null), 'after-stop'],
    ['Only on this device, server allowed before', routing('device', true), 'after-stop'],
  ] as const)('the knob forces one graph at a time on a plan made with both, %s: %s', (_, r, want) => {
    expect(liveSource(wasm, 'one-at-a-time', r)).toBe(want);
  });
});
