import { expect, test } from 'vitest';
import {
  isMainToWorker,
  isMainToWorklet,
  isWorkerToMain,
  isWorkerToWorklet,
  isWorkletToMain,
  isWorkletToWorker,
} from '../../src/core/protocol.ts';

test('receivers accept well-formed messages', () => {
  expect(isWorkletToWorker({ type: 'frame', seq: 3, samples: new Float32Array(512), rms: 0, peak: 0 })).toBe(true);
  expect(isWorkletToWorker({ type: 'capture-started', recordingId: 'rec-1', inputRateHz: 48000 })).toBe(true);
  expect(
    isWorkletToWorker({
      type: 'capture-stopped',
      recordingId: 'rec-1',
      tail: new Float32Array(3),
      frames: 2,
      inputSamples: 9,
    }),
  ).toBe(true);
  expect(isWorkerToWorklet({ type: 'recycle', buffer: new ArrayBuffer(2048) })).toBe(true);
  expect(isMainToWorklet({ type: 'stop' })).toBe(true);
  expect(isWorkletToMain({ type: 'stopped', recordingId: 'rec-1' })).toBe(true);
  expect(isMainToWorker({ type: 'call', call: 'recording-wav', id: 1, req: { recordingId: 'rec-2' } })).toBe(true);
  expect(isWorkerToMain({ type: 'error', error: { code: 'INTERNAL', detail: 'x' } })).toBe(true);
});

test('receivers reject anything else', () => {
  for (const bad of [null, undefined, 42, 'frame', {}, { type: 'nope' }, { type: 42 }, []]) {
    expect(isWorkletToWorker(bad)).toBe(false);
    expect(isWorkerToWorklet(bad)).toBe(false);
    expect(isMainToWorklet(bad)).toBe(false);
    expect(isWorkletToMain(bad)).toBe(false);
    expect(isMainToWorker(bad)).toBe(false);
    expect(isWorkerToMain(bad)).toBe(false);
  }
  // right type, wrong payload
  expect(isWorkletToWorker({ type: 'frame', seq: '3', samples: new Float32Array(1) })).toBe(false);
  expect(isWorkletToWorker({ type: 'frame', seq: 3, samples: [0, 1] })).toBe(false);
  expect(isWorkerToWorklet({ type: 'recycle', buffer: new Float32Array(4) })).toBe(false);
  expect(isMainToWorklet({ type: 'start' })).toBe(false);
});
