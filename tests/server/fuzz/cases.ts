/**
 * The fuzz suite's generators (fast-check): whole HTTP requests as bytes, each built from a valid request and then
 * bent the way clients and attackers bend them.
 *  - multipart: truncated bodies, missing or wrong boundaries, odd part headers, chunked framing, many parts, huge
 *    headers, extra file parts, prototype names in fields;
 *  - headers: Host, Origin, Range, If-Range, If-None-Match, Content-Length lies, Transfer-Encoding, Authorization;
 *  - urls: percent-encoding (valid and not), dot segments, encoded separators, long paths, odd methods, absolute-form;
 *  - audio: WAV files with mutated header fields, flipped bytes, cut short, and other containers' magic numbers.
 * Every request is sent whole and the client then half-closes: a body shorter than its Content-Length is the
 * client's own truncation (`clientCut`), after which the server may close without an answer.
 */
import fc from 'fast-check';

export interface FuzzCase {
  kind: 'multipart' | 'headers' | 'urls' | 'audio';
  /** One line for the report. */
  label: string;
  bytes: Buffer;
  /** The body is shorter than the request says: the server need not answer (it cannot know the request). */
  clientCut: boolean;
}

export interface Context {
  port: number;
  apiKey: string;
  /** The server's own origin. */
  origin: string;
}

const CRLF = '\r\n';

/** `arb` one time in `1 + absent` (fast-check's own option is present four times in five). */
function sometimes<T>(arb: fc.Arbitrary<T>, absent = 3): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: absent, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
}

/** A valid 16 kHz 16-bit mono WAV of `ms` milliseconds: a tone with a little deterministic noise. */
export function wav(ms: number, rate = 16_000): Buffer {
  const n = Math.round((rate * ms) / 1000);
  const data = Buffer.alloc(n * 2);
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const v = 0.3 * Math.sin((2 * Math.PI * 220 * i) / rate) + 0.02 * (seed / 0x7fffffff - 0.5);
    data.writeInt16LE(Math.round(v * 32767), i * 2);
  }
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(36 + data.length, 4);
  head.write('WAVEfmt ', 8, 'latin1');
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20); // PCM
  head.writeUInt16LE(1, 22); // mono
  head.writeUInt32LE(rate, 24);
  head.writeUInt32LE(rate * 2, 28);
  head.writeUInt16LE(2, 32);
  head.writeUInt16LE(16, 34);
  head.write('data', 36, 'latin1');
  head.writeUInt32LE(data.length, 40);
  return Buffer.concat([head, data]);
}

const WAV = wav(600);

/** Offsets of the WAV header's fields, with their width. */
const WAV_FIELDS: [string, number, 2 | 4][] = [
  ['riff size', 4, 4],
  ['fmt size', 16, 4],
  ['format', 20, 2],
  ['channels', 22, 2],
  ['rate', 24, 4],
  ['byte rate', 28, 4],
  ['block align', 32, 2],
  ['bits', 34, 2],
  ['data size', 40, 4],
];

const MAGIC = [
  'OggS',
  'fLaC',
  'ID3\u0003',
  '\u0000\u0000\u0000\u0018ftypmp42',
  '\u001aE\u00df\u00a3',
  'RIFF\u0000\u0000\u0000\u0000WAVE',
  'MThd',
  '#!AMR\n',
  'caff',
  '\u00ff\u00fb\u0090',
];

