/**
 * Whisper log-mel features with 128 bins, exactly as GLM-ASR's processor computes them (docs/model.md, Pre-processing):
 * 16 kHz, periodic Hann 400, hop 160, centred STFT with reflect padding over the window zero-padded to 30 s, power
 * spectrum, Slaney-scale Slaney-normalised filters 0-8 kHz, log10(max(x, 1e-10)), max(x, max-8), (x+4)/4, last
 * frame dropped (3001 -> 3000).
 *
 * Faster than transformers.js' WhisperFeatureExtractor (the test oracle, with PyTorch's) because it:
 *  - runs one N/2 complex FFT per frame (fft.ts) instead of a generic length-400 transform,
 *  - applies each mel filter only over its non-zero FFT bins (2-10 of 201),
 *  - skips frames that lie wholly in the zero padding: their power is exactly 0, so their log-mel is exactly
 *    log10(1e-10) = -10 before normalisation; a 5 s clip computes 500 frames, not 3000.
 * The result is identical in meaning, and equal to float precision (tests: <= 1e-4 against both references).
 *
 * Pure: runs in the worker and in Node.
 */

import { HOP_SAMPLES, N_FFT, N_MELS, SAMPLE_RATE_HZ, WINDOW_FRAMES, WINDOW_SAMPLES } from '../constants.ts';
import { RealFft } from './fft.ts';

const LOG_FLOOR = 1e-10;

/** Slaney's mel scale (librosa/transformers `mel_scale="slaney"`): linear below 1 kHz, logarithmic above. */
export function hzToMelSlaney(hz: number): number {
  const minLogHz = 1000;
  const minLogMel = 15;
  const logStep = 27 / Math.log(6.4);
  return hz >= minLogHz ? minLogMel + Math.log(hz / minLogHz) * logStep : (3 * hz) / 200;
}

export function melToHzSlaney(mel: number): number {
  const minLogHz = 1000;
  const minLogMel = 15;
  const logStep = Math.log(6.4) / 27;
  return mel >= minLogMel ? minLogHz * Math.exp(logStep * (mel - minLogMel)) : (200 * mel) / 3;
}

/**
 * Triangular mel filters, Slaney area normalisation, as transformers' `mel_filter_bank(num_frequency_bins,
 * num_mel_filters, min_frequency, max_frequency, sampling_rate, norm="slaney", mel_scale="slaney")`.
 * Returns `filters[mel][bin]` (num_mel_filters x num_frequency_bins), float64.
 */
export function melFilterBank(
  numFrequencyBins: number,
  numMelFilters: number,
  minFrequencyHz: number,
  maxFrequencyHz: number,
  sampleRateHz: number,
): Float64Array[] {
  const melMin = hzToMelSlaney(minFrequencyHz);
  const melMax = hzToMelSlaney(maxFrequencyHz);
  const filterFreqs = new Float64Array(numMelFilters + 2);
  for (let i = 0; i < filterFreqs.length; i++) {
    filterFreqs[i] = melToHzSlaney(melMin + ((melMax - melMin) * i) / (numMelFilters + 1));
  }
  const fftFreqs = new Float64Array(numFrequencyBins);
  for (let i = 0; i < numFrequencyBins; i++) fftFreqs[i] = ((sampleRateHz / 2) * i) / (numFrequencyBins - 1);
  const filters: Float64Array[] = [];
  for (let m = 0; m < numMelFilters; m++) {
    const lo = filterFreqs[m] as number;
    const mid = filterFreqs[m + 1] as number;
    const hi = filterFreqs[m + 2] as number;
    const enorm = 2 / (hi - lo);
    const row = new Float64Array(numFrequencyBins);
    for (let b = 0; b < numFrequencyBins; b++) {
      const f = fftFreqs[b] as number;
      const down = (f - lo) / (mid - lo);
      const up = (hi - f) / (hi - mid);
      row[b] = Math.max(0, Math.min(down, up)) * enorm;
    }
    filters.push(row);
  }
  return filters;
}

/** Periodic Hann window (torch.hann_window(n), numpy `window_function(n, "hann")`). */
export function hannWindow(length: number): Float64Array {
  const w = new Float64Array(length);
  for (let i = 0; i < length; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / length);
  return w;
}

interface SparseFilter {
  start: number;
  weights: Float64Array;
}

/** What the pipeline asks of a log-mel front end: one ≤ 30 s window as [128 × 3000] features. */
export interface MelFrontEnd {
  window30s(samples: Float32Array): { features: Float32Array; validFrames: number };
}

