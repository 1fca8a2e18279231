import { expect, test } from 'vitest';
import { WavError, decodeWav, encodeWav16, encodeWavFloat32, isWav, toMono } from '../../src/core/dsp/wav.ts';

function wav(format: number, bits: number, channels: number, rate: number, body: Uint8Array, extensible = false) {
  const fmtSize = extensible ? 40 : 16;
  const bytes = new Uint8Array(12 + 8 + fmtSize + 8 + body.length);
  const v = new DataView(bytes.buffer);
  const put = (o: number, s: string) => [...s].forEach((c, i) => v.setUint8(o + i, c.charCodeAt(0)));
  put(0, 'RIFF');
  v.setUint32(4, bytes.length - 8, true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  v.setUint32(16, fmtSize, true);
  v.setUint16(20, extensible ? 0xfffe : format, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, (rate * channels * bits) / 8, true);
  v.setUint16(32, (channels * bits) / 8, true);
  v.setUint16(34, bits, true);
  if (extensible) {
    v.setUint16(36, 22, true);
    v.setUint16(44, format, true); // first two bytes of the SubFormat GUID carry the format tag
  }
  put(20 + fmtSize, 'data');
  v.setUint32(24 + fmtSize, body.length, true);
  bytes.set(body, 28 + fmtSize);
  return bytes;
}

test('16-bit PCM round-trips through encode/decode at 1/32768 resolution', () => {
  const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 10) * 0.9);
  const out = decodeWav(encodeWav16(x, 16000));
  expect(out.sampleRateHz).toBe(16000);
  expect(out.format).toBe('pcm16');
  expect(out.channels).toHaveLength(1);
  for (let i = 0; i < x.length; i++) expect(Math.abs(out.channels[0]![i]! - x[i]!)).toBeLessThanOrEqual(1 / 32768);
});

test('reads 24-bit, 32-bit int, float32, float64, 8-bit and extensible, and splits channels', () => {
  const b24 = new Uint8Array([0x00, 0x00, 0x40, 0x00, 0x00, 0xc0]); // +0.5, -0.5
  expect(Array.from(decodeWav(wav(1, 24, 1, 8000, b24)).channels[0]!)).toEqual([0.5, -0.5]);
  const f32 = new Uint8Array(new Float32Array([0.25, -1, 0.75, 0.5]).buffer);
  const stereo = decodeWav(wav(3, 32, 2, 44100, f32));
  expect(stereo.format).toBe('float32');
  expect(Array.from(stereo.channels[0]!)).toEqual([0.25, 0.75]);
  expect(Array.from(stereo.channels[1]!)).toEqual([-1, 0.5]);
  expect(Array.from(toMono(stereo.channels))).toEqual([-0.375, 0.625]);
  const f64 = new Uint8Array(new Float64Array([0.125]).buffer);
  expect(decodeWav(wav(3, 64, 1, 16000, f64)).channels[0]![0]).toBe(0.125);
  const i32 = new Uint8Array(new Int32Array([1 << 30]).buffer);
  expect(decodeWav(wav(1, 32, 1, 16000, i32)).channels[0]![0]).toBe(0.5);
  expect(decodeWav(wav(1, 8, 1, 16000, new Uint8Array([192]))).channels[0]![0]).toBe(0.5);
  expect(decodeWav(wav(3, 32, 1, 16000, f32, true)).format).toBe('float32');
});

test('bad input gives a specific error', () => {
  expect(isWav(new TextEncoder().encode('hello world, not audio'))).toBe(false);
  expect(() => decodeWav(new TextEncoder().encode('hello world, not audio'))).toThrow(/not a WAV file/);
  const good = encodeWav16(new Float32Array(10), 16000);
  expect(() => decodeWav(good.subarray(0, 30))).toThrow(WavError);
  expect(() => decodeWav(wav(85, 16, 1, 16000, new Uint8Array(4)))).toThrow(/unsupported WAV encoding/);
  expect(() => decodeWav(wav(1, 16, 1, 12, new Uint8Array(4)))).toThrow(/sample rate/);
});

test('a truncated data chunk yields the samples that are there', () => {
  const full = encodeWav16(new Float32Array(100).fill(0.5), 16000);
  const cut = decodeWav(full.subarray(0, 44 + 60));
  expect(cut.channels[0]!.length).toBe(30);
});

test('a float32 WAV round-trips bit-exactly (the recording download is exactly what was transcribed)', () => {
  const x = Float32Array.from({ length: 1001 }, (_, i) => Math.sin(i * 0.37) * 0.9 + 1e-7 * i);
  const back = decodeWav(encodeWavFloat32(x, 16000));
  expect(back.sampleRateHz).toBe(16000);
  expect(back.format).toBe('float32');
  expect(Array.from(back.channels[0]!)).toEqual(Array.from(x));
});

test('a header declaring 0-bit samples in 0-byte blocks is a WavError, not an impossible array', () => {
  // 0 === 0 x channels passes the alignment check, and frames = bytes / 0 would be Infinity.
  const bytes = wav(1, 16, 1, 16_000, new Uint8Array(8));
  const v = new DataView(bytes.buffer);
  v.setUint16(32, 0, true); // blockAlign
  v.setUint16(34, 0, true); // bits per sample
  expect(() => decodeWav(bytes)).toThrow(WavError);
});
