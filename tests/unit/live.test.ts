/**
 * The live session's scheduling with a fake VAD (probabilities by frame) and a fake decoder whose speed the test
 * controls: finals in order and never dropped, partials only while idle and at most every partialEveryMs, none after
 * a segment's final, backlog reported, and finish() resolving after the last final.
 */
import { describe, expect, test } from 'vitest';
import type { LiveEvent } from '../../src/core/asr/contract.ts';
import { LiveSession } from '../../src/core/live/live.ts';
import { SampleStore } from '../../workers/dictation/sample-store.ts';

const F = 512;
const speech = (frames: number) => Array(frames).fill(0.9) as number[];
const quiet = (frames: number) => Array(frames).fill(0.02) as number[];

/** Feed `probs` frame by frame in (simulated) real time: 32 ms per frame on a fake clock. */
async function simulate(probs: number[], decodeMs: number, partialEveryMs = 1000) {
  let clock = 0;
  const events: LiveEvent[] = [];
  const store = new SampleStore();
  const decodes: { kind: string; samples: number }[] = [];
  const session = new LiveSession({
    // The frame's first sample carries its index.
    probability: async (frame) => probs[frame[0] as number] ?? 0,
    decoder: {
      decode: async (samples, kind, signal) => {
        decodes.push({ kind, samples: samples.length });
        const until = clock + decodeMs;
        // Like the model host: a decode stops between steps once its signal is aborted.
        while (clock < until) {
          await new Promise((r) => setTimeout(r, 0));
          if (signal.aborted) {
            decodes.at(-1)!.kind += ' (stopped)';
            throw signal.reason;
          }
        }
        return { text: `${kind}:${samples.length}`, backend: 'fake' };
      },
    },
    emit: (e) => events.push(e),
    now: () => clock,
    partialEveryMs,
  });
  for (let i = 0; i < probs.length; i++) {
    const frame = new Float32Array(F).fill(i);
    store.append(frame);
    session.feed(store);
    for (let k = 0; k < 8; k++) await new Promise((r) => setTimeout(r, 0));
    clock += 32;
  }
  const finishing = session.finish(store);
  const ticker = setInterval(() => (clock += 32), 1);
  await finishing;
  clearInterval(ticker);
  return { events, decodes };
}

