/**
 * Access to the API: an optional Bearer key (compared in constant time: sha256 of both sides, timingSafeEqual), and
 * CORS for the `--allow-origin` origins only (preflight answered here).  API responses also carry
 * `Cross-Origin-Resource-Policy: cross-origin`, so a cross-origin-isolated app on another origin may read them.
 * A 401 names its scheme (`WWW-Authenticate: Bearer`, RFC 6750), as HTTP requires of every 401.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors.ts';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** A checker for `Authorization: Bearer <key>`; with no key configured every request passes. */
export function bearerCheck(apiKey: string | undefined): (req: IncomingMessage) => void {
  if (!apiKey) return () => undefined;
  const expected = sha256(apiKey);
  return (req) => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!m) {
      throw new ApiError(
        401,
        'authentication_error',
        'missing_api_key',
        'this server needs an API key: send `Authorization: Bearer <key>`',
        null,
        { 'WWW-Authenticate': 'Bearer' },
      );
    }
    if (!timingSafeEqual(sha256(m[1] as string), expected))
      throw new ApiError(
        401,
        'authentication_error',
        'invalid_api_key',
        'the API key is not valid for this server',
        null,
        { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
      );
  };
}

/** CORS headers for an API response to `req` (none when its Origin is not allowed). */
export function corsHeaders(req: IncomingMessage, allowed: ReadonlySet<string>): Record<string, string> {
  const headers: Record<string, string> = { 'Cross-Origin-Resource-Policy': 'cross-origin' };
  const origin = req.headers.origin;
  if (origin && (allowed.has(origin) || allowed.has('*'))) {
    headers['Access-Control-Allow-Origin'] = origin;
    headers['Access-Control-Expose-Headers'] = 'Retry-After, WWW-Authenticate';
    headers['Vary'] = 'Origin';
  }
  return headers;
}

/** Answer a CORS preflight (`OPTIONS` with Access-Control-Request-Method): 204 for allowed origins, 403 otherwise. */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, allowed: ReadonlySet<string>): void {
  const origin = req.headers.origin;
  if (!origin || !(allowed.has(origin) || allowed.has('*'))) {
    throw new ApiError(
      403,
      'invalid_request_error',
      'origin_not_allowed',
      `the origin ${origin ?? '(none)'} is not allowed to call this API (server flag --allow-origin)`,
    );
  }
  res.writeHead(204, {
    ...corsHeaders(req, allowed),
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Allow-Headers':
      req.headers['access-control-request-headers'] ?? 'Authorization, Content-Type, OpenAI-Organization',
    'Access-Control-Max-Age': '600',
  });
  res.end();
}
