/**
 * Comparisons for the capture tests: the app's recording against the control tap (e2e/helpers/control-tap.ts), and
 * the control against the played file block by block, so that every loss is located and attributed.
 *
 * Attribution: the control holds what the browser delivered to the AudioContext.  The app's recording must be
 * exactly the capture worklet's arithmetic on it (`matchControl`); whatever separates the control from the played
 * file happened upstream (the fake device, the browser's capture path) and is located by `upstreamEvents`.  The app's
 * recording is then compared with the file on the stretches between those events (`segmentNcc`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SAMPLE_RATE_HZ } from '../../workers/constants.ts';
import { Resampler } from '../../workers/dsp/resampler.ts';
import { encodeWavFloat32 } from '../../workers/dsp/wav.ts';
import { subsampleAlignment } from './audio.ts';

const QUANTUM = 128;

/** The capture worklet's arithmetic on `input` from its first sample: 128-sample blocks, then the flush. */
export function resampleLikeWorklet(input: Float32Array, inputRateHz: number): Float32Array {
  const r = new Resampler(inputRateHz, SAMPLE_RATE_HZ, QUANTUM);
  const out = new Float32Array(Math.ceil((input.length * SAMPLE_RATE_HZ) / inputRateHz) + 8);
  let n = 0;
  for (let at = 0; at < input.length; at += QUANTUM) {
    const len = Math.min(QUANTUM, input.length - at);
    const count = r.process(input.subarray(at, at + len), len);
    out.set(r.output.subarray(0, count), n);
    n += count;
  }
  for (let count = r.flush(); count > 0; count = r.flush()) {
    out.set(r.output.subarray(0, count), n);
    n += count;
  }
  return out.slice(0, n);
}

export interface ControlMatch {
  /** Control samples before the app's first (0 when both nodes got their first quantum together). */
  offset: number;
  /** Largest |ours - the worklet's arithmetic on the control| over the whole recording. */
  maxAbsDiff: number;
  /** Samples of ours that differ at all (a lost or repeated block shows as thousands). */
  differing: number;
  /** Our length minus the length the control's samples give. */
  lengthDiff: number;
}

/**
 * Which stretch of the control is the app's input: the app's worklet saw `inputSamples` samples, starting at a whole
 * quantum of the control (the control is connected first).  Each candidate start is tried on the first 4096
 * samples of ours; the best is compared over everything.
 */
export function matchControl(
  ours: Float32Array,
  control: Float32Array,
  inputRateHz: number,
  inputSamples: number,
): ControlMatch {
  const probeIn = Math.ceil((4096 * inputRateHz) / SAMPLE_RATE_HZ) + 1024;
  let best = { offset: 0, err: Infinity };
  for (let offset = 0; offset + probeIn <= control.length && offset <= 64 * QUANTUM; offset += QUANTUM) {
    const probe = resampleLikeWorklet(control.subarray(offset, offset + probeIn), inputRateHz);
    let err = 0;
    for (let i = 0; i < 4096 && i < ours.length; i++) err = Math.max(err, Math.abs(ours[i]! - probe[i]!));
    if (err < best.err) best = { offset, err };
  }
  const mine = resampleLikeWorklet(
    control.subarray(best.offset, Math.min(control.length, best.offset + inputSamples)),
    inputRateHz,
  );
  let maxAbsDiff = 0;
  let differing = 0;
  for (let i = 0; i < Math.min(mine.length, ours.length); i++) {
    const d = Math.abs(ours[i]! - mine[i]!);
    if (d > maxAbsDiff) maxAbsDiff = d;
    if (d > 0) differing++;
  }
  return { offset: best.offset, maxAbsDiff, differing, lengthDiff: ours.length - mine.length };
}

