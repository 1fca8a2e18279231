/**
 * Power spectrum of a real frame of even length N (N = 400 for Whisper) via one complex FFT of length N/2.
 *
 * The complex FFT is a mixed-radix decimation-in-time transform (the structure of KISS FFT's `kf_work`), planned once
 * for its length: radix 4, 2 and 5 butterflies, a generic one for 3 and other primes, with precomputed twiddles.  Float64
 * throughout, no allocation per call.  Pure: runs in the worker and in Node.
 */

export class RealFft {
  /** Number of output bins: N/2 + 1. */
  readonly bins: number;
  private readonly half: number;
  private readonly factors: number[] = []; // [p0, m0, p1, m1, ...] with m_i = remaining length after p_i
  private readonly twRe: Float64Array;
  private readonly twIm: Float64Array;
  private readonly postRe: Float64Array; // e^{-2 pi i k / N}
  private readonly postIm: Float64Array;
  private readonly inRe: Float64Array;
  private readonly inIm: Float64Array;
  private readonly outRe: Float64Array;
  private readonly outIm: Float64Array;
  private readonly scratchRe: Float64Array;
  private readonly scratchIm: Float64Array;

  constructor(readonly size: number) {
    if (size < 4 || size % 2 !== 0) throw new RangeError(`RealFft size must be even and >= 4 (got ${size})`);
    const n = size / 2;
    this.half = n;
    this.bins = n + 1;
    let rest = n;
    for (const p of [4, 2, 3, 5]) {
      while (rest % p === 0) {
        rest /= p;
        this.factors.push(p, rest);
      }
    }
    for (let p = 7; rest > 1; p += 2) {
      while (rest % p === 0) {
        rest /= p;
        this.factors.push(p, rest);
      }
    }
    if (this.factors.length === 0) this.factors.push(1, 1);
    this.twRe = new Float64Array(n);
    this.twIm = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.twRe[i] = Math.cos((-2 * Math.PI * i) / n);
      this.twIm[i] = Math.sin((-2 * Math.PI * i) / n);
    }
    this.postRe = new Float64Array(n + 1);
    this.postIm = new Float64Array(n + 1);
    for (let k = 0; k <= n; k++) {
      this.postRe[k] = Math.cos((-2 * Math.PI * k) / size);
      this.postIm[k] = Math.sin((-2 * Math.PI * k) / size);
    }
    this.inRe = new Float64Array(n);
    this.inIm = new Float64Array(n);
    this.outRe = new Float64Array(n);
    this.outIm = new Float64Array(n);
    const maxP = Math.max(...this.factors.filter((_, i) => i % 2 === 0));
    this.scratchRe = new Float64Array(maxP);
    this.scratchIm = new Float64Array(maxP);
  }

  /**
   * |X[k]|^2 for k = 0..N/2 of the real frame `frame[offset .. offset+N)`, written to `power[0..N/2]`.
   * (Windowing is the caller's job.)
   */
  power(frame: Float64Array, power: Float64Array): void {
    const n = this.half;
    const inRe = this.inRe;
    const inIm = this.inIm;
    for (let i = 0; i < n; i++) {
      inRe[i] = frame[2 * i] as number;
      inIm[i] = frame[2 * i + 1] as number;
    }
    this.work(0, 0, 1, 0);
    const zr = this.outRe;
    const zi = this.outIm;
    // Split the packed transform: X[k] = (Z[k] + conj Z[n-k]) / 2 + w^k (Z[k] - conj Z[n-k]) / 2i.
    for (let k = 0; k <= n; k++) {
      const a = k === n ? 0 : k;
      const b = k === 0 ? 0 : n - k;
      const ar = zr[a] as number;
      const ai = zi[a] as number;
      const br = zr[b] as number;
      const bi = -(zi[b] as number);
      const er = (ar + br) / 2;
      const ei = (ai + bi) / 2;
      const dr = (ar - br) / 2;
      const di = (ai - bi) / 2;
      // (dr + i di) / i = di - i dr
      const wr = this.postRe[k] as number;
      const wi = this.postIm[k] as number;
      const orr = di;
      const oi = -dr;
      const xr = er + wr * orr - wi * oi;
      const xi = ei + wr * oi + wi * orr;
      power[k] = xr * xr + xi * xi;
    }
  }

  /** Recursive mixed-radix DIT on inRe/inIm[src + j*stride], writing outRe/outIm[dst .. dst + p*m). */
  private work(dst: number, src: number, stride: number, level: number): void {
    const p = this.factors[level] as number;
    const m = this.factors[level + 1] as number;
    const outRe = this.outRe;
    const outIm = this.outIm;
    if (m === 1) {
      for (let q = 0; q < p; q++) {
        outRe[dst + q] = this.inRe[src + q * stride] as number;
        outIm[dst + q] = this.inIm[src + q * stride] as number;
      }
    } else {
      for (let q = 0; q < p; q++) this.work(dst + q * m, src + q * stride, stride * p, level + 2);
    }
    this.butterfly(dst, stride, p, m);
  }

  private butterfly(dst: number, stride: number, p: number, m: number): void {
    const outRe = this.outRe;
    const outIm = this.outIm;
    const twRe = this.twRe;
    const twIm = this.twIm;
    const n = this.half;
    if (p === 2) {
      for (let u = 0; u < m; u++) {
        const i0 = dst + u;
        const i1 = i0 + m;
        const t = u * stride;
        const wr = twRe[t] as number;
        const wi = twIm[t] as number;
        const br = (outRe[i1] as number) * wr - (outIm[i1] as number) * wi;
        const bi = (outRe[i1] as number) * wi + (outIm[i1] as number) * wr;
        const ar = outRe[i0] as number;
        const ai = outIm[i0] as number;
        outRe[i0] = ar + br;
        outIm[i0] = ai + bi;
        outRe[i1] = ar - br;
        outIm[i1] = ai - bi;
      }
      return;
    }
    if (p === 4) {
      for (let u = 0; u < m; u++) {
        const i0 = dst + u;
        const i1 = i0 + m;
        const i2 = i1 + m;
        const i3 = i2 + m;
        const t1 = u * stride;
        const t2 = 2 * t1;
        const t3 = 3 * t1;
        const ar = outRe[i0] as number;
        const ai = outIm[i0] as number;
        const br = (outRe[i1] as number) * (twRe[t1] as number) - (outIm[i1] as number) * (twIm[t1] as number);
        const bi = (outRe[i1] as number) * (twIm[t1] as number) + (outIm[i1] as number) * (twRe[t1] as number);
        const cr = (outRe[i2] as number) * (twRe[t2] as number) - (outIm[i2] as number) * (twIm[t2] as number);
        const ci = (outRe[i2] as number) * (twIm[t2] as number) + (outIm[i2] as number) * (twRe[t2] as number);
        const dr = (outRe[i3] as number) * (twRe[t3] as number) - (outIm[i3] as number) * (twIm[t3] as number);
        const di = (outRe[i3] as number) * (twIm[t3] as number) + (outIm[i3] as number) * (twRe[t3] as number);
        const s0r = ar + cr;
        const s0i = ai + ci;
        const s1r = ar - cr;
        const s1i = ai - ci;
        const s2r = br + dr;
        const s2i = bi + di;
        const s3r = br - dr;
        const s3i = bi - di;
        outRe[i0] = s0r + s2r;
        outIm[i0] = s0i + s2i;
        outRe[i2] = s0r - s2r;
        outIm[i2] = s0i - s2i;
        // forward transform: multiply s3 by -i
        outRe[i1] = s1r + s3i;
        outIm[i1] = s1i - s3r;
        outRe[i3] = s1r - s3i;
        outIm[i3] = s1i + s3r;
      }
      return;
    }
    if (p === 5) {
      this.butterfly5(dst, stride, m);
      return;
    }
    // Generic radix p (3, other primes): O(p^2) per group, from a copy of the p inputs.
    const sr = this.scratchRe;
    const si = this.scratchIm;
    for (let u = 0; u < m; u++) {
      for (let q = 0; q < p; q++) {
        sr[q] = outRe[dst + u + q * m] as number;
        si[q] = outIm[dst + u + q * m] as number;
      }
      for (let q1 = 0; q1 < p; q1++) {
        const k = u + q1 * m;
        let accR = sr[0] as number;
        let accI = si[0] as number;
        for (let q = 1; q < p; q++) {
          const t = (k * q * stride) % n;
          const wr = twRe[t] as number;
          const wi = twIm[t] as number;
          const xr = sr[q] as number;
          const xi = si[q] as number;
          accR += xr * wr - xi * wi;
          accI += xr * wi + xi * wr;
        }
        outRe[dst + k] = accR;
        outIm[dst + k] = accI;
      }
    }
  }

  /** Radix-5 butterfly (KISS FFT's kf_bfly5). */
  private butterfly5(dst: number, stride: number, m: number): void {
    const re = this.outRe;
    const im = this.outIm;
    const twRe = this.twRe;
    const twIm = this.twIm;
    const yar = twRe[stride * m] as number;
    const yai = twIm[stride * m] as number;
    const ybr = twRe[2 * stride * m] as number;
    const ybi = twIm[2 * stride * m] as number;
    for (let u = 0; u < m; u++) {
      const i0 = dst + u;
      const i1 = i0 + m;
      const i2 = i1 + m;
      const i3 = i2 + m;
      const i4 = i3 + m;
      const t1 = u * stride;
      const s0r = re[i0] as number;
      const s0i = im[i0] as number;
      const w1r = twRe[t1] as number;
      const w1i = twIm[t1] as number;
      const w2r = twRe[2 * t1] as number;
      const w2i = twIm[2 * t1] as number;
      const w3r = twRe[3 * t1] as number;
      const w3i = twIm[3 * t1] as number;
      const w4r = twRe[4 * t1] as number;
      const w4i = twIm[4 * t1] as number;
      const x1r = re[i1] as number;
      const x1i = im[i1] as number;
      const x2r = re[i2] as number;
      const x2i = im[i2] as number;
      const x3r = re[i3] as number;
      const x3i = im[i3] as number;
      const x4r = re[i4] as number;
      const x4i = im[i4] as number;
      const s1r = x1r * w1r - x1i * w1i;
      const s1i = x1r * w1i + x1i * w1r;
      const s2r = x2r * w2r - x2i * w2i;
      const s2i = x2r * w2i + x2i * w2r;
      const s3r = x3r * w3r - x3i * w3i;
      const s3i = x3r * w3i + x3i * w3r;
      const s4r = x4r * w4r - x4i * w4i;
      const s4i = x4r * w4i + x4i * w4r;
      const s7r = s1r + s4r;
      const s7i = s1i + s4i;
      const s10r = s1r - s4r;
      const s10i = s1i - s4i;
      const s8r = s2r + s3r;
      const s8i = s2i + s3i;
      const s9r = s2r - s3r;
      const s9i = s2i - s3i;
      re[i0] = s0r + s7r + s8r;
      im[i0] = s0i + s7i + s8i;
      const s5r = s0r + s7r * yar + s8r * ybr;
      const s5i = s0i + s7i * yar + s8i * ybr;
      const s6r = s10i * yai + s9i * ybi;
      const s6i = -(s10r * yai + s9r * ybi);
      re[i1] = s5r - s6r;
      im[i1] = s5i - s6i;
      re[i4] = s5r + s6r;
      im[i4] = s5i + s6i;
      const s11r = s0r + s7r * ybr + s8r * yar;
      const s11i = s0i + s7i * ybr + s8i * yar;
      const s12r = -s10i * ybi + s9i * yai;
      const s12i = s10r * ybi - s9r * yai;
      re[i2] = s11r + s12r;
      im[i2] = s11i + s12i;
      re[i3] = s11r - s12r;
      im[i3] = s11i - s12i;
    }
  }
}
