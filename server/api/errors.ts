/**
 * API errors in OpenAI's shape (`{error: {message, type, code, param}}`, workers/asr/openai-api.ts `ApiErrorBody`)
 * and the one function that writes them.  Every failure of the API goes through `ApiError`.
 */
import type { ServerResponse } from 'node:http';
import type { ApiErrorBody } from '../../workers/asr/openai-api.ts';

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
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param } };
  }
}

export const badRequest = (code: string, message: string, param: string | null = null) =>
  new ApiError(400, 'invalid_request_error', code, message, param);

/** Write `err` (an ApiError or anything thrown: a 500 `internal_error`) unless the response has begun. */
export function sendError(res: ServerResponse, err: unknown, extraHeaders: Record<string, string> = {}): void {
  const e =
    err instanceof ApiError
      ? err
      : new ApiError(
          500,
          'server_error',
          'internal_error',
          `internal error: ${err instanceof Error ? err.message : err}`,
        );
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