/** ncc of rec[from..to) against ref shifted by lag (rec[x] vs ref[x - lag]). */
function blockNcc(rec: Float32Array, ref: Float32Array, from: number, to: number, lag: number): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = Math.max(from, lag); i < Math.min(to, ref.length + lag); i++) {
    const x = rec[i]!;
    const y = ref[i - lag]!;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

function energy(x: Float32Array, from: number, to: number): number {
  let e = 0;
  for (let i = Math.max(0, from); i < Math.min(x.length, to); i++) e += x[i]! * x[i]!;
  return e;
}

function decimate(x: Float32Array, factor: number): Float32Array {
  const out = new Float32Array(Math.floor(x.length / factor));
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let j = 0; j < factor; j++) s += x[i * factor + j]!;
    out[i] = s / factor;
  }
  return out;
}

export interface BlockLag {
  /** Start of the block in the recording, in samples. */
  at: number;
  /** rec[at + i] best matches ref[at + i - lag] (whole samples). */
  lag: number;
  /** The lag to a fraction of a sample (a parabola through the ncc at lag - 1, lag, lag + 1). */
  fine: number;
  value: number;
}

/**
 * Where each block of `rec` sits in `ref` (blocks of `blockSamples`), following the position from block to block:
 * each block is first searched within 16 samples of the previous block's lag; only when nothing there correlates
 * (ncc < 0.5: the audio moved, or is not the file) is it searched within `maxShift` of `lag0` (on 8-fold decimated
 * copies, then to the sample).  Speech repeats itself every pitch period, so a wide search alone would put a quiet
 * block one period off.  Blocks with less than 1 % of the median block energy (pauses, the silence after the file)
 * or outside the file carry no position and are left out.
 */
export function lagTrack(
  rec: Float32Array,
  ref: Float32Array,
  lag0: number,
  blockSamples: number,
  maxShift: number,
): BlockLag[] {
  const f = 8;
  const recD = decimate(rec, f);
  const refD = decimate(ref, f);
  const energies: number[] = [];
  for (let at = 0; at + blockSamples <= rec.length; at += blockSamples)
    energies.push(energy(rec, at, at + blockSamples));
  const median = [...energies].sort((a, b) => a - b)[Math.floor(energies.length / 2)] ?? 0;
  const search = (at: number, from: number, to: number) => {
    let best = { lag: from, value: -Infinity };
    for (let lag = from; lag <= to; lag++) {
      const value = blockNcc(rec, ref, at, at + blockSamples, lag);
      if (value > best.value) best = { lag, value };
    }
    return best;
  };
  const out: BlockLag[] = [];
  let previous = lag0;
  energies.forEach((e, k) => {
    const at = k * blockSamples;
    if (at - lag0 < 0 || at - lag0 + blockSamples > ref.length) return;
    if (e < 0.01 * median || energy(ref, at - lag0, at - lag0 + blockSamples) < 0.01 * median) return;
    let best = search(at, previous - 16, previous + 16);
    if (best.value < 0.5) {
      let coarse = { lag: lag0, value: -Infinity };
      const from = Math.floor(at / f);
      const to = Math.floor((at + blockSamples) / f);
      for (let lag = Math.floor((lag0 - maxShift) / f); lag <= Math.ceil((lag0 + maxShift) / f); lag++) {
        const value = blockNcc(recD, refD, from, to, lag);
        if (value > coarse.value) coarse = { lag: lag * f, value };
      }
      const wide = search(at, coarse.lag - 2 * f, coarse.lag + 2 * f);
      if (wide.value > best.value) best = wide;
    }
    const before = blockNcc(rec, ref, at, at + blockSamples, best.lag - 1);
    const after = blockNcc(rec, ref, at, at + blockSamples, best.lag + 1);
    const curve = before - 2 * best.value + after;
    const fine = curve < 0 ? best.lag + (before - after) / (2 * curve) : best.lag;
    out.push({ at, lag: best.lag, fine, value: best.value });
    if (best.value >= 0.5) previous = best.lag;
  });
  return out;
}

export interface UpstreamEvent {
  kind: 'skipped quanta' | 'silence' | 'shift' | 'not the file';
  /** Where, in control samples [from, to). */
  from: number;
  to: number;
  /** skipped quanta: frames skipped; silence: zero samples; shift: change of the lag in samples (+ = inserted);
   * not the file: the block's best ncc with the file, in thousandths. */
  size: number;
}

