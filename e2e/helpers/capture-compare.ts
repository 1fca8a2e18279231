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
import { SAMPLE_RATE_HZ } from '../../src/core/constants.ts';
import { Resampler } from '../../src/core/dsp/resampler.ts';
import { encodeWavFloat32 } from '../../src/core/dsp/wav.ts';
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
  /** Control samples before the app's first (0 when both nodes got their first quantum together; negative when the
   * app's node started first: WebKit may construct the control's processor a few quanta after the app's). */
  offset: number;
  /** Samples at the start of ours that the control cannot vouch for (it started later; 0 when offset >= 0). */
  unchecked: number;
  /** Largest |ours - the worklet's arithmetic on the control| over the rest. */
  maxAbsDiff: number;
  /** Samples of ours that differ at all (a lost or repeated block shows as thousands). */
  differing: number;
  /** Our length minus the length the control's samples give. */
  lengthDiff: number;
}

/** The worklet's arithmetic on the app's input as the control has it: from control sample `offset`, `count` samples
 * (when offset < 0 the first -offset are not in the control; zeros stand for them). */
function workletOnControl(control: Float32Array, offset: number, count: number, rateHz: number): Float32Array {
  if (offset >= 0)
    return resampleLikeWorklet(control.subarray(offset, Math.min(control.length, offset + count)), rateHz);
  const input = new Float32Array(Math.min(count, control.length - offset));
  input.set(control.subarray(0, input.length + offset), -offset);
  return resampleLikeWorklet(input, rateHz);
}

/**
 * Which stretch of the control is the app's input: the app's worklet saw `inputSamples` samples, starting at a whole
 * quantum of the control: tried exactly (on 1024 samples of ours from its first sound, the best then on 4096) from
 * 64 quanta before the control's first to 512 after (WebKit under load starts the app's processor that much later),
 * then, if none fits, near where ours correlates with the worklet arithmetic on the whole control (within a second).
 * The best is compared over everything the control covers.  Past the first output samples that depend on input the
 * control does not have (the resampler's filter reaches 64 output samples back at most), the comparison is exact.
 */
export function matchControl(
  ours: Float32Array,
  control: Float32Array,
  inputRateHz: number,
  inputSamples: number,
): ControlMatch {
  const uncheckedFor = (offset: number) => (offset >= 0 ? 0 : Math.ceil((-offset * SAMPLE_RATE_HZ) / inputRateHz) + 64);
  // The error of a candidate start on `count` samples of ours from `from` (at least past what it leaves unchecked).
  const errorAt = (offset: number, from: number, count = 4096) => {
    const start = Math.max(from, uncheckedFor(offset));
    const probe = workletOnControl(
      control,
      offset,
      Math.ceil(((start + count + 64) * inputRateHz) / SAMPLE_RATE_HZ) + QUANTUM,
      inputRateHz,
    );
    let err = 0;
    for (let i = start; i < start + count && i < ours.length && i < probe.length; i++) {
      err = Math.max(err, Math.abs(ours[i]! - probe[i]!));
    }
    return err;
  };
  // Probe where ours has sound: over leading silence (WebKit's mock source may start a quarter second late) every
  // candidate start matches exactly, and the first of them would win.
  let sound = 0;
  while (sound < ours.length && ours[sound] === 0) sound++;
  let best = { offset: 0, err: Infinity };
  for (let offset = -64 * QUANTUM; offset <= 512 * QUANTUM; offset += QUANTUM) {
    const err = errorAt(offset, sound, 1024);
    if (err < best.err) best = { offset, err };
  }
  best.err = errorAt(best.offset, sound);
  if (best.err > 0) {
    // Further away: near where ours correlates with the worklet arithmetic on the whole control (speech has one
    // such place; a steady tone has many, so this comes second).
    const whole = resampleLikeWorklet(control, inputRateHz);
    const probeFrom = Math.min(SAMPLE_RATE_HZ, Math.max(0, ours.length - 8192));
    let rough = { shift: 0, value: -Infinity };
    for (let shift = -SAMPLE_RATE_HZ; shift <= SAMPLE_RATE_HZ; shift++) {
      // ours[j] ~ whole[j + shift]
      const value = blockNcc(ours, whole, probeFrom, probeFrom + 4096, -shift);
      if (value > rough.value) rough = { shift, value };
    }
    const near = Math.round((rough.shift * inputRateHz) / SAMPLE_RATE_HZ / QUANTUM) * QUANTUM;
    for (let offset = near - 2 * QUANTUM; offset <= near + 2 * QUANTUM; offset += QUANTUM) {
      const err = errorAt(offset, probeFrom);
      if (err < best.err) best = { offset, err };
    }
  }
  const mine = workletOnControl(control, best.offset, inputSamples, inputRateHz);
  const unchecked = uncheckedFor(best.offset);
  let maxAbsDiff = 0;
  let differing = 0;
  for (let i = unchecked; i < Math.min(mine.length, ours.length); i++) {
    const d = Math.abs(ours[i]! - mine[i]!);
    if (d > maxAbsDiff) maxAbsDiff = d;
    if (d > 0) differing++;
  }
  return { offset: best.offset, unchecked, maxAbsDiff, differing, lengthDiff: ours.length - mine.length };
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
