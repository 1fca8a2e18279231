/**
 * The transcription request body: multipart/form-data parsed as it streams (busboy).  The file is kept in memory up
 * to `maxFileBytes`; crossing it (or a Content-Length that announces it) is a 413 at once, without reading the rest.
 * A body that stops arriving for `idleMs` is a 408.  Only the first `file` part is kept; other parts are fields.
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
  /** No body bytes for this long: 408. */
  idleMs: number;
}

/** Room for the form's other fields and boundaries on top of the file. */
const FORM_OVERHEAD_BYTES = 1 << 20;

export function tooLarge(maxFileBytes: number): ApiError {
  return new ApiError(
    413,
    'invalid_request_error',
    'file_too_large',
    `the upload is larger than the server's limit of ${(maxFileBytes / 2 ** 20).toFixed(maxFileBytes % 2 ** 20 ? 2 : 0)} MB`,
    'file',
  );
}

export function parseTranscriptionForm(req: IncomingMessage, limits: MultipartLimits): Promise<TranscriptionForm> {
  const { maxFileBytes, idleMs } = limits;
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
        limits: { fileSize: maxFileBytes, files: 1, fields: 32, fieldSize: 64 * 1024, parts: 40 },
      });
    } catch (err) {
      reject(badRequest('invalid_multipart', `bad multipart request: ${err instanceof Error ? err.message : err}`));
      return;
    }
    const fields: Record<string, string> = {};
    let file: UploadedFile | null = null;
    let received = 0;
    let settled = false;
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(
        () => fail(new ApiError(408, 'invalid_request_error', 'body_timeout', `no request body for ${idleMs} ms`)),
        idleMs,
      );
    };
    const cleanup = () => {
      clearTimeout(idle);
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
      armIdle();
      if (received > maxFileBytes + FORM_OVERHEAD_BYTES) fail(tooLarge(maxFileBytes));
    };
    const onAborted = () => {
      if (!req.complete) fail(new ApiError(499, 'invalid_request_error', 'client_closed', 'the client went away'));
    };

    parser.on('file', (name, stream, info) => {
      if (name !== 'file' || file) {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () => fail(tooLarge(maxFileBytes)));
      stream.on('end', () => {
        if (!settled)
          file = { data: Buffer.concat(chunks), filename: info.filename || 'audio', mimeType: info.mimeType };
      });
    });
    parser.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(badRequest('field_too_long', `the field ${name} is longer than 64 KiB`, name));
      else fields[name] = value;
    });
    parser.on('partsLimit', () => fail(badRequest('too_many_parts', 'the form has too many parts')));
    parser.on('fieldsLimit', () => fail(badRequest('too_many_parts', 'the form has too many fields')));
    parser.on('error', (err: unknown) =>
      fail(badRequest('invalid_multipart', `bad multipart body: ${err instanceof Error ? err.message : err}`)),
    );
    parser.on('close', () => {
      if (settled) return;
      settled = true;
      cleanup();
      if (!file) reject(badRequest('missing_file', 'the form has no `file` part (the audio to transcribe)', 'file'));
      else resolve({ file, fields });
    });
    req.on('data', onData);
    req.on('close', onAborted);
    armIdle();
    req.pipe(parser);
  });
}
