/**
 * The live segmenter on synthetic probabilities (exact sample positions) and on real speech through Silero VAD is in
 * vad.test.ts.  Each rule has a case: hysteresis, hangover, minimum speech, pre-roll, tail, the 30 s cut at the
 * quietest point (the file path's planWindows on the same audio), and continuity across a cut.
 */
import { describe, expect, test } from 'vitest';
import { planWindows } from '../../src/core/asr/windows.ts';
import {
  quietestCut,
  SEGMENTER_DEFAULTS,
  Segmenter,
  VAD_FRAME_SAMPLES as F,
  type Segment,
  type SegmentEvent,
} from '../../src/core/live/segmenter.ts';

/** Feed frames whose samples are their stream index (so audio positions can be checked exactly). */
function run(probs: number[], options = {}, flush = true) {
  const s = new Segmenter(options);
  const events: SegmentEvent[] = [];
  probs.forEach((p, i) => {
    const frame = new Float32Array(F);
    for (let k = 0; k < F; k++) frame[k] = i * F + k;
    events.push(...s.push(frame, p));
  });
  if (flush) events.push(...s.flush());
  return events;
}

const ends = (events: SegmentEvent[]) =>
  events.filter((e): e is Extract<SegmentEvent, { type: 'end' }> => e.type === 'end').map((e) => e.segment);
const frames = (ms: number) => Math.round((ms * 16) / F);

function expectContiguous(seg: Segment) {
  expect(seg.audio.length).toBe(seg.end - seg.start);
  expect(seg.audio[0]).toBe(seg.start);
  expect(seg.audio[seg.audio.length - 1]).toBe(seg.end - 1);
}

describe('segmenter', () => {
  test('one utterance: pre-roll before the onset, the tail after the last speech frame, ended by the hangover', () => {
    const probs = [...Array(20).fill(0.1), ...Array(30).fill(0.9), ...Array(40).fill(0.1)];
    const events = run(probs, {}, false);
    const [seg] = ends(events);
    expect(ends(events)).toHaveLength(1);
    expectContiguous(seg!);
    expect(seg!.start).toBe(20 * F - SEGMENTER_DEFAULTS.preRollMs * 16); // the pre-roll
    expect(seg!.end).toBe(50 * F + 100 * 16); // 100 ms after the last speech frame
    // Closed by the hangover: 500 ms (16 frames) below the stop threshold after frame 49.
    const closing = events.findIndex((e) => e.type === 'end');
    expect(closing).toBeGreaterThan(0);
    const s = new Segmenter();
    let closedAt = -1;
    probs.forEach((p, i) => {
      if (s.push(new Float32Array(F), p).some((e) => e.type === 'end') && closedAt < 0) closedAt = i;
    });
    expect(closedAt).toBe(50 + Math.ceil((500 * 16) / F) - 1);
  });

  test('hysteresis: frames between the stop and start thresholds keep a segment open but do not open one', () => {
    const between = (SEGMENTER_DEFAULTS.startThreshold + SEGMENTER_DEFAULTS.stopThreshold) / 2;
    expect(ends(run(Array(60).fill(between)))).toHaveLength(0);
    const probs = [...Array(10).fill(0.9), ...Array(40).fill(between), ...Array(30).fill(0)];
    const [seg] = ends(run(probs));
    expect(seg!.end).toBe(50 * F + 100 * 16);
  });

  test('less speech than the minimum is discarded; two utterances give two segments', () => {
    const short = run([...Array(5).fill(0), ...Array(frames(200)).fill(0.9), ...Array(30).fill(0)]);
    expect(ends(short)).toHaveLength(0);
    expect(short.map((e) => e.type)).toEqual(['start', 'discard']);
    const two = ends(
      run([...Array(10).fill(0.9), ...Array(frames(1500)).fill(0), ...Array(10).fill(0.9), ...Array(20).fill(0)]),
    );
    expect(two).toHaveLength(2);
    two.forEach(expectContiguous);
    expect(two[1]!.start).toBeGreaterThan(two[0]!.end);
  });

  test('Stop mid-utterance ends the open segment with everything heard', () => {
    const [seg] = ends(run([...Array(3).fill(0), ...Array(20).fill(0.9)]));
    expectContiguous(seg!);
    expect(seg!.end).toBe(23 * F);
  });

  test('30 s of speech: cut at the quietest point of the last 2 s (as planWindows), nothing lost or repeated', () => {
    const total = Math.ceil((65 * 16_000) / F);
    // Speech-like audio with a quiet 20 ms dip at 29.1 s.
    const s = new Segmenter();
    const events: SegmentEvent[] = [];
    const all = new Float32Array(total * F);
    for (let i = 0; i < all.length; i++) {
      const t = i / 16_000;
      all[i] = (Math.abs(t - 29.1) < 0.01 ? 0.001 : 0.5) * Math.sin(i * 0.3);
    }
    for (let i = 0; i < total; i++) events.push(...s.push(all.subarray(i * F, (i + 1) * F), 0.9));
    events.push(...s.flush());
    const segs = ends(events);
    expect(segs.length).toBe(3);
    expect(segs[0]!.end).toBe(planWindows(all.subarray(0, 480_001))[0]!.end);
    expect(Math.abs(segs[0]!.end / 16_000 - 29.1)).toBeLessThan(0.02);
    for (let k = 1; k < segs.length; k++) expect(segs[k]!.start).toBe(segs[k - 1]!.end);
    for (const seg of segs) {
      expect(seg.end - seg.start).toBeLessThanOrEqual(480_000);
      expect(seg.audio).toEqual(all.slice(seg.start, seg.end));
    }
    expect(segs.at(-1)!.end).toBe(all.length);
  });

  test('after a cut, the continuation is kept however short its speech', () => {
    const total = Math.ceil((30.2 * 16_000) / F);
    const probs = [...Array(total).fill(0.9), ...Array(40).fill(0)];
    const events = run(probs);
    const segs = ends(events);
    expect(events.some((e) => e.type === 'discard')).toBe(false);
    expect(segs.length).toBe(2);
    expect(segs[1]!.start).toBe(segs[0]!.end);
    expect(segs[1]!.end).toBe(total * F + 100 * 16);
  });

  test('quietestCut on exactly 30 s equals the file rule on the same audio extended by silence', () => {
    const a = new Float32Array(480_000).map((_, i) => Math.sin(i * 0.01) * (i % 7919 < 300 ? 0.01 : 1));
    const padded = new Float32Array(480_001);
    padded.set(a);
    expect(quietestCut(a)).toBe(planWindows(padded)[0]!.end);
  });
});
