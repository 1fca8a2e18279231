/**
 * Down-mixing to mono: the mean of the channels, sample by sample (what the model hears from a stereo file).
 * Allocation-free when given `out` (the capture worklet passes its own buffer); decoded files use it too.
 */

/** The mean of `channels` over their first `length` samples, written to `out` (a new array by default). */
export function downmix(
  channels: ArrayLike<Float32Array>,
  length: number,
  out: Float32Array = new Float32Array(length),
): Float32Array {
  out.fill(0, 0, length);
  for (let c = 0; c < channels.length; c++) {
    const ch = channels[c] as Float32Array;
    for (let i = 0; i < length; i++) out[i] = (out[i] as number) + (ch[i] as number);
  }
  if (channels.length > 1) for (let i = 0; i < length; i++) out[i] = (out[i] as number) / channels.length;
  return out;
}