/** An audio file: valid, or mutated in its header, its bytes or its length, or another container's start. */
export const audioFile: fc.Arbitrary<{ label: string; data: Buffer }> = fc.oneof(
  fc.constant({ label: 'valid wav', data: WAV }),
  fc
    .tuple(
      fc.constantFrom(...WAV_FIELDS),
      fc.constantFrom(
        0,
        1,
        2,
        3,
        7,
        8,
        24,
        32,
        33,
        64,
        255,
        0x7fff,
        0xffff,
        0x7fffffff,
        0xffffffff,
        8000,
        48000,
        1 << 20,
      ),
    )
    .map(([[name, at, width], value]) => {
      const data = Buffer.from(WAV);
      if (width === 2) data.writeUInt16LE(value & 0xffff, at);
      else data.writeUInt32LE(value >>> 0, at);
      return { label: `wav ${name}=${value}`, data };
    }),
  fc.integer({ min: 0, max: WAV.length - 1 }).map((n) => ({ label: `wav cut at ${n}`, data: WAV.subarray(0, n) })),
  fc
    .array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 })
    .map((flips) => {
      const data = Buffer.from(WAV);
      for (const [at, x] of flips) data[at] = data[at]! ^ x;
      return { label: `wav header bytes flipped at ${flips.map((f) => f[0]).join(',')}`, data };
    }),
  fc.tuple(fc.constantFrom(...MAGIC), fc.uint8Array({ maxLength: 2048 })).map(([magic, rest]) => ({
    label: `magic ${JSON.stringify(magic)} + ${rest.length} bytes`,
    data: Buffer.concat([Buffer.from(magic, 'latin1'), Buffer.from(rest)]),
  })),
  fc.uint8Array({ maxLength: 4096 }).map((b) => ({ label: `${b.length} random bytes`, data: Buffer.from(b) })),
  // A WAV header that promises hours of audio over a few bytes.
  fc.constant({
    label: 'wav claiming 2^32 bytes of data',
    data: (() => {
      const d = Buffer.from(WAV.subarray(0, 200));
      d.writeUInt32LE(0xffffffff, 40);
      d.writeUInt32LE(0xffffffff, 4);
      return d;
    })(),
  }),
);

const tokenChars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';
const token = (min = 1, max = 12) =>
  fc.string({ unit: fc.constantFrom(...tokenChars), minLength: min, maxLength: max });
/** Header-value-safe text (no CR/LF, which would change the request's framing itself). */
const headerText = (max = 40) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: max });

const fieldValue = fc.oneof(
  fc.constantFrom(
    'tiny@fp32',
    'tiny',
    'tiny@q4',
    'fake@constructor',
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty',
    'en',
    'json',
    'text',
    'srt',
    'vtt',
    'verbose_json',
    'true',
    'false',
    '0',
    '-1',
    'NaN',
    '1e309',
    '',
  ),
  headerText(60),
);

interface Part {
  name: string;
  filename?: string;
  type?: string;
  extra: string[];
  data: Buffer;
}

const fieldName = fc.constantFrom(
  'file',
  'model',
  'language',
  'response_format',
  'temperature',
  'prompt',
  'stream',
  'timestamp_granularities[]',
  'audio',
  'constructor',
  '__proto__',
  '',
);

const part: fc.Arbitrary<Part> = fc.oneof(
  fc
    .record({
      name: fieldName,
      value: fieldValue,
      extra: fc.array(fc.constantFrom('Content-Type: text/plain', 'Content-Transfer-Encoding: base64', 'X-Odd: 1'), {
        maxLength: 2,
      }),
    })
    .map(({ name, value, extra }) => ({ name, extra, data: Buffer.from(value) })),
  fc
    .record({
      name: fc.constantFrom('file', 'file', 'audio', 'other'),
      filename: fc.oneof(fc.constantFrom('a.wav', 'a.mp3', '', '../../etc/passwd', 'x'.repeat(300)), headerText(30)),
      type: fc.option(
        fc.constantFrom('audio/wav', 'application/octet-stream', 'text/plain', 'multipart/mixed; boundary=Q'),
        {
          nil: undefined,
        },
      ),
      audio: audioFile,
    })
    .map(({ name, filename, type, audio }) => ({ name, filename, type, extra: [], data: audio.data })),
);