export class LogMel implements MelFrontEnd {
  readonly bins = N_FFT / 2 + 1;
  private readonly fft = new RealFft(N_FFT);
  private readonly window = hannWindow(N_FFT);
  private readonly filters: SparseFilter[];
  private readonly frame = new Float64Array(N_FFT);
  private readonly power = new Float64Array(N_FFT / 2 + 1);

  constructor(filters: Float64Array[] = melFilterBank(N_FFT / 2 + 1, N_MELS, 0, 8000, SAMPLE_RATE_HZ)) {
    this.filters = filters.map((row) => {
      let start = row.findIndex((v) => v !== 0);
      if (start < 0) start = 0;
      let end = row.length;
      while (end > start && row[end - 1] === 0) end--;
      return { start, weights: row.slice(start, end) };
    });
  }

  /**
   * Features of one window of at most 30 s: Float32Array [N_MELS * WINDOW_FRAMES], row-major [mel][frame], the
   * layout of `input_features[0]`.  Also returns the number of valid frames ceil(n / 160) (the feature mask).
   */
  window30s(samples: Float32Array): { features: Float32Array; validFrames: number } {
    if (samples.length > WINDOW_SAMPLES) throw new RangeError(`a window holds at most ${WINDOW_SAMPLES} samples`);
    const n = samples.length;
    const frames = WINDOW_FRAMES;
    const half = N_FFT / 2;
    const padded = WINDOW_SAMPLES;
    const logMel = new Float32Array(N_MELS * frames);
    // Frame t reads padded[t*160 - 200 .. t*160 + 200) with reflection at both ends of the 480000-sample window.
    // It is all zeros once its first sample (or a reflection of one) is at or beyond n; the right edge reflects only
    // samples within 200 of 480000, which are zero unless n > 479800.
    const lastNonZero = n === 0 ? -1 : Math.min(frames - 1, Math.ceil((n - 1 + half) / HOP_SAMPLES));
    const rightReflectLive = n > padded - half - 1;
    let maxLog = -Infinity;
    const floorLog = Math.log10(LOG_FLOOR);
    for (let t = 0; t < frames; t++) {
      if (t > lastNonZero && !(rightReflectLive && t * HOP_SAMPLES + half > padded)) {
        for (let m = 0; m < N_MELS; m++) logMel[m * frames + t] = floorLog;
        if (floorLog > maxLog) maxLog = floorLog;
        continue;
      }
      const origin = t * HOP_SAMPLES - half;
      const frame = this.frame;
      const win = this.window;
      if (origin >= 0 && origin + N_FFT <= n) {
        for (let i = 0; i < N_FFT; i++) frame[i] = (samples[origin + i] as number) * (win[i] as number);
      } else {
        for (let i = 0; i < N_FFT; i++) {
          let j = origin + i;
          if (j < 0) j = -j;
          else if (j >= padded) j = 2 * (padded - 1) - j;
          frame[i] = (j < n ? (samples[j] as number) : 0) * (win[i] as number);
        }
      }
      this.fft.power(this.frame, this.power);
      for (let m = 0; m < N_MELS; m++) {
        const f = this.filters[m] as SparseFilter;
        let acc = 0;
        for (let k = 0; k < f.weights.length; k++)
          acc += (f.weights[k] as number) * (this.power[f.start + k] as number);
        const v = Math.log10(acc > LOG_FLOOR ? acc : LOG_FLOOR);
        logMel[m * frames + t] = v;
        if (v > maxLog) maxLog = v;
      }
    }
    const floor = maxLog - 8;
    for (let i = 0; i < logMel.length; i++) {
      const v = logMel[i] as number;
      logMel[i] = ((v > floor ? v : floor) + 4) / 4;
    }
    return { features: logMel, validFrames: Math.ceil(n / HOP_SAMPLES) };
  }

  /**
   * log10 mel power (no Whisper normalisation) of the frame centred on `samples[center]`, for the live view.
   * Samples outside the array count as zero.
   */
  frameLog10(samples: Float32Array, center: number, out: Float32Array): void {
    const half = N_FFT / 2;
    for (let i = 0; i < N_FFT; i++) {
      const j = center - half + i;
      this.frame[i] = (j >= 0 && j < samples.length ? (samples[j] as number) : 0) * (this.window[i] as number);
    }
    this.fft.power(this.frame, this.power);
    for (let m = 0; m < N_MELS; m++) {
      const f = this.filters[m] as SparseFilter;
      let acc = 0;
      for (let k = 0; k < f.weights.length; k++) acc += (f.weights[k] as number) * (this.power[f.start + k] as number);
      out[m] = Math.log10(acc > LOG_FLOOR ? acc : LOG_FLOOR);
    }
  }
}
