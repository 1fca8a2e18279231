/**
 * PieceBytes (workers/model-store/piece-bytes.ts) in a real Chromium worker, the only place it runs (it reads with
 * FileReaderSync): its `byteLength` is the file's, and the bytes of every range (`readRange` and onnxruntime's
 * `subarray`), within a piece, across pieces (an empty piece among them), empty, and the whole file, equal the same
 * bytes laid out in one array; a range past the end is a RangeError.  A range lives until the next read, which
 * releases it (its buffer is detached), and `release` detaches what it is given, never a WebAssembly memory.  The
 * module is bundled here by esbuild and served from a routed origin (no app, no server).
 */
import { expect, test } from '@playwright/test';
import { bundleForBrowser } from './helpers/bundle.ts';
import { resolve } from 'node:path';
import { ROOT } from './helpers/paths.ts';
import { openWorkerOrigin } from './helpers/worker-origin.ts';

const ORIGIN = 'http://piece-bytes.test';

const WORKER = String.raw`
import { PieceBytes, release } from './piece-bytes.ts';
const sizes = [5, 7, 1, 4, 0, 9];
const all = new Uint8Array(sizes.reduce((a, b) => a + b, 0)).map((_, i) => (i * 37 + 11) % 251);
const pieces = [];
let at = 0;
for (const n of sizes) { pieces.push(new Blob([all.slice(at, at + n)])); at += n; }
const pb = new PieceBytes(pieces);
const same = (got, from, to) => got.length === to - from && got.every((v, i) => v === all[from + i]);
const out = { byteLength: pb.byteLength, size: all.length, ranges: [] };
// Every range [from, to) of the file: within a piece, across several, empty, the whole file.
for (let from = 0; from <= all.length; from++)
  for (let to = from; to <= all.length; to++) {
    const got = pb.readRange(from, to);
    if (!same(got, from, to)) out.ranges.push([from, to, Array.from(got)]);
  }
// subarray (what onnxruntime calls) gives the same bytes, and they hold until the next read, which releases them.
const first = pb.subarray(2, 14);
out.firstBefore = same(first, 2, 14);
const second = pb.subarray(14, 26);
out.afterNext = { first: first.buffer.byteLength, detached: first.buffer.detached, second: same(second, 14, 26) };
// A range within one piece and one across pieces alike; the whole file too.
const within = pb.readRange(0, 5);
const whole = pb.readRange(0, all.length);
out.released = [within.buffer.detached, second.buffer.detached, whole.buffer.detached, same(whole, 0, all.length)];
// release detaches the buffer it is given (every view of it; twice is harmless), and leaves a WebAssembly memory's,
// which cannot be detached, as it is.
const a = new Uint8Array([1, 2, 3, 4]);
const view = new Uint8Array(a.buffer, 1, 2);
release(a);
release(a);
const memory = new WebAssembly.Memory({ initial: 1 });
const heap = new Uint8Array(memory.buffer);
heap[7] = 9;
release(heap);
out.release = [a.byteLength, a.buffer.detached, view.byteLength, heap.byteLength, heap[7]];
try { pb.readRange(3, all.length + 1); out.outside = 'no error'; } catch (e) { out.outside = e.name + ': ' + e.message; }
postMessage(out);
`;

test('PieceBytes: every range of a file in pieces is the file’s bytes, held until the next read releases it; a range past the end is a RangeError', async ({
  page,
}) => {
  const script = await bundleForBrowser({
    stdin: { contents: WORKER, resolveDir: resolve(ROOT, 'workers/model-store'), loader: 'js' },
  });
  await openWorkerOrigin(page, ORIGIN, 'worker.js', script);
  const out = await page.evaluate(
    () =>
      new Promise<Record<string, unknown>>((ok, fail) => {
        const w = new Worker('/worker.js', { type: 'module' });
        w.onmessage = (e) => ok(e.data as Record<string, unknown>);
        w.onerror = (e) => fail(new Error(e.message));
      }),
  );
  expect(out['byteLength']).toBe(26);
  expect(out['size']).toBe(26);
  expect(out['ranges']).toEqual([]);
  expect(out['firstBefore']).toBe(true);
  expect(out['afterNext']).toEqual({ first: 0, detached: true, second: true });
  expect(out['released']).toEqual([true, true, false, true]);
  expect(out['release']).toEqual([0, true, 0, 65536, 9]);
  expect(out['outside']).toBe('RangeError: bytes 3..27 are outside this 26-byte file');
});