function buildMultipart(boundary: string, parts: Part[], closing: boolean): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    const disp = `Content-Disposition: form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
    const headers = [disp, ...(p.type ? [`Content-Type: ${p.type}`] : []), ...p.extra];
    chunks.push(Buffer.from(`--${boundary}${CRLF}${headers.join(CRLF)}${CRLF}${CRLF}`), p.data, Buffer.from(CRLF));
  }
  if (closing) chunks.push(Buffer.from(`--${boundary}--${CRLF}`));
  return Buffer.concat(chunks);
}

/** Framing of a body: its Content-Length (true or a lie), or chunked in pieces. */
type Framing =
  | { kind: 'length' }
  | { kind: 'short'; by: number }
  | { kind: 'long'; by: number }
  | { kind: 'chunked'; size: number }
  | { kind: 'none' };

const framing: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: 'length' as const }) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 64 }).map((size) => ({ kind: 'chunked' as const, size })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5000 }).map((by) => ({ kind: 'short' as const, by })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 50 }).map((by) => ({ kind: 'long' as const, by })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) },
);

/** The request bytes for `head` lines and `body` framed as `f`; whether the client cut it short. */
function frame(head: string[], body: Buffer, f: Framing): { bytes: Buffer; clientCut: boolean } {
  const lines = [...head];
  let payload = body;
  let clientCut = false;
  if (f.kind === 'length') lines.push(`Content-Length: ${body.length}`);
  else if (f.kind === 'short') {
    // Says more than it sends: the client then half-closes.
    lines.push(`Content-Length: ${body.length + f.by}`);
    clientCut = true;
  } else if (f.kind === 'long') {
    // Says less than it sends: the rest is read as the next request on the connection.
    lines.push(`Content-Length: ${Math.max(0, body.length - f.by)}`);
  } else if (f.kind === 'chunked') {
    lines.push('Transfer-Encoding: chunked');
    const pieces: Buffer[] = [];
    for (let at = 0; at < body.length; at += f.size) {
      const c = body.subarray(at, at + f.size);
      pieces.push(Buffer.from(`${c.length.toString(16)}${CRLF}`), c, Buffer.from(CRLF));
    }
    pieces.push(Buffer.from(`0${CRLF}${CRLF}`));
    payload = Buffer.concat(pieces);
  } else if (body.length > 0) {
    // Neither: a request without a body, followed by bytes the server reads as another request.
  }
  return { bytes: Buffer.concat([Buffer.from(lines.join(CRLF) + CRLF + CRLF, 'latin1'), payload]), clientCut };
}

function base(ctx: Context, method: string, target: string, auth = true): string[] {
  return [
    `${method} ${target} HTTP/1.1`,
    `Host: 127.0.0.1:${ctx.port}`,
    ...(auth ? [`Authorization: Bearer ${ctx.apiKey}`] : []),
  ];
}

/** Multipart uploads to /v1/audio/transcriptions: bent in structure, or an upload that ends inside its file. */
export function multipartCases(ctx: Context): fc.Arbitrary<FuzzCase> {
  return fc.oneof({ weight: 3, arbitrary: bentMultipart(ctx) }, { weight: 1, arbitrary: endsInsideFile(ctx) });
}

/**
 * A form whose body ends inside a file part, without its closing boundary: the request itself is complete (its
 * length or its last chunk says so), the form is not.  Fields may come first, another file part may follow.
 */
function endsInsideFile(ctx: Context): fc.Arbitrary<FuzzCase> {
  return fc
    .record({
      fields: fc.array(fc.constantFrom('model', 'response_format', 'language'), { maxLength: 2 }),
      name: fc.constantFrom('file', 'audio', 'other'),
      filename: fc.constantFrom('a.wav', 'b.mp3', ''),
      another: fc.boolean(),
      keep: fc.integer({ min: 0, max: 1000 }),
      chunked: fc.boolean(),
    })
    .map((r) => {
      const fields = r.fields.map((n): Part => ({
        name: n,
        extra: [],
        data: Buffer.from(n === 'model' ? 'tiny@fp32' : 'json'),
      }));
      const files: Part[] = [{ name: r.name, filename: r.filename, extra: [], data: WAV }];
      if (r.another) files.unshift({ name: 'file', filename: 'first.wav', extra: [], data: WAV.subarray(0, 100) });
      const whole = buildMultipart('XBOUND', [...fields, ...files], false);
      // Cut within the last file's data (its CRLF and everything after are gone).
      const end = whole.length - 2 - Math.floor((WAV.length * (1000 - r.keep)) / 1000);
      const body = whole.subarray(0, end);
      const head = [
        ...base(ctx, 'POST', '/v1/audio/transcriptions'),
        'Content-Type: multipart/form-data; boundary=XBOUND',
      ];
      const { bytes } = frame(head, body, r.chunked ? { kind: 'chunked', size: 4096 } : { kind: 'length' });
      const label =
        `multipart ending inside the file part "${r.name}" (filename "${r.filename}") after ${r.keep / 10}% of it, ` +
        `${r.fields.length} fields before${r.another ? ', another file part first' : ''}, ${r.chunked ? 'chunked' : 'length'}`;
      return { kind: 'multipart' as const, label, bytes, clientCut: false };
    });
}

function bentMultipart(ctx: Context): fc.Arbitrary<FuzzCase> {
  return fc
    .record({
      parts: fc.oneof(
        { weight: 4, arbitrary: fc.array(part, { minLength: 0, maxLength: 6 }) },
        {
          weight: 1,
          arbitrary: fc
            .integer({ min: 50, max: 400 })
            .map((n) =>
              Array.from({ length: n }, (_, i): Part => ({ name: `f${i}`, extra: [], data: Buffer.from('x') })),
            ),
        },
      ),
      valid: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      boundary: fc.oneof(
        { weight: 4, arbitrary: fc.constant('XBOUND') },
        { weight: 1, arbitrary: token(1, 70) },
        { weight: 1, arbitrary: fc.constantFrom('b'.repeat(200), 'with space') },
      ),
      contentType: fc.oneof(
        { weight: 6, arbitrary: fc.constant('ok' as const) },
        {
          weight: 3,
          arbitrary: fc.constantFrom('quoted', 'none', 'missing-boundary', 'other-boundary', 'json', 'mixed', 'huge'),
        },
      ),
      closing: fc.boolean(),
      // Per mille of the body kept (fc.double is uniform over the doubles, so nearly always ~0).
      cut: sometimes(fc.integer({ min: 0, max: 1000 }), 1),
      hugeHeader: sometimes(fc.integer({ min: 1000, max: 60_000 }), 4),
      f: framing,
    })
    .map((r) => {
      const parts: Part[] = r.valid
        ? [
            { name: 'file', filename: 'a.wav', type: 'audio/wav', extra: [], data: WAV },
            { name: 'model', extra: [], data: Buffer.from('tiny@fp32') },
            ...r.parts,
          ]
        : r.parts;
      if (r.hugeHeader !== undefined && parts[0])
        parts[0] = { ...parts[0], extra: [...parts[0].extra, `X-Big: ${'h'.repeat(r.hugeHeader)}`] };
      let body = buildMultipart(r.boundary, parts, r.closing);
      if (r.cut !== undefined) body = body.subarray(0, Math.floor((body.length * r.cut) / 1000));
      const ct = {
        ok: `multipart/form-data; boundary=${r.boundary}`,
        quoted: `multipart/form-data; boundary="${r.boundary}"`,
        none: null,
        'missing-boundary': 'multipart/form-data',
        'other-boundary': 'multipart/form-data; boundary=NOTTHISONE',
        json: 'application/json',
        mixed: `multipart/mixed; boundary=${r.boundary}`,
        huge: `multipart/form-data; boundary=${r.boundary}; x=${'y'.repeat(8000)}`,
      }[r.contentType];
      const head = [...base(ctx, 'POST', '/v1/audio/transcriptions'), ...(ct ? [`Content-Type: ${ct}`] : [])];
      const { bytes, clientCut } = frame(head, body, r.f);
      const label =
        `multipart ${r.valid ? 'file+model+' : ''}${r.parts.length} parts, boundary ${r.boundary.length} chars, ` +
        `content-type ${r.contentType}, ${r.closing ? 'closed' : 'no closing boundary'}` +
        `${r.cut !== undefined ? `, cut at ${(r.cut / 10).toFixed(1)}%` : ''}${r.hugeHeader ? `, ${r.hugeHeader}-byte part header` : ''}, ${r.f.kind}`;
      return { kind: 'multipart' as const, label, bytes, clientCut };
    });
}

/** Audio files (valid, mutated, cut, other containers) in an otherwise valid upload. */
export function audioCases(ctx: Context): fc.Arbitrary<FuzzCase> {
  return fc
    .record({
      audio: audioFile,
      format: fc.constantFrom('json', 'text', 'verbose_json', 'srt', 'vtt'),
      stream: fc.boolean(),
    })
    .map(({ audio, format, stream }) => {
      const parts: Part[] = [
        { name: 'file', filename: 'upload.bin', extra: [], data: audio.data },
        { name: 'model', extra: [], data: Buffer.from('tiny@fp32') },
        { name: 'response_format', extra: [], data: Buffer.from(format) },
        ...(stream ? [{ name: 'stream', extra: [], data: Buffer.from('true') }] : []),
      ];
      const head = [
        ...base(ctx, 'POST', '/v1/audio/transcriptions'),
        'Content-Type: multipart/form-data; boundary=AUDIO',
      ];
      const { bytes } = frame(head, buildMultipart('AUDIO', parts, true), { kind: 'length' });
      return {
        kind: 'audio' as const,
        label: `audio ${audio.label}, ${format}${stream ? ', stream' : ''}`,
        bytes,
        clientCut: false,
      };
    });
}

const PATHS = [
  '/',
  '/healthz',
  '/models/index.json',
  '/models/tiny/manifest.json',
  '/models/tiny/onnx/',
  '/v1/models',
  '/v1/models/tiny@fp32',
  '/v1/audio/transcriptions',
  '/assets/app.js',
  '/index.html',
  '/nope',
];

/** Requests with bent headers: Host, Origin, Range and validators, Content-Length, Transfer-Encoding, Authorization. */
export function headerCases(ctx: Context): fc.Arbitrary<FuzzCase> {
  const host = fc.oneof(
    { weight: 4, arbitrary: fc.constant(`127.0.0.1:${ctx.port}`) },
    fc.constantFrom(
      `localhost:${ctx.port}`,
      `[::1]:${ctx.port}`,
      'attacker.example',
      `attacker.example:${ctx.port}`,
      '',
      '[::1',
      `127.0.0.1:${ctx.port}:1`,
      'a'.repeat(300),
      `127.0.0.1:99999`,
      '(none)',
    ),
    headerText(50),
  );
  const origin = sometimes(
    fc.oneof(
      fc.constantFrom(
        ctx.origin,
        'https://evil.example',
        'null',
        `${ctx.origin}/`,
        'file://',
        `HTTP://127.0.0.1:${ctx.port}`,
      ),
      headerText(40),
    ),
  );
  const num = fc.oneof(
    fc.nat(20_000),
    fc.constantFrom('', '0', '00', '18446744073709551616', '9'.repeat(40), '-1', '1e3', ' 5'),
  );
  const range = sometimes(
    fc.oneof(
      fc.tuple(num, num).map(([a, b]) => `bytes=${a}-${b}`),
      fc.tuple(num, num, num, num).map(([a, b, c, d]) => `bytes=${a}-${b},${c}-${d}`),
      fc.constantFrom('bytes=', 'bytes=-', 'bytes=-0', 'items=0-1', 'bytes 0-1', 'BYTES=0-1', 'bytes=0-1,'),
      headerText(30),
    ),
  );
  const validator = sometimes(
    fc.oneof(
      fc.constantFrom('"x"', 'W/"x"', '*', 'Thu, 01 Jan 1970 00:00:00 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT'),
      headerText(40),
    ),
  );
  const auth = fc.oneof(
    { weight: 4, arbitrary: fc.constant(`Bearer ${ctx.apiKey}`) },
    fc.constantFrom(
      '',
      'Bearer',
      'Bearer ',
      'Basic dXNlcjpwYXNz',
      `bearer ${ctx.apiKey}`,
      `Bearer ${ctx.apiKey}x`,
      `Bearer ${'k'.repeat(10_000)}`,
    ),
    headerText(60).map((s) => `Bearer ${s}`),
  );
  const contentLength = sometimes(fc.constantFrom('0', '5', '-1', 'abc', '1e3', '99999999999999999999', '5, 6', ' 3'));
  const te = sometimes(fc.constantFrom('chunked', 'gzip, chunked', 'identity', 'chunked, gzip', 'CHUNKED', 'foo'));
  const extra = fc.array(fc.tuple(token(1, 20), headerText(80)), { maxLength: 4 });
  return fc
    .record({
      method: fc.constantFrom('GET', 'GET', 'HEAD', 'POST', 'OPTIONS', 'PUT'),
      path: fc.constantFrom(...PATHS),
      host,
      origin,
      range,
      ifRange: validator,
      ifNoneMatch: validator,
      auth,
      contentLength,
      te,
      expect: sometimes(fc.constantFrom('100-continue', 'nonsense')),
      upgrade: sometimes(fc.constantFrom('websocket', 'h2c', 'garbage')),
      extra,
      body: fc.uint8Array({ maxLength: 64 }),
    })
    .map((r) => {
      const lines = [`${r.method} ${r.path} HTTP/1.1`];
      if (r.host !== '(none)') lines.push(`Host: ${r.host}`);
      if (r.origin !== undefined) lines.push(`Origin: ${r.origin}`);
      if (r.range !== undefined) lines.push(`Range: ${r.range}`);
      if (r.ifRange !== undefined) lines.push(`If-Range: ${r.ifRange}`);
      if (r.ifNoneMatch !== undefined) lines.push(`If-None-Match: ${r.ifNoneMatch}`);
      lines.push(`Authorization: ${r.auth}`);
      if (r.contentLength !== undefined) lines.push(`Content-Length: ${r.contentLength}`);
      if (r.te !== undefined) lines.push(`Transfer-Encoding: ${r.te}`);
      if (r.expect !== undefined) lines.push(`Expect: ${r.expect}`);
      if (r.upgrade !== undefined) lines.push('Connection: Upgrade', `Upgrade: ${r.upgrade}`);
      for (const [name, value] of r.extra) lines.push(`X-${name}: ${value}`);
      const body = Buffer.from(r.body);
      const bytes = Buffer.concat([Buffer.from(lines.join(CRLF) + CRLF + CRLF, 'latin1'), body]);
      // A declared length beyond what is sent is the client's own cut.
      const declared = Number(r.contentLength);
      const clientCut = (Number.isFinite(declared) && declared > body.length) || r.te !== undefined;
      const label = `headers ${r.method} ${r.path} ${JSON.stringify({ host: r.host.slice(0, 40), origin: r.origin, range: r.range, ifRange: r.ifRange, cl: r.contentLength, te: r.te })}`;
      return { kind: 'headers' as const, label, bytes, clientCut };
    });
}

