/**
 * Conditional and range requests for static files, as RFC 9110 orders them (sections 13.2.2 and 14):
 *  1. If-None-Match (weak comparison, `*` or a list), else If-Modified-Since: a match is 304 for GET and HEAD.
 *  2. Range, for GET only: a header the server cannot parse, another unit, or several ranges is ignored (200 with
 *     the whole file: a valid answer to any Range); If-Range with a validator that is not the file's current one
 *     (a weak or different entity tag, another date) also means the whole file, so a resumed download never
 *     splices two versions.  One satisfiable range is 206; one that is not (it starts at or past the end, or a
 *     zero-length suffix) is 416 with `Content-Range: bytes *\/<size>`.
 * The model downloader resumes with `Range: bytes=<offset>-` and checks the Content-Range it gets back.
 */

export interface Validators {
  /** A strong entity tag, quoted. */
  etag: string;
  /** Modification time in ms (compared at one-second resolution, as HTTP dates are). */
  mtimeMs: number;
}

export type RangeAnswer =
  { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(', ') : v);

/** Entity tags in an If-None-Match list (`*` stays `*`); opaque tags only, `W/` removed (weak comparison). */
function tags(list: string): string[] {
  return (list.match(/\*|(?:W\/)?"[^"]*"/g) ?? []).map((t) => t.replace(/^W\//, ''));
}

/** An HTTP date in ms, or null (Date.parse is lenient; only the IMF-fixdate and the two obsolete forms matter). */
function httpDate(value: string): number | null {
  if (!/^[A-Za-z]{3},? /.test(value.trim())) return null;
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : null;
}

/** Whether a GET or HEAD is answered 304 Not Modified. */
export function notModified(headers: Record<string, string | string[] | undefined>, v: Validators): boolean {
  const inm = header(headers['if-none-match']);
  if (inm !== undefined) {
    const list = tags(inm);
    return list.includes('*') || list.includes(v.etag);
  }
  const ims = header(headers['if-modified-since']);
  if (ims !== undefined) {
    const t = httpDate(ims);
    return t !== null && Math.floor(v.mtimeMs / 1000) * 1000 <= t;
  }
  return false;
}

/** If-Range: true when the Range may be honoured (no If-Range, or its validator is the file's current one). */
function ifRangeHolds(value: string | undefined, v: Validators): boolean {
  if (value === undefined) return true;
  const s = value.trim();
  if (s.startsWith('"')) return s === v.etag; // strong comparison: a weak tag never matches
  if (s.startsWith('W/')) return false;
  const t = httpDate(s);
  return t !== null && t === Math.floor(v.mtimeMs / 1000) * 1000;
}

/** What to send for a request with these headers for a file of `size` bytes. */
export function rangeAnswer(
  method: string | undefined,
  headers: Record<string, string | string[] | undefined>,
  size: number,
  v: Validators,
): RangeAnswer {
  const raw = header(headers['range']);
  if (method !== 'GET' || raw === undefined) return { kind: 'full' };
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(raw);
  // Several ranges (a comma) are valid but not supported here: the whole file is the allowed answer.
  if (!m) return { kind: 'full' };
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return { kind: 'full' };
  if (a !== '' && b !== '' && BigInt(b) < BigInt(a)) return { kind: 'full' }; // invalid range-spec: ignored
  if (!ifRangeHolds(header(headers['if-range']), v)) return { kind: 'full' };
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    if (size === 0) return { kind: 'full' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  return { kind: 'partial', start, end };
}
