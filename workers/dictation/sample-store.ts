/**
 * Growable store of 16 kHz samples in fixed 10 s blocks: appending never copies what is already stored, and an hour
 * of audio is 360 blocks rather than 110 000 frame-sized arrays.  Pure.
 */

const BLOCK_SAMPLES = 160_000;

export class SampleStore {
  private readonly blocks: Float32Array[] = [];
  private used = 0; // samples used in the last block

  get length(): number {
    return this.blocks.length === 0 ? 0 : (this.blocks.length - 1) * BLOCK_SAMPLES + this.used;
  }

  append(samples: Float32Array): void {
    let offset = 0;
    while (offset < samples.length) {
      let block = this.blocks[this.blocks.length - 1];
      if (!block || this.used === BLOCK_SAMPLES) {
        block = new Float32Array(BLOCK_SAMPLES);
        this.blocks.push(block);
        this.used = 0;
      }
      const n = Math.min(samples.length - offset, BLOCK_SAMPLES - this.used);
      block.set(samples.subarray(offset, offset + n), this.used);
      this.used += n;
      offset += n;
    }
  }

  /** Copy of samples [start, end). */
  slice(start = 0, end = this.length): Float32Array {
    start = Math.max(0, Math.min(start, this.length));
    end = Math.max(start, Math.min(end, this.length));
    const out = new Float32Array(end - start);
    let written = 0;
    for (let pos = start; pos < end;) {
      const b = Math.floor(pos / BLOCK_SAMPLES);
      const within = pos - b * BLOCK_SAMPLES;
      const n = Math.min(end - pos, BLOCK_SAMPLES - within);
      out.set((this.blocks[b] as Float32Array).subarray(within, within + n), written);
      written += n;
      pos += n;
    }
    return out;
  }

  /** The samples at [start, end) without copying when they sit in one block; otherwise a copy. */
  view(start: number, end: number): Float32Array {
    const b = Math.floor(start / BLOCK_SAMPLES);
    if (b === Math.floor((end - 1) / BLOCK_SAMPLES) && end > start) {
      const within = start - b * BLOCK_SAMPLES;
      return (this.blocks[b] as Float32Array).subarray(within, within + (end - start));
    }
    return this.slice(start, end);
  }
}