const SEGMENTS = [
  '',
  '.',
  '..',
  '%2e',
  '%2E%2e',
  '.%2e',
  '%2f',
  '%5c',
  '%00',
  '%',
  '%zz',
  '%E0%A4',
  '%C0%AF',
  '%F0%9F%8E%A4',
  'models',
  'tiny',
  'v1',
  'audio',
  'transcriptions',
  '.tiny.partial',
  '.git',
  'assets',
  'index.html',
  'manifest.json',
  'onnx',
  'healthz',
  'a;b',
  '~',
  '\\',
];

/** Request targets and methods: percent-encoding, dot segments, long paths, absolute-form, odd methods. */
export function urlCases(ctx: Context): fc.Arbitrary<FuzzCase> {
  const segment = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...SEGMENTS) },
    token(1, 20),
    fc.integer({ min: 256, max: 20_000 }).map((n) => 'a'.repeat(n)),
    fc
      .array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 6 })
      .map((bytes) => bytes.map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
  );
  return fc
    .record({
      method: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('GET', 'HEAD', 'POST', 'OPTIONS', 'PUT', 'DELETE', 'PATCH') },
        fc.constantFrom('TRACE', 'PROPFIND', 'M-SEARCH', 'get', 'BREW', 'SEARCH', 'QUERY', 'UNLINK', 'CONNECT'),
      ),
      prefix: fc.constantFrom('', '', '/v1/models', '/models/tiny', '/v1/audio', '/assets', '/models'),
      segments: fc.array(segment, { minLength: 0, maxLength: 8 }),
      trailing: fc.boolean(),
      query: sometimes(
        fc.oneof(
          fc.constantFrom('model=/etc/passwd', '%zz', 'a=%00', '?', '#frag'),
          headerText(30).map((s) => s.replace(/[ #]/g, '+')),
        ),
      ),
      form: fc.constantFrom('origin', 'origin', 'origin', 'absolute', 'asterisk', 'relative'),
    })
    .map((r) => {
      let target = `${r.prefix}/${r.segments.join('/')}${r.trailing && r.segments.length ? '/' : ''}`;
      if (r.query !== undefined) target += `?${r.query}`;
      if (r.form === 'absolute') target = `http://127.0.0.1:${ctx.port}${target}`;
      else if (r.form === 'asterisk') target = '*';
      else if (r.form === 'relative') target = target.slice(1) || 'x';
      const head = [
        `${r.method} ${target} HTTP/1.1`,
        `Host: 127.0.0.1:${ctx.port}`,
        `Authorization: Bearer ${ctx.apiKey}`,
      ];
      const bytes = Buffer.from(head.join(CRLF) + CRLF + CRLF, 'latin1');
      const label = `url ${r.method} ${target.length > 120 ? `${target.slice(0, 120)}… (${target.length} chars)` : target}`;
      return { kind: 'urls' as const, label, bytes, clientCut: false };
    });
}