/**
 * What separates the control from the played file, located: render quanta the graph skipped (`currentFrame`
 * jumps), runs of exact zeros where the file has sound (a dropout: 32 zeros in a row never occur in resampled
 * speech), places where the block-by-block position in the file moves by 2 samples or more (samples inserted or
 * dropped), and blocks that correlate with the file nowhere (ncc < 0.5).
 */
export function upstreamEvents(
  control: Float32Array,
  played: Float32Array,
  lag0: number,
  track: BlockLag[],
  frameGaps: { block: number; frames: number }[],
  blockSamples: number,
): UpstreamEvent[] {
  const events: UpstreamEvent[] = frameGaps.map((g) => ({
    kind: 'skipped quanta',
    from: g.block * QUANTUM,
    to: g.block * QUANTUM,
    size: g.frames,
  }));
  const start = Math.max(0, lag0);
  const end = Math.min(control.length, played.length + lag0);
  for (let i = start; i < end;) {
    if (control[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < end && control[j] === 0) j++;
    if (j - i >= 32 && energy(played, i - lag0, j - lag0) / (j - i) > 1e-8) {
      events.push({ kind: 'silence', from: i, to: j, size: j - i });
    }
    i = j;
  }
  let previous: BlockLag | undefined;
  for (const b of track) {
    if (b.value < 0.5) {
      events.push({ kind: 'not the file', from: b.at, to: b.at + blockSamples, size: Math.round(1000 * b.value) });
      continue;
    }
    if (previous && Math.abs(b.lag - previous.lag) >= 2) {
      events.push({ kind: 'shift', from: previous.at, to: b.at + blockSamples, size: b.lag - previous.lag });
    }
    previous = b;
  }
  return events.sort((x, y) => x.from - y.from);
}

/** The stretches of [from, to) at least `margin` away from every event and `minLength` long. */
export function intactStretches(
  from: number,
  to: number,
  events: UpstreamEvent[],
  margin: number,
  minLength: number,
): [number, number][] {
  const out: [number, number][] = [];
  let at = from;
  for (const e of events) {
    const end = Math.min(to, e.from - margin);
    if (end - at >= minLength) out.push([at, end]);
    at = Math.max(at, e.to + margin);
  }
  if (to - at >= minLength) out.push([at, to]);
  return out;
}

/**
 * Normalized cross-correlation of rec[from..to) with the reference at 1/8 sample (sox upsamples both; the lag is
 * searched within one sample of the best whole-sample lag near `lagGuess`).  rec[x] ~ ref[x - lag].
 */
export function segmentNcc(
  rec: Float32Array,
  ref: Float32Array,
  rateHz: number,
  from: number,
  to: number,
  lagGuess: number,
  dir: string,
): { lag: number; value: number } {
  let best = { lag: lagGuess, value: -Infinity };
  for (let lag = lagGuess - 32; lag <= lagGuess + 32; lag++) {
    const value = blockNcc(rec, ref, from, to, lag);
    if (value > best.value) best = { lag, value };
  }
  const pad = 64;
  const refFrom = Math.max(0, from - best.lag - pad);
  const refTo = Math.min(ref.length, to - best.lag + pad);
  mkdirSync(dir, { recursive: true });
  const recPath = resolve(dir, `seg-rec-${from}.wav`);
  const refPath = resolve(dir, `seg-ref-${from}.wav`);
  writeFileSync(recPath, encodeWavFloat32(rec.subarray(from, to), rateHz));
  writeFileSync(refPath, encodeWavFloat32(ref.subarray(refFrom, refTo), rateHz));
  // In the stretch files recSeg[k] = rec[from + k] ~ ref[from + k - lag] = refSeg[k + from - lag - refFrom]: in
  // subsampleAlignment's terms (recSeg[i + l] ~ refSeg[i]) l = lag + refFrom - from.
  const fine = subsampleAlignment(recPath, refPath, best.lag + refFrom - from, rateHz);
  return { lag: fine.lag - refFrom + from, value: fine.value };
}
