/**
 * API errors in OpenAI's shape (`{error: {message, type, code, param}}`, src/core/remote/openai-api.ts `ApiErrorBody`)
 * and the one function that writes them.  Every failure of the API goes through `ApiError`.
 *
 * Messages are for clients, who have no business knowing the server's file layout: errors are written in terms of
 * model ids and the client's own file name, and as a last guard every message has the server's private directories
 * (the models' root, the working and home directories, the temporary directory) replaced by `…`.
 */
import type { ServerResponse } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { resolve } from 'node:path';
import type { ApiErrorBody } from '../../src/core/remote/openai-api.ts';

type ErrorType = ApiErrorBody['error']['type'];

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  get body(): ApiErrorBody {
    return { error: { message: hidePaths(this.message), type: this.type, code: this.code, param: this.param } };
  }
}

export const badRequest = (code: string, message: string, param: string | null = null) =>
  new ApiError(400, 'invalid_request_error', code, message, param);

const privateDirs = new Set<string>();
/** Directories no client-facing message may show (the model registry adds its root). */
export function addPrivateDir(dir: string): void {
  const abs = resolve(dir);
  if (abs.length > 1) privateDirs.add(abs);
}
for (const dir of [process.cwd(), homedir(), tmpdir()]) addPrivateDir(dir);

/** `text` with every private directory (and the rest of that path, up to a space or quote) replaced by `…`. */
export function hidePaths(text: string): string {
  let out = text;
  // Longest first, so a directory inside another is hidden whole.
  for (const dir of [...privateDirs].sort((x, y) => y.length - x.length)) {
    for (let at = out.indexOf(dir); at >= 0; at = out.indexOf(dir, at + 1)) {
      let end = at + dir.length;
      while (end < out.length && !/[\s'"`,;)]/.test(out[end] as string)) end++;
      out = `${out.slice(0, at)}…${out.slice(end)}`;
    }
  }
  return out;
}

/**
 * Errors nobody anticipated become a 500 `internal_error`; their message stays in the server's log (it may name
 * files), the client gets a stable sentence.
 */
function internal(err: unknown): ApiError {
  console.error('internal error:', err);
  return new ApiError(500, 'server_error', 'internal_error', 'internal error (the server log has the details)');
}

/** Write `err` (an ApiError or anything thrown: a 500 `internal_error`) unless the response has begun. */
export function sendError(res: ServerResponse, err: unknown, extraHeaders: Record<string, string> = {}): void {
  const e = err instanceof ApiError ? err : internal(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(e.body);
  res.writeHead(e.status, {
    ...extraHeaders,
    ...e.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}
