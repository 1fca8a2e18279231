/**
 * A stored file's bytes without a copy of the file in memory: a `Uint8Array` whose `byteLength` is the file's size and
 * whose `subarray(begin, end)` reads just that range from the stored pieces (IndexedDB Blobs, file-backed) with the
 * worker's synchronous `FileReaderSync`.  Nothing else of the array is real: it holds no elements of its own.
 *
 * Why: onnxruntime-web mounts a graph's external data before creating its session and then, tensor by tensor, takes
 * `data.subarray(offset, offset + length)` of the mounted array: for a WebGPU initializer it uploads that slice to the
 * GPU buffer, for a CPU one it copies it into the WASM heap (onnxruntime's external-data loader for the web,
 * `LoadExtDataToTensorFromTensorProto`; it checks `offset + length <= byteLength` first).  A whole Uint8Array of the file
 * (what this store gave before) was a second copy of the weights in JavaScript for the life of the session's creation;
 * with this array only the tensor being loaded is in memory.  The same holds in every onnxruntime-web build, not only
 * the JSPI one that streams a `Blob` (onnxruntime-web's `mountExternalData`: "in other builds it is fully materialized
 * into memory first"), and Safari has no JSPI.
 *
 * The array is only for onnxruntime's external-data mount: anything that reads it as an ordinary array (indexing,
 * `set`, `slice`, iterating) sees zero elements.  `readRange` is the honest name for what `subarray` does here.
 * The pieces must be verified before (stored-source.ts does, piece by piece, and repairs them).
 *
 * A range lives until the next read: onnxruntime copies each one before it asks for the next (the external-data
 * loader of its plain and asyncify builds, the WASM and WebGPU engines': `HEAPU8.set`, or a GPU staging buffer's
 * `set`, then return), so the next read frees the last one's memory at once (`release`) instead of leaving it to the
 * garbage collector.  Without this, a full-size load's peak spread over 137 MB from run to run, 52 MB with it
 * (docs/measurements.md, WASM with the graphs together).  The last range of a file waits for the collector.
 */

/** `FileReaderSync`, which dedicated workers have (not pages, not Node). */
interface SyncReader {
  readAsArrayBuffer(blob: Blob): ArrayBuffer;
}

function syncReader(): SyncReader | null {
  const ctor = (globalThis as { FileReaderSync?: new () => SyncReader }).FileReaderSync;
  return ctor ? new ctor() : null;
}

/**
 * Gives `bytes`' memory back now rather than at the next garbage collection: its buffer is detached (ES2024's
 * `ArrayBuffer.prototype.transfer(0)`; where that is missing, the collector frees it as before).  Only for an array
 * whose buffer nothing else uses: every view of that buffer becomes empty.  A buffer that cannot be detached (shared,
 * a WebAssembly memory's) is left as it is.
 */
export function release(bytes: Uint8Array): void {
  const buffer = bytes.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer; detached?: boolean };
  if (!(buffer instanceof ArrayBuffer) || typeof buffer.transfer !== 'function' || buffer.detached) return;
  try {
    buffer.transfer(0);
  } catch {
    // Not detachable: the collector frees it as before.
  }
}

/** True where a PieceBytes can be read (a dedicated worker). */
export function pieceBytesSupported(): boolean {
  return syncReader() !== null;
}

export class PieceBytes extends Uint8Array<ArrayBuffer> {
  /** Offset of each piece in the file (ascending, starting at 0). */
  private readonly starts: number[];
  private readonly size: number;
  private readonly reader: SyncReader;
  /** The last range handed out, released at the next read (see the header). */
  private last: Uint8Array | null = null;

  /** Throws when this context has no synchronous file reader (check pieceBytesSupported first). */
  constructor(private readonly pieces: readonly Blob[]) {
    super(new ArrayBuffer(0));
    const reader = syncReader();
    if (!reader) throw new Error('PieceBytes needs FileReaderSync (a dedicated worker)');
    this.reader = reader;
    this.starts = [];
    let at = 0;
    for (const p of pieces) {
      this.starts.push(at);
      at += p.size;
    }
    this.size = at;
    // onnxruntime reads `byteLength` to bound its reads: the file's size, not this array's zero elements.
    Object.defineProperty(this, 'byteLength', { value: at, enumerable: false });
  }

  /**
   * Bytes [begin, end) of the file, read from the pieces now (a new array; only the pieces it spans are read).  Valid
   * until the next read, which releases it.
   */
  readRange(begin: number, end: number): Uint8Array<ArrayBuffer> {
    if (!(Number.isInteger(begin) && Number.isInteger(end) && 0 <= begin && begin <= end && end <= this.size))
      throw new RangeError(`bytes ${begin}..${end} are outside this ${this.size}-byte file`);
    if (this.last) release(this.last);
    const out = this.readNew(begin, end);
    this.last = out;
    return out;
  }

  private readNew(begin: number, end: number): Uint8Array<ArrayBuffer> {
    if (begin === end) return new Uint8Array(0);
    const first = this.pieceAt(begin);
    const p = this.pieces[first] as Blob;
    const start = this.starts[first] as number;
    if (end <= start + p.size) return this.read(p, begin - start, end - start);
    // The range spans pieces: one buffer of its size, filled piece by piece.
    const out = new Uint8Array(end - begin);
    let at = begin;
    for (let i = first; at < end; i++) {
      const piece = this.pieces[i] as Blob;
      const from = at - (this.starts[i] as number);
      const to = Math.min(piece.size, end - (this.starts[i] as number));
      const part = this.read(piece, from, to);
      out.set(part, at - begin);
      release(part);
      at += to - from;
    }
    return out;
  }

  /** onnxruntime's view of the mounted file: a range of it (see the header). */
  override subarray(begin = 0, end = this.size): Uint8Array<ArrayBuffer> {
    return this.readRange(begin, end);
  }

  private read(piece: Blob, from: number, to: number): Uint8Array<ArrayBuffer> {
    const buf = this.reader.readAsArrayBuffer(piece.slice(from, to));
    if (buf.byteLength !== to - from)
      throw new Error(`a stored piece gave ${buf.byteLength} bytes where ${to - from} were asked for`);
    return new Uint8Array(buf);
  }

  /** Index of the piece holding byte `offset` (binary search). */
  private pieceAt(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    // An empty range at the very end, or a zero-size piece: move past pieces that end at or before `offset`.
    while (lo < this.pieces.length - 1 && (this.starts[lo] as number) + (this.pieces[lo] as Blob).size <= offset) lo++;
    return lo;
  }
}
