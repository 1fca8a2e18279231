/**
 * One HTTP/1.1 exchange over a raw socket: the request is written byte for byte as given (so a test can send what
 * no HTTP client would: a lying Content-Length, a bad request target, a Host of its choice, a body cut short), and
 * the answer is parsed strictly enough to tell a well-formed HTTP response from anything else (a reset, an empty
 * reply, garbage).  The server closes or the response ends by its Content-Length or chunked framing.
 */
import { connect } from 'node:net';

export interface RawResponse {
  /** The status of the last response (after any `100 Continue`). */
  status: number;
  /** Lower-case names; repeated headers joined by ', '. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface RawResult {
  response: RawResponse | null;
  /** Why there is no well-formed response (null when there is one). */
  problem: string | null;
}

export interface RawOptions {
  /** Give up on an answer after this long (the server may rightly wait for a body that never comes). */
  timeoutMs?: number;
  /** Half-close the socket after writing (the body is over). */
  end?: boolean;
}

function parseHead(head: string): { status: number; headers: Record<string, string> } | null {
  const lines = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!m) return null;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) return null;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { status: Number(m[1]), headers };
}

/** Decode a chunked body; null while incomplete, 'bad' if malformed. */
function dechunk(data: Buffer): Buffer | null | 'bad' {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const nl = data.indexOf('\r\n', at);
    if (nl < 0) return null;
    const size = parseInt(data.subarray(at, nl).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size) || size < 0) return 'bad';
    if (size === 0) return Buffer.concat(parts);
    if (data.length < nl + 2 + size + 2) return null;
    parts.push(data.subarray(nl + 2, nl + 2 + size));
    at = nl + 2 + size + 2;
  }
}

/** Parse what arrived; `closed`: the server has closed (a body without framing ends there). */
export function parseResponse(data: Buffer, closed: boolean, method: string): RawResult | null {
  let at = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end < 0) return closed ? { response: null, problem: incomplete(data) } : null;
    const head = parseHead(data.subarray(at, end).toString('latin1'));
    if (!head)
      return {
        response: null,
        problem: `not an HTTP response: ${JSON.stringify(data.subarray(0, 80).toString('latin1'))}`,
      };
    const rest = data.subarray(end + 4);
    if (head.status === 100) {
      at = end + 4;
      continue;
    }
    const bodyless = method === 'HEAD' || head.status === 204 || head.status === 304;
    if (bodyless) return { response: { ...head, body: Buffer.alloc(0) }, problem: null };
    if (head.headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
      const body = dechunk(rest);
      if (body === 'bad') return { response: null, problem: 'malformed chunked body' };
      if (body) return { response: { ...head, body }, problem: null };
      return closed ? { response: null, problem: 'chunked body cut short' } : null;
    }
    const length = head.headers['content-length'];
    if (length !== undefined) {
      const n = Number(length);
      if (rest.length >= n) return { response: { ...head, body: rest.subarray(0, n) }, problem: null };
      return closed ? { response: null, problem: `body cut short (${rest.length} of ${n} bytes)` } : null;
    }
    return closed ? { response: { ...head, body: rest }, problem: null } : null;
  }
}

function incomplete(data: Buffer): string {
  return data.length === 0 ? 'empty reply (connection closed without a response)' : 'response head cut short';
}

/** Send `request` to 127.0.0.1:`port` and read one response. */
export function rawRequest(port: number, request: Buffer | string, options: RawOptions = {}): Promise<RawResult> {
  const method = (typeof request === 'string' ? request : request.subarray(0, 16).toString('latin1')).split(' ')[0]!;
  return new Promise((done) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect(port, '127.0.0.1');
    const finish = (result: RawResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      done(result);
    };
    const timer = setTimeout(
      () => finish({ response: null, problem: `no complete response within ${options.timeoutMs ?? 10_000} ms` }),
      options.timeoutMs ?? 10_000,
    );
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      const r = parseResponse(Buffer.concat(chunks), false, method);
      if (r) finish(r);
    });
    const closed = () =>
      finish(parseResponse(Buffer.concat(chunks), true, method) ?? { response: null, problem: 'closed' });
    socket.on('end', closed);
    socket.on('close', closed);
    // A reset after the server answered and stopped reading (it need not read a body it refused) still counts
    // as that answer; a reset before any byte is a failure.
    socket.on('error', () => closed());
    socket.write(request, () => {
      if (options.end) socket.end();
    });
  });
}
