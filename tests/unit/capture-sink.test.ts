import { afterEach, expect, test } from 'vitest';
import { CaptureSink } from '../../workers/dictation/capture-sink.ts';
import { SampleStore } from '../../workers/dictation/sample-store.ts';
import { FRAME_SAMPLES, HOP_SAMPLES, N_MELS } from '../../src/core/constants.ts';
import { LogMel } from '../../src/core/dsp/mel.ts';
import type { CaptureStats } from '../../src/core/protocol.ts';

const channels: InstanceType<typeof MessageChannel>[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

function setup() {
  const channel = new MessageChannel();
  channels.push(channel);
  const finished: { stats: CaptureStats; poolMisses: number }[] = [];
  const sink = new CaptureSink('rec-7', channel.port1 as never, new LogMel(), {
    onFinished: (stats, poolMisses) => finished.push({ stats, poolMisses }),
  });
  const recycled: ArrayBuffer[] = [];
  // Node's MessagePort hands 'message' listeners the data itself.
  channel.port2.on('message', (data: { buffer: ArrayBuffer }) => recycled.push(data.buffer));
  const worklet = channel.port2;
  const frame = (seq: number, value: number) => {
    const samples = new Float32Array(FRAME_SAMPLES).fill(value);
    worklet.postMessage({ type: 'frame', seq, samples, rms: value, peak: value }, [samples.buffer]);
  };
  const settle = () => new Promise((r) => setTimeout(r, 20));
  return { sink, worklet, frame, finished, recycled, settle };
}

test('frames are stored in order, recycled, and the tail completes the recording', async () => {
  const { sink, worklet, frame, finished, recycled, settle } = setup();
  worklet.postMessage({ type: 'capture-started', recordingId: 'rec-7', inputRateHz: 48000 });
  for (let i = 0; i < 5; i++) frame(i, i / 10);
  worklet.postMessage({
    type: 'capture-stopped',
    recordingId: 'rec-7',
    tail: new Float32Array(100).fill(9),
    frames: 5,
    inputSamples: 7980,
    poolMisses: 0,
  });
  await settle();
  expect(recycled).toHaveLength(5);
  expect(recycled.every((b) => b.byteLength === FRAME_SAMPLES * 4)).toBe(true);
  expect(finished).toHaveLength(1);
  const { stats } = finished[0]!;
  expect(stats).toMatchObject({ samples: 5 * FRAME_SAMPLES + 100, frames: 5, lostFrames: 0, duplicateFrames: 0 });
  expect(stats.inputRateHz).toBe(48000);
  expect(stats.inputSamples).toBe(7980);
  const all = sink.store.slice();
  expect(all[0]).toBe(0);
  expect(all[FRAME_SAMPLES * 3]).toBeCloseTo(0.3);
  expect(all[all.length - 1]).toBe(9);
  // one log-mel column per 10 ms once the next 200 samples are in
  const mel = sink.takeMel()!;
  expect(mel.columns).toBe(Math.floor((all.length - 200) / HOP_SAMPLES) + 1);
  expect(mel.data.length).toBe(mel.columns * N_MELS);
});

test('a gap or a repeated sequence number is counted, and a repeat is not stored twice', async () => {
  const { sink, worklet, frame, finished, settle } = setup();
  frame(0, 0.1);
  frame(1, 0.2);
  frame(1, 0.2);
  frame(4, 0.4);
  worklet.postMessage({
    type: 'capture-stopped',
    recordingId: 'rec-7',
    tail: new Float32Array(0),
    frames: 5,
    inputSamples: 0,
    poolMisses: 0,
  });
  await settle();
  expect(finished[0]!.stats).toMatchObject({ lostFrames: 2, duplicateFrames: 1, frames: 3 });
  expect(sink.store.length).toBe(3 * FRAME_SAMPLES);
});

test('the sample store grows across blocks and slices anywhere', () => {
  const store = new SampleStore();
  const chunk = Float32Array.from({ length: 70_001 }, (_, i) => i);
  for (let i = 0; i < 5; i++) store.append(chunk);
  expect(store.length).toBe(5 * 70_001);
  const s = store.slice(159_990, 160_010);
  expect(Array.from(s)).toEqual(Array.from({ length: 20 }, (_, i) => (159_990 + i) % 70_001));
  expect(store.view(10, 20)[0]).toBe(10);
  expect(store.slice(-5, 3).length).toBe(3);
});