describe('live session', () => {
  test('two utterances: two finals in order, partials for the long one only while it is open', async () => {
    const probs = [...quiet(10), ...speech(100), ...quiet(40), ...speech(30), ...quiet(40)];
    const { events } = await simulate(probs, 50);
    const finals = events.filter((e): e is Extract<LiveEvent, { type: 'final' }> => e.type === 'final');
    expect(finals.map((f) => f.id)).toEqual([1, 2]);
    expect(finals[0]!.start).toBeLessThan(finals[1]!.start);
    const partials = events.filter((e): e is Extract<LiveEvent, { type: 'partial' }> => e.type === 'partial');
    expect(partials.filter((p) => p.id === 1).length).toBeGreaterThanOrEqual(2);
    // No partial of a segment after its final.
    for (const f of finals) {
      const at = events.indexOf(f);
      expect(events.slice(at).some((e) => e.type === 'partial' && e.id === f.id)).toBe(false);
    }
    // Partials at most about once a second (3.2 s of speech in segment 1 → at most 4).
    expect(partials.filter((p) => p.id === 1).length).toBeLessThanOrEqual(4);
    // Latency in audio time: a final is ready the hangover after the speech (500 ms, less the 100 ms tail already
    // in the segment) plus the 50 ms decode, rounded up to the 32 ms frames the fake clock moves by.
    for (const f of finals) {
      const after = (f.atSample - f.end * 16_000) / 16_000;
      expect(after, `final ${f.id}`).toBeGreaterThanOrEqual(0.4 + 0.05);
      expect(after, `final ${f.id}`).toBeLessThanOrEqual(0.4 + 0.05 + 0.064);
    }
    // Every frame went through the VAD, some while a decode was in flight, none waiting (the fake VAD is instant).
    const done = events.at(-1) as Extract<LiveEvent, { type: 'done' }>;
    expect(done.type).toBe('done');
    expect(done.stats.vadFrames).toBe(probs.length);
    expect(done.stats.framesWhileDecoding).toBeGreaterThan(0);
    expect(done.stats.idleFrames + done.stats.framesWhileDecoding).toBe(probs.length);
    expect(done.stats.maxVadLagMs).toBe(0);
    expect(done.stats.decodes).toBe(partials.length + finals.length);
  });

  test('a partial still decoding when its segment closes is stopped: the final does not wait for it', async () => {
    // 1.9 s of speech; partials start 1 s apart and take 600 ms, so the second one (from ~2.0 s) is still running
    // when the segment closes (~2.4 s: the last speech frame + the 500 ms hangover).
    const probs = [...quiet(5), ...speech(60), ...quiet(60)];
    const { events, decodes } = await simulate(probs, 600);
    expect(decodes.map((d) => d.kind)).toEqual(['partial', 'partial (stopped)', 'final']);
    const finals = events.filter((e): e is Extract<LiveEvent, { type: 'final' }> => e.type === 'final');
    expect(finals).toHaveLength(1);
    // Ready the hangover (less the tail) plus one decode after the speech, not after the partial's remaining time.
    const after = (finals[0]!.atSample - finals[0]!.end * 16_000) / 16_000;
    expect(after).toBeGreaterThanOrEqual(0.4 + 0.6);
    expect(after).toBeLessThanOrEqual(0.4 + 0.6 + 0.064);
    // The stopped partial's text is never shown.
    expect(events.filter((e) => e.type === 'partial')).toHaveLength(1);
  });

  test('a decoder slower than speech: partials stop, finals queue and all arrive, backlog is reported', async () => {
    const probs: number[] = [...quiet(5)];
    for (let k = 0; k < 6; k++) probs.push(...speech(20), ...quiet(20));
    const { events, decodes } = await simulate(probs, 3000);
    const finals = events.filter((e) => e.type === 'final');
    expect(finals).toHaveLength(6);
    expect(events.some((e) => e.type === 'backlog' && e.segments >= 2)).toBe(true);
    // Once finals wait, no partial is decoded before they are done.
    const firstQueued = events.findIndex((e) => e.type === 'backlog' && e.segments >= 1);
    const lastFinal = events.map((e) => e.type).lastIndexOf('final');
    expect(events.slice(firstQueued, lastFinal).some((e) => e.type === 'partial')).toBe(false);
    expect(decodes.filter((d) => d.kind === 'final')).toHaveLength(6);
  });

  test('silence gives nothing; a click is discarded without a final', async () => {
    expect((await simulate(quiet(100), 10)).events.filter((e) => e.type !== 'done' && e.type !== 'backlog')).toEqual(
      [],
    );
    const click = await simulate([...quiet(10), ...speech(3), ...quiet(40)], 10);
    expect(click.events.map((e) => e.type).filter((t) => t !== 'backlog')).toEqual(['speech-start', 'discard', 'done']);
  });

  test('a VAD that fails mid-recording: an error, the open segment still gets its final, then done', async () => {
    const events: LiveEvent[] = [];
    const store = new SampleStore();
    let calls = 0;
    const session = new LiveSession({
      probability: async () => {
        if (++calls > 40) throw new Error('wasm trap');
        return calls > 10 ? 0.9 : 0.02;
      },
      decoder: { decode: async (samples, kind) => ({ text: `${kind}:${samples.length}`, backend: 'fake' }) },
      emit: (e) => events.push(e),
    });
    for (let i = 0; i < 60; i++) {
      store.append(new Float32Array(F));
      session.feed(store);
      for (let k = 0; k < 4; k++) await new Promise((r) => setTimeout(r, 0));
    }
    await session.finish(store);
    const types = events.map((e) => e.type).filter((t) => t !== 'backlog' && t !== 'partial');
    expect(types).toEqual(['speech-start', 'error', 'final', 'done']);
  });

  test('cancel (the model is released) ends the session with done, dropping what waits', async () => {
    const events: LiveEvent[] = [];
    const store = new SampleStore();
    const session = new LiveSession({
      probability: async () => 0.9,
      decoder: { decode: () => new Promise(() => undefined) },
      emit: (e) => events.push(e),
    });
    store.append(new Float32Array(F * 10));
    session.feed(store);
    await new Promise((r) => setTimeout(r, 10));
    const finishing = session.finish(store);
    session.cancel();
    await finishing;
    expect(events.at(-1)?.type).toBe('done');
    expect(events.filter((e) => e.type === 'done')).toHaveLength(1);
  });
});
