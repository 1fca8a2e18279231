/**
 * The transcription request body: multipart/form-data parsed as it streams (busboy).  The `file` part is kept in
 * memory up to `maxFileBytes` (the compressed upload; it is decoded only when its job starts); crossing it (or a
 * Content-Length that announces it) is a 413 at once, without reading the rest.  File parts with other names are
 * read and dropped; a second `file` part is a 400.
 *
 * Slow bodies: no bytes for `idleMs` is a 408, and so is a body that, once `idleMs` have passed, has averaged less
 * than `minBytesPerSec` (a client trickling a byte now and then would otherwise hold a queue place until the
 * server's request timeout).
 *
 * Every stream here has an 'error' listener: a body cut short (no closing boundary, a reset connection) is a 400 or
 * a closed request, never an unhandled 'error' event.
 */
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { ApiError, badRequest } from './errors.ts';

export interface UploadedFile {
  data: Buffer;
  filename: string;
  mimeType: string;
}
export interface TranscriptionForm {
  file: UploadedFile;
  fields: Record<string, string>;
}

export interface MultipartLimits {
  maxFileBytes: number;
  /** No body bytes for this long: 408.  Also the grace before `minBytesPerSec` applies. */
  idleMs: number;
  /** Average body rate required once `idleMs` have passed (default MIN_UPLOAD_BYTES_PER_SEC). */
  minBytesPerSec?: number;
}

/**
 * 8 KiB/s (64 kbit/s): the slowest mobile uplinks send a file several times faster, while a client holding a
 * place must now pay bandwidth for it.
 */
export const MIN_UPLOAD_BYTES_PER_SEC = 8 * 1024;

/** Room for the form's other fields and boundaries on top of the file. */
const FORM_OVERHEAD_BYTES = 1 << 20;

/** File parts per form, the one that counts included (others are dropped as they arrive). */
const MAX_FILE_PARTS = 8;

export function tooLarge(maxFileBytes: number): ApiError {
  return new ApiError(
    413,
    'invalid_request_error',
    'file_too_large',
    `the upload is larger than the server's limit of ${(maxFileBytes / 2 ** 20).toFixed(maxFileBytes % 2 ** 20 ? 2 : 0)} MB`,
    'file',
  );
}

/** The client's file name as error messages quote it: printable, at most 100 characters. */
function label(filename: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  const clean = (filename ?? '').replace(/[\u0000-\u001f\u007f]/g, '?');
  if (!clean) return 'audio';
  return clean.length > 100 ? `${clean.slice(0, 99)}…` : clean;
}

const clientClosed = () => new ApiError(499, 'invalid_request_error', 'client_closed', 'the client went away');

export function parseTranscriptionForm(req: IncomingMessage, limits: MultipartLimits): Promise<TranscriptionForm> {
  const { maxFileBytes, idleMs } = limits;
  const minRate = limits.minBytesPerSec ?? MIN_UPLOAD_BYTES_PER_SEC;
  const type = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\b/i.test(type))
    return Promise.reject(
      badRequest(
        'invalid_content_type',
        `the request must be multipart/form-data (got ${type ? JSON.stringify(type) : 'no Content-Type'})`,
      ),
    );
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxFileBytes + FORM_OVERHEAD_BYTES)
    return Promise.reject(tooLarge(maxFileBytes));

  return new Promise<TranscriptionForm>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { fileSize: maxFileBytes, files: MAX_FILE_PARTS, fields: 32, fieldSize: 64 * 1024, parts: 40 },
      });
    } catch (err) {
      reject(badRequest('invalid_multipart', `bad multipart request: ${err instanceof Error ? err.message : err}`));
      return;
    }
    // No prototype: a field named `__proto__` or `constructor` is just a field.
    const fields: Record<string, string> = Object.create(null) as Record<string, string>;
    let file: UploadedFile | null = null;
    let fileSeen = false;
    let fileAsField = false;
    let received = 0;
    let settled = false;
    const t0 = performance.now();
    let lastData = t0;
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(
        () => fail(new ApiError(408, 'invalid_request_error', 'body_timeout', `no request body for ${idleMs} ms`)),
        idleMs,
      );
    };
    const rateCheck = setInterval(
      () => {
        const now = performance.now();
        const sec = (now - t0) / 1000;
        // A body that has stopped is the idle timer's (body_timeout); this catches one that trickles.
        if (now - lastData >= idleMs / 2) return;
        if (sec * 1000 >= idleMs && received < minRate * sec)
          fail(
            new ApiError(
              408,
              'invalid_request_error',
              'upload_too_slow',
              `the upload arrived at ${Math.round(received / sec)} bytes/s; this server needs at least ${minRate} bytes/s`,
            ),
          );
      },
      Math.min(1000, Math.max(50, idleMs / 4)),
    );
    const cleanup = () => {
      clearTimeout(idle);
      clearInterval(rateCheck);
      req.off('data', onData);
      req.off('close', onAborted);
      req.unpipe(parser);
      parser.removeAllListeners();
      parser.on('error', () => undefined);
    };
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      cleanup();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      lastData = performance.now();
      armIdle();
      if (received > maxFileBytes + FORM_OVERHEAD_BYTES) fail(tooLarge(maxFileBytes));
    };
    const onAborted = () => {
      if (!req.complete) fail(clientClosed());
    };
    const badBody = (err: unknown) =>
      badRequest('invalid_multipart', `bad multipart body: ${err instanceof Error ? err.message : err}`);

    parser.on('file', (name, stream, info) => {
      // busboy destroys a part's stream with an error when the body ends inside it; that error is the parser's too.
      stream.on('error', (err: unknown) => fail(badBody(err)));
      if (name !== 'file') {
        stream.resume();
        return;
      }
      if (fileSeen) {
        stream.resume();
        fail(badRequest('duplicate_file', 'the form has more than one `file` part; send one file per request', 'file'));
        return;
      }
      fileSeen = true;
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => fail(tooLarge(maxFileBytes)));
      stream.on('end', () => {
        if (!settled) file = { data: Buffer.concat(chunks), filename: label(info.filename), mimeType: info.mimeType };
        chunks.length = 0;
      });
    });
    parser.on('field', (name, value, info) => {
      if (name === 'file') fileAsField = true;
      else if (info.valueTruncated) fail(badRequest('field_too_long', `the field ${name} is longer than 64 KiB`, name));
      else fields[name] = value;
    });
    parser.on('partsLimit', () => fail(badRequest('too_many_parts', 'the form has too many parts')));
    parser.on('fieldsLimit', () => fail(badRequest('too_many_parts', 'the form has too many fields')));
    parser.on('filesLimit', () =>
      fail(badRequest('too_many_parts', `the form has more than ${MAX_FILE_PARTS} file parts`)),
    );
    parser.on('error', (err: unknown) => fail(badBody(err)));
    parser.on('close', () => {
      if (settled) return;
      settled = true;
      cleanup();
      if (file) resolve({ file, fields });
      else if (fileAsField)
        reject(
          badRequest(
            'missing_file',
            'the `file` part came as a text field; send it as a file (with a filename)',
            'file',
          ),
        );
      else reject(badRequest('missing_file', 'the form has no `file` part (the audio to transcribe)', 'file'));
    });
    req.on('data', onData);
    req.on('close', onAborted);
    // A reset connection: 'close' follows and settles the request as gone.
    req.on('error', () => undefined);
    armIdle();
    req.pipe(parser);
  });
}
