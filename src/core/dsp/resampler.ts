/**
 * Streaming rational resampler (polyphase FIR, Kaiser-windowed sinc) for the capture worklet.
 *
 * Any input rate to 16 kHz: L/M = out/in reduced by their gcd (48 kHz: 1/3; 44.1 kHz: 160/441; 16 kHz: a plain copy).
 * The prototype low-pass runs at in*L and is designed for the band the output can hold: flat to
 * RESAMPLER_PASSBAND_HZ, at least RESAMPLER_ATTENUATION_DB down from RESAMPLER_STOPBAND_HZ (scaled down for inputs
 * below 16 kHz).  Output sample j is aligned with input time j*M/L: the filter's group delay is compensated by
 * starting the polyphase position half a filter length in, and `flush` drains the tail, so N input samples become
 * round(N*L/M) output samples exactly in time.
 *
 * `process` allocates nothing: everything is sized in the constructor for blocks of up to `maxBlock` samples
 * (the AudioWorklet render quantum is 128).
 *
 * Pure: no DOM, no worklet globals; runs in the worklet, the worker and Node (tests).
 */

import { RESAMPLER_ATTENUATION_DB, RESAMPLER_PASSBAND_HZ, RESAMPLER_STOPBAND_HZ } from '../constants.ts';

export interface ResamplerDesign {
  /** Upsampling factor L and downsampling factor M (out/in = L/M, reduced). */
  up: number;
  down: number;
  /** Taps per polyphase branch. */
  tapsPerPhase: number;
  passbandHz: number;
  stopbandHz: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (series), for the Kaiser window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** Kaiser beta for a stopband attenuation in dB (Kaiser's formula, A > 50). */
function kaiserBeta(attenuationDb: number): number {
  return attenuationDb > 50
    ? 0.1102 * (attenuationDb - 8.7)
    : 0.5842 * (attenuationDb - 21) ** 0.4 + 0.07886 * (attenuationDb - 21);
}

export class Resampler {
  readonly design: ResamplerDesign;
  /** Output samples written by the last `process`/`flush` call, in `output[0..count)`. */
  readonly output: Float32Array;

  private readonly phases: Float32Array[]; // phases[p][k] = h[p + k*L]
  private readonly history: Float32Array; // x[base - (K-1) .. base + maxBlock)
  private readonly taps: number;
  private readonly up: number;
  private readonly down: number;
  private readonly passthrough: boolean;
  /** Index (in absolute input samples) of the newest sample the next output needs, and its phase. */
  private nextIndex: number;
  private nextPhase: number;
  private inputCount = 0;
  private realInput = 0;
  private realOutput = 0;
  private readonly silence: Float32Array;

  constructor(
    readonly inputRateHz: number,
    readonly outputRateHz: number,
    readonly maxBlock = 128,
  ) {
    if (!Number.isInteger(inputRateHz) || !Number.isInteger(outputRateHz) || inputRateHz <= 0 || outputRateHz <= 0) {
      throw new RangeError(`resampler rates must be positive integers (got ${inputRateHz} -> ${outputRateHz})`);
    }
    const g = gcd(inputRateHz, outputRateHz);
    const up = outputRateHz / g;
    const down = inputRateHz / g;
    this.up = up;
    this.down = down;
    this.passthrough = up === 1 && down === 1;

    // The design is for the band a 16 kHz signal holds (flat to 7 kHz, stop at 8 kHz); when the lower of the two
    // rates has another Nyquist frequency, both edges scale with it (8 kHz input: 3.5 / 4 kHz).
    const nyquist = Math.min(inputRateHz, outputRateHz) / 2;
    const scale = nyquist / RESAMPLER_STOPBAND_HZ;
    const passbandHz = Math.min(RESAMPLER_PASSBAND_HZ * scale, nyquist);
    const stopbandHz = Math.min(RESAMPLER_STOPBAND_HZ * scale, nyquist);
    const protoRate = inputRateHz * up;
    const transition = Math.max(stopbandHz - passbandHz, 1);
    const length = Math.ceil((RESAMPLER_ATTENUATION_DB - 7.95) / ((14.36 * transition) / protoRate)) + 1;
    const taps = this.passthrough ? 1 : Math.ceil(length / up);
    const n = taps * up;
    this.taps = taps;
    this.design = { up, down, tapsPerPhase: taps, passbandHz, stopbandHz };

    const cutoff = (passbandHz + stopbandHz) / 2 / protoRate; // cycles per prototype sample
    const beta = kaiserBeta(RESAMPLER_ATTENUATION_DB);
    const i0Beta = besselI0(beta);
    // An odd length puts the filter's centre on a sample, so the delay compensation below is exact.
    const odd = n % 2 === 0 ? n - 1 : n;
    const center = (odd - 1) / 2;
    this.phases = Array.from({ length: up }, () => new Float32Array(taps));
    for (let i = 0; i < odd; i++) {
      const t = i - center;
      const sinc = t === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * t) / (Math.PI * t);
      const r = odd > 1 ? (2 * i) / (odd - 1) - 1 : 0;
      const window = this.passthrough ? 1 : besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0Beta;
      // The gain L makes up for the zeros stuffed between input samples.
      const phase = this.phases[i % up];
      if (phase) phase[Math.floor(i / up)] = this.passthrough ? 1 : up * sinc * window;
    }
    this.history = new Float32Array(taps - 1 + maxBlock);
    this.silence = new Float32Array(maxBlock);
    this.output = new Float32Array(Math.ceil((maxBlock * up) / down) + 2);
    // Start half a filter in, so output j lines up with input j*M/L (group delay compensation).
    const start = center;
    this.nextIndex = Math.floor(start / up);
    this.nextPhase = start % up;
  }

  /** Resample `input[0..length)`; returns how many samples were written to `output`. */
  process(input: Float32Array, length = input.length): number {
    const written = this.run(input, length);
    this.realInput += length;
    this.realOutput += written;
    return written;
  }

  /** After the last `process`: feed silence until every output sample that belongs to the real input has been
   * produced.  Returns the count written to `output`; call until it returns 0. */
  flush(): number {
    const expected = Math.round((this.realInput * this.up) / this.down);
    const missing = expected - this.realOutput;
    if (missing <= 0) return 0;
    this.silence.fill(0);
    const keep = Math.min(this.run(this.silence, this.silence.length), missing);
    this.realOutput += keep;
    return keep;
  }

  /** Total samples consumed and produced for the real stream (flush padding excluded). */
  get counts(): { input: number; output: number } {
    return { input: this.realInput, output: this.realOutput };
  }

  private run(input: Float32Array, length: number): number {
    if (length > this.maxBlock) throw new RangeError(`block of ${length} exceeds maxBlock ${this.maxBlock}`);
    if (this.passthrough) {
      this.output.set(input.subarray(0, length));
      return length;
    }
    const k = this.taps;
    const hist = this.history;
    // hist[k-1 + i] holds input sample (inputCount + i); hist[0..k-1) the k-1 samples before it.
    hist.set(input.subarray(0, length), k - 1);
    const available = this.inputCount + length; // absolute index one past the newest sample
    let written = 0;
    const out = this.output;
    const up = this.up;
    const down = this.down;
    while (this.nextIndex < available) {
      const taps = this.phases[this.nextPhase] as Float32Array;
      // The newest needed sample sits at hist[k-1 + (nextIndex - inputCount)]; older ones precede it.
      let pos = k - 1 + (this.nextIndex - this.inputCount);
      let acc = 0;
      for (let j = 0; j < k; j++) acc += (taps[j] as number) * (hist[pos--] as number);
      out[written++] = acc;
      const phase = this.nextPhase + down;
      this.nextIndex += Math.floor(phase / up);
      this.nextPhase = phase % up;
    }
    // Keep the last k-1 input samples as history for the next block.
    hist.copyWithin(0, length, length + k - 1);
    this.inputCount = available;
    return written;
  }
}
