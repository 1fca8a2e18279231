import { describe, expect, test } from 'vitest';
import { Resampler } from '../../src/core/dsp/resampler.ts';

const OUT = 16_000;

/** Stream `x` through a resampler in 128-sample render quanta, then flush. */
function resample(rate: number, x: Float32Array, block = 128): Float32Array {
  const r = new Resampler(rate, OUT, 128);
  const out: number[] = [];
  for (let i = 0; i < x.length; i += block) {
    const part = x.subarray(i, Math.min(i + block, x.length));
    const n = r.process(part, part.length);
    for (let j = 0; j < n; j++) out.push(r.output[j]!);
  }
  for (let n = r.flush(); n > 0; n = r.flush()) for (let j = 0; j < n; j++) out.push(r.output[j]!);
  return Float32Array.from(out);
}

/** Linear sweep from f0 to f1 Hz over `seconds`, sampled at `rate`: sin(2 pi (f0 t + (f1 - f0) t^2 / (2 T))). */
function sweep(rate: number, f0: number, f1: number, seconds: number) {
  const phase = (t: number) => 2 * Math.PI * (f0 * t + ((f1 - f0) * t * t) / (2 * seconds));
  const at = (r: number) => Float32Array.from({ length: Math.round(r * seconds) }, (_, i) => Math.sin(phase(i / r)));
  const freq = (t: number) => f0 + ((f1 - f0) * t) / seconds;
  return { input: at(rate), ideal: at(OUT), freq };
}

function rms(x: Float32Array, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i++) s += (x[i] as number) ** 2;
  return Math.sqrt(s / (end - start));
}

describe.each([48_000, 44_100])('%i Hz -> 16 kHz', (rate) => {
  test('a sweep through the passband (20 Hz - 7 kHz) keeps its level within 0.1 dB', () => {
    const { input, ideal, freq } = sweep(rate, 20, 7000, 10);
    const out = resample(rate, input);
    expect(out.length).toBe(ideal.length);
    // Output and ideal are time-aligned, so per-window level ratios measure the filter's gain at that frequency.
    let worst = 0;
    let worstAt = 0;
    const win = 800;
    for (let s = 4000; s + win < out.length - 4000; s += win) {
      const db = 20 * Math.log10(rms(out, s, s + win) / rms(ideal, s, s + win));
      if (Math.abs(db) > Math.abs(worst)) [worst, worstAt] = [db, freq((s + win / 2) / OUT)];
    }
    console.log(`${rate} Hz: worst passband deviation ${worst.toFixed(4)} dB near ${worstAt.toFixed(0)} Hz`);
    expect(Math.abs(worst)).toBeLessThanOrEqual(0.1);
  });

  test('a sweep above 8 kHz (up to Nyquist) is attenuated by at least 60 dB', () => {
    const { input, freq } = sweep(rate, 8000, rate / 2, 10);
    const out = resample(rate, input);
    const win = 1600;
    let worst = -Infinity;
    let worstAt = 0;
    for (let s = 4000; s + win < out.length - 4000; s += win) {
      const db = 20 * Math.log10(rms(out, s, s + win) / Math.SQRT1_2);
      if (db > worst) [worst, worstAt] = [db, freq((s + win / 2) / OUT)];
    }
    console.log(`${rate} Hz: strongest alias ${worst.toFixed(1)} dB near ${worstAt.toFixed(0)} Hz input`);
    expect(worst).toBeLessThanOrEqual(-60);
  });

  test('output is time-aligned and exactly N x 16000 / rate long', () => {
    const n = rate * 3 + 17;
    const tone = Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / rate));
    const out = resample(rate, tone);
    expect(out.length).toBe(Math.round((n * OUT) / rate));
    let err = 0;
    for (let i = 2000; i < out.length - 2000; i++)
      err = Math.max(err, Math.abs(out[i]! - Math.sin((2 * Math.PI * 440 * i) / OUT)));
    expect(err).toBeLessThan(1e-3);
  });

  test('block size does not change the result', () => {
    const x = Float32Array.from({ length: rate }, (_, i) => Math.sin(i * 0.013) * Math.cos(i * 0.0007));
    const a = resample(rate, x, 128);
    const b = resample(rate, x, 37);
    expect(b.length).toBe(a.length);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBe(a[i]);
  });
});

test('16 kHz input passes through untouched', () => {
  const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i));
  expect(Array.from(resample(16_000, x))).toEqual(Array.from(x));
});

test('8 kHz input is upsampled without images above 4 kHz', () => {
  const { input } = sweep(8000, 50, 3400, 2);
  const out = resample(8000, input);
  expect(out.length).toBe(32_000);
  const tone = Float32Array.from({ length: 8000 }, (_, i) => Math.sin((2 * Math.PI * 1000 * i) / 8000));
  const up = resample(8000, tone);
  let err = 0;
  for (let i = 1000; i < up.length - 1000; i++)
    err = Math.max(err, Math.abs(up[i]! - Math.sin((2 * Math.PI * 1000 * i) / OUT)));
  expect(err).toBeLessThan(1e-3);
});

test('invalid rates and oversized blocks are rejected', () => {
  expect(() => new Resampler(0, OUT)).toThrow(RangeError);
  expect(() => new Resampler(44_100.5, OUT)).toThrow(RangeError);
  expect(() => new Resampler(48_000, OUT, 128).process(new Float32Array(129))).toThrow(RangeError);
});

test('upsampling 16 kHz keeps the 16 kHz band (design edges scale with the lower rate)', () => {
  const r = new Resampler(16_000, 48_000);
  expect(r.design.passbandHz).toBe(7000);
  expect(r.design.stopbandHz).toBe(8000);
  expect(new Resampler(8000, 16_000).design).toMatchObject({ passbandHz: 3500, stopbandHz: 4000 });
});
