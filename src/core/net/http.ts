/**
 * HTTP the same way everywhere: which statuses are transient (worth another attempt), one request under a time limit
 * and the caller's signal, `Retry-After`, the backoff between attempts, and an error body read as one message.  Used
 * by the server client (src/core/remote/) and the model downloader (workers/model-store/).  Isomorphic: fetch,
 * AbortController and timers only.
 */

/**
 * HTTP statuses worth another attempt: a timeout (408), too early (425), a rate limit (429), or any server error
 * (5xx: an overloaded or restarting server, or a proxy in front of one, may recover).  Other 4xx are the request's own
 * fault and are not retried.
 */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * A failure worth another attempt: the network, the time limit, a transient status.  `reason` says whether the
 * server was reached; `waitMs` overrides the backoff (a 429's Retry-After).
 */
export class TransientError extends Error {
  constructor(
    readonly reason: 'server-unreachable' | 'server-error',
    message: string,
    readonly waitMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** `12 s`, `1.5 s`: a time limit as messages say it. */
export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** `503 Service Unavailable` (or `503` when the status text is empty). */
export function statusLine(response: Response): string {
  return `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
}

/** The message of an error body: OpenAI's `error.message`, `error`, `message` or FastAPI's `detail`, else the text. */
export function errorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; detail?: unknown; message?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
    if (parsed.error && typeof parsed.error.message === 'string') return parsed.error.message;
    if (typeof parsed.message === 'string') return parsed.message;
    if (parsed.detail !== undefined)
      return typeof parsed.detail === 'string' ? parsed.detail : JSON.stringify(parsed.detail);
  } catch {
    // not JSON: the text itself
  }
  const text = body.trim().replace(/\s+/g, ' ');
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** `Retry-After` as milliseconds (delta-seconds or an HTTP date), or undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/**
 * The wait before the next attempt after `failures` failed ones (1, 2, …): the server's Retry-After (`waitMs`, at
 * most `maxRetryAfterMs`) when it gave one, else `delaysMs[failures - 1]`, the last entry repeating.
 */
export function retryWaitMs(
  failures: number,
  delaysMs: readonly number[],
  waitMs: number | undefined,
  maxRetryAfterMs: number,
): number {
  if (waitMs !== undefined) return Math.min(waitMs, maxRetryAfterMs);
  return delaysMs[Math.min(failures - 1, delaysMs.length - 1)] ?? 0;
}

export interface HttpAnswer {
  response: Response;
  /** The body as text (error answers and JSON), or null when it is still to be read (a stream). */
  body: string | null;
  /** Ends the time limit and the signal's hold: call it once the body has been consumed. */
  done: () => void;
  /** Whether the time limit has passed (a body read that broke off may be the reason). */
  timedOut: () => boolean;
}

/**
 * One HTTP request under a time limit (body included) and the caller's signal.  Resolves with the response, its body
 * read unless `keepBody` and the answer is OK; network failures and the time limit become TransientError
 * ('server-unreachable'), the caller's abort rejects with its reason.
 */
export async function request(
  fetchImpl: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  keepBody: boolean,
): Promise<HttpAnswer> {
  signal?.throwIfAborted();
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`no complete answer within ${seconds(timeoutMs)}`));
  }, timeoutMs);
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const done = () => {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  };
  const fail = (err: unknown): never => {
    done();
    if (signal?.aborted) throw signal.reason;
    if (timedOut)
      throw new TransientError('server-unreachable', `${url}: no complete answer within ${seconds(timeoutMs)}`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
    throw new TransientError('server-unreachable', `${url} could not be reached (${detail})`, undefined, {
      cause: err,
    });
  };
  let response: Response;
  try {
    response = await fetchImpl(url, { ...init, signal: controller.signal });
  } catch (err) {
    return fail(err);
  }
  const timedOutNow = () => timedOut;
  if (keepBody && response.ok) return { response, body: null, done, timedOut: timedOutNow };
  let body: string;
  try {
    body = await response.text();
  } catch (err) {
    return fail(err);
  }
  done();
  return { response, body, done, timedOut: timedOutNow };
}
