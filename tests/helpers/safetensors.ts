/**
 * Minimal safetensors reader (the format of the converter's goldens): 8-byte little-endian header length, a JSON
 * header of `{name: {dtype, shape, data_offsets}}`, then the data.  Only what the tests and benches need.
 */

export interface SafeTensor {
  dtype: string;
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array | Uint8Array;
}

export function readSafetensors(bytes: Uint8Array): Map<string, SafeTensor> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength + 8 > bytes.length) throw new Error('safetensors header is truncated');
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const base = 8 + headerLength;
  const out = new Map<string, SafeTensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [start, end] = info.data_offsets;
    // A copy into a fresh buffer: aligned for the typed-array views (and not a view of a Node Buffer's pool).
    const raw = new Uint8Array(end - start);
    raw.set(bytes.subarray(base + start, base + end));
    let data: SafeTensor['data'];
    switch (info.dtype) {
      case 'F32':
        data = new Float32Array(raw.buffer);
        break;
      case 'I32':
        data = new Int32Array(raw.buffer);
        break;
      case 'I64':
        data = new BigInt64Array(raw.buffer);
        break;
      default:
        data = raw;
    }
    out.set(name, { dtype: info.dtype, shape: info.shape, data });
  }
  return out;
}
