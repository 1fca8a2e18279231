import { expect, test } from 'vitest';
import { RealFft } from '../../src/core/dsp/fft.ts';

function naivePower(x: Float64Array): Float64Array {
  const n = x.length;
  const out = new Float64Array(n / 2 + 1);
  for (let k = 0; k <= n / 2; k++) {
    let re = 0;
    let im = 0;
    for (let t = 0; t < n; t++) {
      re += (x[t] as number) * Math.cos((2 * Math.PI * k * t) / n);
      im -= (x[t] as number) * Math.sin((2 * Math.PI * k * t) / n);
    }
    out[k] = re * re + im * im;
  }
  return out;
}

// 400 (Whisper: 4, 2, 5, 5), powers of two, radix 3, and a prime factor (7, 11) through the generic butterfly.
test.each([400, 16, 6, 30, 14, 22, 200, 4])('power spectrum of length %i equals the naive DFT', (n) => {
  const fft = new RealFft(n);
  const x = new Float64Array(n).map((_, i) => Math.sin(i * 0.37) + 0.5 * Math.cos(i * 1.91) + ((i * 7919) % 13) / 13);
  const ours = new Float64Array(n / 2 + 1);
  fft.power(x, ours);
  const ref = naivePower(x);
  for (let k = 0; k <= n / 2; k++) expect(Math.abs(ours[k]! - ref[k]!)).toBeLessThan(1e-9 * Math.max(1, ref[k]!));
});

test('odd or tiny sizes are rejected', () => {
  expect(() => new RealFft(401)).toThrow(RangeError);
  expect(() => new RealFft(2)).toThrow(RangeError);
});
