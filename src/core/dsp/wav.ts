/**
 * RIFF/WAVE reading and writing.  Reading covers what recorders and our fixtures produce: PCM 8/16/24/32-bit,
 * IEEE float 32/64, WAVE_FORMAT_EXTENSIBLE, any channel count; integer PCM is scaled as x / 2^(bits-1) (16-bit:
 * x / 32768, as soundfile and transformers read it).  Errors name what is wrong.  Pure: worker, Node, tests.
 */

export class WavError extends Error {
  override name = 'WavError';
}

export interface DecodedWav {
  sampleRateHz: number;
  /** One Float32Array per channel. */
  channels: Float32Array[];
  /** Source sample format, e.g. "pcm16", "float32". */
  format: string;
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;

function fourcc(view: DataView, offset: number): string {
  return String.fromCharCode(
    view.getUint8(offset),
    view.getUint8(offset + 1),
    view.getUint8(offset + 2),
    view.getUint8(offset + 3),
  );
}

export function isWav(bytes: Uint8Array): boolean {
  if (bytes.length < 12) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return fourcc(view, 0) === 'RIFF' && fourcc(view, 8) === 'WAVE';
}

export function decodeWav(bytes: Uint8Array): DecodedWav {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isWav(bytes)) throw new WavError('not a WAV file (no RIFF/WAVE header)');
  let offset = 12;
  let fmt: { format: number; channels: number; rate: number; bits: number; blockAlign: number } | null = null;
  let data: { offset: number; length: number } | null = null;
  while (offset + 8 <= bytes.length) {
    const id = fourcc(view, offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw new WavError('WAV fmt chunk is truncated');
      let format = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const rate = view.getUint32(body + 4, true);
      const blockAlign = view.getUint16(body + 12, true);
      const bits = view.getUint16(body + 14, true);
      if (format === FORMAT_EXTENSIBLE && size >= 40) format = view.getUint16(body + 24, true);
      fmt = { format, channels, rate, bits, blockAlign };
    } else if (id === 'data') {
      // Streaming writers leave 0 or 0xFFFFFFFF as the size; a short file means a truncated recording: take what is there.
      const available = bytes.length - body;
      data = { offset: body, length: size === 0 || size === 0xffffffff ? available : Math.min(size, available) };
      break;
    }
    offset = body + size + (size % 2);
  }
  if (!fmt) throw new WavError('WAV file has no fmt chunk');
  if (!data) throw new WavError('WAV file has no data chunk');
  const { format, channels, rate, bits, blockAlign } = fmt;
  if (channels < 1) throw new WavError('WAV file declares 0 channels');
  if (rate < 1000 || rate > 768_000) throw new WavError(`WAV sample rate ${rate} Hz is not plausible`);
  const bytesPerSample = bits / 8;
  // 0-bit samples would fit a block alignment of 0 and make the frame count infinite.
  if (bits === 0 || blockAlign === 0)
    throw new WavError(`WAV file declares ${bits}-bit samples in ${blockAlign}-byte blocks`);
  if (!Number.isInteger(bytesPerSample) || blockAlign !== bytesPerSample * channels) {
    throw new WavError(`WAV block alignment ${blockAlign} does not fit ${channels} x ${bits}-bit samples`);
  }
  const frames = Math.floor(data.length / blockAlign);
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  let read: (pos: number) => number;
  let name: string;
  if (format === FORMAT_PCM && bits === 16) {
    read = (p) => view.getInt16(p, true) / 32768;
    name = 'pcm16';
  } else if (format === FORMAT_PCM && bits === 24) {
    read = (p) => ((view.getUint8(p) | (view.getUint8(p + 1) << 8) | (view.getInt8(p + 2) << 16)) as number) / 8388608;
    name = 'pcm24';
  } else if (format === FORMAT_PCM && bits === 32) {
    read = (p) => view.getInt32(p, true) / 2147483648;
    name = 'pcm32';
  } else if (format === FORMAT_PCM && bits === 8) {
    read = (p) => (view.getUint8(p) - 128) / 128;
    name = 'pcm8';
  } else if (format === FORMAT_FLOAT && bits === 32) {
    read = (p) => view.getFloat32(p, true);
    name = 'float32';
  } else if (format === FORMAT_FLOAT && bits === 64) {
    read = (p) => view.getFloat64(p, true);
    name = 'float64';
  } else {
    throw new WavError(`unsupported WAV encoding (format tag ${format}, ${bits} bits)`);
  }
  for (let i = 0; i < frames; i++) {
    const base = data.offset + i * blockAlign;
    for (let c = 0; c < channels; c++) (out[c] as Float32Array)[i] = read(base + c * bytesPerSample);
  }
  return { sampleRateHz: rate, channels: out, format: name };
}

/** Average of all channels (a copy for multi-channel input, the channel itself for mono). */
export function toMono(channels: Float32Array[]): Float32Array {
  const first = channels[0];
  if (!first) return new Float32Array(0);
  if (channels.length === 1) return first;
  const out = new Float32Array(first.length);
  for (const ch of channels) for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + (ch[i] as number);
  for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) / channels.length;
  return out;
}

/**
 * A mono WAV file of `frames` samples of `bits` bits with its header written; the caller fills the data.  PCM has
 * the 16-byte fmt chunk; IEEE float the 18-byte one and a fact chunk.
 */
function monoWav(format: number, bits: number, sampleRateHz: number, frames: number) {
  const float = format === FORMAT_FLOAT;
  const header = float ? 12 + 8 + 18 + 8 + 4 + 8 : 12 + 8 + 16 + 8;
  const blockAlign = bits / 8;
  const bytes = new Uint8Array(header + frames * blockAlign);
  const view = new DataView(bytes.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  view.setUint32(4, bytes.length - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, float ? 18 : 16, true);
  view.setUint16(20, format, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, sampleRateHz, true);
  view.setUint32(28, sampleRateHz * blockAlign, true);
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, bits, true);
  let at = 36;
  if (float) {
    view.setUint16(at, 0, true); // cbSize
    ascii(at + 2, 'fact');
    view.setUint32(at + 6, 4, true);
    view.setUint32(at + 10, frames, true);
    at += 14;
  }
  ascii(at, 'data');
  view.setUint32(at + 4, frames * blockAlign, true);
  return { bytes, view, dataOffset: header };
}

/** 16-bit PCM mono WAV (what the app offers for download of a recording). */
export function encodeWav16(samples: Float32Array, sampleRateHz: number): Uint8Array {
  const { bytes, view, dataOffset } = monoWav(FORMAT_PCM, 16, sampleRateHz, samples.length);
  for (let i = 0; i < samples.length; i++) {
    // x * 32768, the inverse of the decoder's scaling, clipped to the int16 range
    const v = Math.max(-32768, Math.min(32767, Math.round((samples[i] as number) * 32768)));
    view.setInt16(dataOffset + i * 2, v, true);
  }
  return bytes;
}

/** 32-bit float mono WAV (IEEE float: an 18-byte fmt chunk and a fact chunk): the samples exactly as the app holds
 * (and transcribes) them. */
export function encodeWavFloat32(samples: Float32Array, sampleRateHz: number): Uint8Array {
  const { bytes, view, dataOffset } = monoWav(FORMAT_FLOAT, 32, sampleRateHz, samples.length);
  for (let i = 0; i < samples.length; i++) view.setFloat32(dataOffset + i * 4, samples[i] as number, true);
  return bytes;
}
