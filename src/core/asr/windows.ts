/**
 * Long audio → independent ≤ 30 s windows (the model hears at most 30 s at once: docs/model.md), cut at the
 * quietest point of the last 2 s before each 30 s mark.  Mirrors tools/glmasr_onnx/windows.py `plan_windows` exactly
 * (the goldens' windows come from it): sequential float64 prefix sums, candidates every 160 samples, energy over
 * ±160 samples, ties go to the later cut.  Also the processor's per-window counts: valid mel frames (ceil(n / 160), at most 3000) and audio
 * tokens (two convolutions, then a 4× merge; docs/model.md).
 */

import { HOP_SAMPLES, WINDOW_FRAMES, WINDOW_SAMPLES } from '../constants.ts';

export const SEARCH_SAMPLES = 32_000;
const HALF = 160;

export interface AudioWindow {
  /** Sample range [start, end) of the 16 kHz input. */
  start: number;
  end: number;
}

export function planWindows(samples: Float32Array): AudioWindow[] {
  const n = samples.length;
  if (n === 0) return [];
  if (n <= WINDOW_SAMPLES) return [{ start: 0, end: n }];
  // cs[i] = Σ_{k<i} x_k² in float64, accumulated sequentially like numpy's cumsum; only the part around each cut is
  // kept, so memory does not grow with the audio (an hour would need 460 MB for the full prefix sum).
  let i = 0;
  let acc = 0;
  const advanceTo = (target: number) => {
    for (; i < target; i++) {
      const x = samples[i] as number;
      acc += x * x;
    }
    return acc;
  };
  const region = new Float64Array(SEARCH_SAMPLES + 2 * HALF + 1);
  const out: AudioWindow[] = [];
  let start = 0;
  while (n - start > WINDOW_SAMPLES) {
    const lo = Math.max(start + WINDOW_SAMPLES - SEARCH_SAMPLES - HALF, 0);
    const hi = Math.min(start + WINDOW_SAMPLES + HALF, n);
    for (let k = lo; k <= hi; k++) region[k - lo] = advanceTo(k);
    const cs = (k: number) => region[k - lo] as number;
    let bestC = -1;
    let bestE = Infinity;
    for (let c = start + WINDOW_SAMPLES - SEARCH_SAMPLES; c <= start + WINDOW_SAMPLES; c += HOP_SAMPLES) {
      const e = cs(Math.min(c + HALF, n)) - cs(Math.max(c - HALF, 0));
      if (e <= bestE) {
        bestC = c;
        bestE = e;
      }
    }
    out.push({ start, end: bestC });
    start = bestC;
  }
  out.push({ start, end: n });
  return out;
}

/** Valid mel frames of a window of `n` samples: ceil(n / 160), at most 3000 (`input_features_mask` sum). */
export function validMelFrames(n: number): number {
  return Math.min(WINDOW_FRAMES, Math.ceil(n / HOP_SAMPLES));
}

/** Audio tokens of one window: post_len = ((L - 1) // 2 + 1 - 4) // 4 + 1 with L valid frames (≥ 0). */
export function audioTokenCount(n: number): number {
  const afterConv2 = Math.floor((validMelFrames(n) - 1) / 2) + 1;
  return Math.max(0, Math.floor((afterConv2 - 4) / 4) + 1);
}
