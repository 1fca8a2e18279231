/**
 * The app's client for an OpenAI-compatible transcription server (ours in server/, vLLM, SGLang, llama.cpp's
 * server): a WindowTranscriber (kind 'server') that sends each ≤ 30 s window as a 32-bit float 16 kHz WAV to
 * `POST {base}/audio/transcriptions` and reads the answer in the richest form the server offers, detected once per
 * engine: `stream=true` (server-sent events, text as it is decoded), else `response_format=verbose_json` (token
 * ids), else plain `json`.  Transient failures (network, timeout, 5xx, 429) are retried with backoff, then
 * reported as BackendUnavailable so the job runner fails over.  Isomorphic: fetch, FormData, Blob, AbortSignal and
 * TextDecoder only (the ASR worker and Node).
 */
import { SAMPLE_RATE_HZ } from '../constants.ts';
import { encodeWavFloat32 } from '../dsp/wav.ts';
import type { StopReason, WindowResult } from '../asr/contract.ts';
import type { ModelList, StreamEvent, TranscriptionJson, TranscriptionVerbose } from './openai-api.ts';
import {
  emptyWindowResult,
  BackendUnavailable,
  type WindowTranscriber,
  type WindowRunOptions,
  type WindowSpan,
} from '../asr/window-transcriber.ts';
import { audioTokenCount } from '../asr/windows.ts';

/** How the engine asks for results: the first that the server accepts, remembered per engine. */
export type RemoteMode = 'stream' | 'verbose_json' | 'json';

/** Every stream event shape read: OpenAI's (StreamEvent), an error, and vLLM's chat-style chunks. */
type AnyStreamEvent = {
  type?: StreamEvent['type'] | 'error';
  delta?: string;
  text?: string;
  error?: { message?: string };
  choices?: { delta?: { content?: string | null } }[];
};

/** A 400 that says the server does not stream (not a bad-input message that happens to say "stream"). */
const UNSUPPORTED_STREAM =
  /\bstream(ing)?\b[^.]*\b(not supported|unsupported|not allowed|not implemented)|\b(does not|doesn't|cannot) stream/i;

export interface RemoteTranscriberOptions {
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** Cancels `connect`. */
  signal?: AbortSignal;
  /** A served model id to use instead of the automatic choice (first /glm-?asr/i, else the first listed). */
  model?: string;
  /** Time limit of one request, body included (default 120 s per window; `connect`: 15 s). */
  timeoutMs?: number;
  /** Requests per window before giving up (default 3). */
  attempts?: number;
  /** Wait after failed attempt k (k = 1, 2, …; the last entry repeats): default 500, 1000, 2000 ms. */
  retryDelaysMs?: readonly number[];
  /** Upper bound on a 429's `Retry-After` wait (default 10 s). */
  maxRetryAfterMs?: number;
  /** Start feature detection here instead of at 'stream' (e.g. a mode remembered from an earlier session). */
  mode?: RemoteMode;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const CONNECT_TIMEOUT_MS = 15_000;
const DEFAULT_ATTEMPTS = 3;
const DEFAULT_DELAYS_MS = [500, 1000, 2000] as const;
const DEFAULT_MAX_RETRY_AFTER_MS = 10_000;
const MODEL_PATTERN = /glm-?asr/i;

/** A failure worth another attempt (network, timeout, 5xx, 429); `waitMs` overrides the backoff (Retry-After). */
class Transient extends Error {
  constructor(
    readonly reason: 'server-unreachable' | 'server-error',
    message: string,
    readonly waitMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The server does not take this request form: try the next mode at once. */
class Unsupported extends Error {}

interface HttpAnswer {
  response: Response;
  /** The body as text (error answers and JSON), or null when it is still to be read (a stream). */
  body: string | null;
}

function errorMessage(body: string): string {
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
function retryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** Waits `ms`, rejecting with the signal's reason as soon as it aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function isAllZero(samples: Float32Array): boolean {
  for (let i = 0; i < samples.length; i++) if (samples[i] !== 0) return false;
  return true;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * One HTTP request under a time limit and the caller's signal.  Resolves with the response (its body read unless
 * `keepBody`) and a `done` to call when the body has been consumed; network failures and the time limit become
 * Transient, the caller's abort rejects with its reason.
 */
async function request(
  fetchImpl: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  keepBody: boolean,
): Promise<HttpAnswer & { done: () => void; timedOut: () => boolean }> {
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
    if (timedOut) throw new Transient('server-unreachable', `${url}: no complete answer within ${seconds(timeoutMs)}`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
    throw new Transient('server-unreachable', `${url} could not be reached (${detail})`, undefined, { cause: err });
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

/** Server-sent events from a fetch body: each event's `data` (multi-line data joined by \n), in order. */
async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let at: number;
      while ((at = buffer.search(/\r\n|\r|\n/)) >= 0) {
        // A lone \r at the end of the buffer may be the first half of \r\n: wait for more.
        if (buffer[at] === '\r' && at === buffer.length - 1 && !done) break;
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + (buffer.startsWith('\r\n', at) ? 2 : 1));
        if (line === '') {
          if (data.length) yield data.join('\n');
          data = [];
        } else if (line.startsWith('data:')) {
          data.push(line.slice(line[5] === ' ' ? 6 : 5));
        } // comments (":"), event:, id:, retry: carry nothing we use
      }
      if (done) break;
    }
    if (data.length) yield data.join('\n');
  } finally {
    reader.releaseLock();
  }
}

export class RemoteTranscriber implements WindowTranscriber {
  readonly kind = 'server' as const;
  readonly label: string;
  private modeNow: RemoteMode;
  private readonly fetchImpl: typeof fetch;

  private constructor(
    /** The API root, `/v1` included, without a trailing slash. */
    readonly baseUrl: string,
    /** The served model id the requests name. */
    readonly model: string,
    /** Every model id the server listed. */
    readonly models: readonly string[],
    private readonly options: RemoteTranscriberOptions,
  ) {
    this.label = `server ${baseUrl} (${model})`;
    this.modeNow = options.mode ?? 'stream';
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** The request form this engine uses now ('stream' until the server turns it down). */
  get mode(): RemoteMode {
    return this.modeNow;
  }

  /**
   * Checks the server and picks its model: `GET {base}/models` (also `{base}/v1/models` when `baseUrl` has no
   * `/v1` and the first answer is not a model list).  Rejects with BackendUnavailable('server', …) naming the URL and
   * what went wrong, or with the signal's reason.
   */
  static async connect(baseUrl: string, options: RemoteTranscriberOptions = {}): Promise<RemoteTranscriber> {
    let parsed: URL;
    try {
      parsed = new URL(baseUrl.trim());
    } catch {
      throw new BackendUnavailable(
        'server',
        'server-unreachable',
        `"${baseUrl}" is not a URL (expected http(s)://host/v1)`,
      );
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new BackendUnavailable('server', 'server-unreachable', `"${baseUrl}" is not an http(s) URL`);
    parsed.search = '';
    parsed.hash = '';
    const base = parsed.href.replace(/\/+$/, '');
    const candidates = /\/v1$/i.test(base) ? [base] : [base, `${base}/v1`];
    const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (options.apiKey) headers['Authorization'] = `Bearer ${options.apiKey}`;
    let first: { error: BackendUnavailable; notApi: boolean } | null = null;
    for (const [i, candidate] of candidates.entries()) {
      const url = `${candidate}/models`;
      let answer: HttpAnswer;
      try {
        answer = await request(
          fetchImpl,
          url,
          { method: 'GET', headers },
          options.timeoutMs ?? CONNECT_TIMEOUT_MS,
          options.signal,
          false,
        );
      } catch (err) {
        if (err instanceof Transient) throw new BackendUnavailable('server', err.reason, err.message, { cause: err });
        throw err;
      }
      const { response, body } = answer;
      const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      if (response.status === 401 || response.status === 403) {
        throw new BackendUnavailable(
          'server',
          'server-error',
          `${url} answered ${status}: the API key is ${options.apiKey ? 'wrong' : 'missing'} (${errorMessage(body ?? '')})`,
        );
      }
      let list: ModelList | null = null;
      if (response.ok) {
        try {
          const json = JSON.parse(body ?? '') as ModelList;
          if (json && Array.isArray(json.data)) list = json;
        } catch {
          // not JSON: handled below
        }
      }
      if (!list) {
        const notApi = response.status === 404 || response.ok;
        const error = new BackendUnavailable(
          'server',
          'server-error',
          response.ok
            ? `${url} is not an OpenAI-compatible API (it answered ${response.headers.get('content-type') || 'no content type'}, not a model list)`
            : `${url} answered ${status}: ${errorMessage(body ?? '')}`,
        );
        if (i < candidates.length - 1) {
          first = { error, notApi };
          continue; // maybe the API lives under /v1
        }
        if (first && notApi) {
          if (!first.notApi) throw first.error;
          throw new BackendUnavailable(
            'server',
            'server-error',
            `no OpenAI-compatible API at ${base} (${first.error.message}; ${error.message})`,
          );
        }
        throw error;
      }
      const ids = list.data.map((m) => m?.id).filter((id): id is string => typeof id === 'string' && id !== '');
      if (ids.length === 0) throw new BackendUnavailable('server', 'server-error', `${url} lists no models`);
      let model: string;
      if (options.model !== undefined) {
        if (!ids.includes(options.model))
          throw new BackendUnavailable(
            'server',
            'server-error',
            `${candidate} does not serve model "${options.model}" (it serves ${ids.join(', ')})`,
          );
        model = options.model;
      } else {
        model = ids.find((id) => MODEL_PATTERN.test(id)) ?? (ids[0] as string);
      }
      return new RemoteTranscriber(candidate, model, ids, options);
    }
    throw new BackendUnavailable('server', 'server-error', `${base}: no model list`); // not reached
  }

  async transcribeWindow(samples: Float32Array, span: WindowSpan, opts: WindowRunOptions = {}): Promise<WindowResult> {
    const { signal } = opts;
    signal?.throwIfAborted();
    const t0 = performance.now();
    const audioTokens = audioTokenCount(samples.length);
    const result = emptyWindowResult(span, audioTokens);
    for (let i = 0; i < samples.length; i++) {
      if (!Number.isFinite(samples[i] as number))
        throw new Error(`window ${span.index}: sample ${i} is not a finite number`);
    }
    if (audioTokens === 0 || isAllZero(samples)) return result;

    const wav = encodeWavFloat32(samples, SAMPLE_RATE_HZ) as Uint8Array<ArrayBuffer>;
    const attempts = Math.max(1, this.options.attempts ?? DEFAULT_ATTEMPTS);
    const delays = this.options.retryDelaysMs ?? DEFAULT_DELAYS_MS;
    let failures = 0;
    for (;;) {
      try {
        const { text, tokenIds } = await this.once(wav, samples.length, span, opts);
        result.text = text;
        result.tokenIds = tokenIds;
        result.stopReason = this.stopReason(tokenIds, opts.maxNewTokens);
        result.decodeMs = performance.now() - t0;
        return result;
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (err instanceof Unsupported) continue; // this.modeNow moved on: ask again in the next form
        if (!(err instanceof Transient)) throw err;
        failures++;
        if (failures >= attempts)
          throw new BackendUnavailable(
            'server',
            err.reason,
            `${err.message} (gave up after ${failures} attempt${failures === 1 ? '' : 's'})`,
            { cause: err },
          );
        const backoff = delays[Math.min(failures - 1, delays.length - 1)] ?? 0;
        const wait =
          err.waitMs !== undefined
            ? Math.min(err.waitMs, this.options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS)
            : backoff;
        await sleep(wait, signal);
      }
    }
  }

  private stopReason(tokenIds: readonly number[], maxNewTokens: number | undefined): StopReason {
    // verbose_json's tokens exclude the EOS: as many as the cap means the window was cut by it.
    return maxNewTokens !== undefined && tokenIds.length >= maxNewTokens ? 'max-tokens' : 'eos';
  }

  /** One request in the current mode.  Throws Transient, Unsupported (mode moved on), BackendUnavailable or Error. */
  private async once(
    wav: Uint8Array<ArrayBuffer>,
    sampleCount: number,
    span: WindowSpan,
    opts: WindowRunOptions,
  ): Promise<{ text: string; tokenIds: number[] }> {
    const mode = this.modeNow;
    const form = new FormData();
    form.append('file', new Blob([wav], { type: 'audio/wav' }), `window-${span.index}.wav`);
    form.append('model', this.model);
    if (mode === 'stream') form.append('stream', 'true');
    else form.append('response_format', mode);
    if (opts.maxNewTokens !== undefined) form.append('max_new_tokens', String(opts.maxNewTokens));
    const headers: Record<string, string> = { Accept: mode === 'stream' ? 'text/event-stream' : 'application/json' };
    if (this.options.apiKey) headers['Authorization'] = `Bearer ${this.options.apiKey}`;
    const url = `${this.baseUrl}/audio/transcriptions`;
    const answer = await request(
      this.fetchImpl,
      url,
      { method: 'POST', headers, body: form },
      this.timeoutMs,
      opts.signal,
      mode === 'stream',
    );
    const { response } = answer;
    const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    if (!response.ok) {
      const body = answer.body ?? '';
      const message = errorMessage(body);
      const said = `${url} answered ${status}: ${message}`;
      if (response.status === 400 || response.status === 422) {
        let param: unknown;
        try {
          param = (JSON.parse(body) as { error?: { param?: unknown } }).error?.param;
        } catch {
          param = undefined;
        }
        if (mode === 'stream' && (param === 'stream' || UNSUPPORTED_STREAM.test(message))) {
          this.modeNow = 'verbose_json';
          throw new Unsupported(said);
        }
        if (mode === 'verbose_json' && (param === 'response_format' || /response_format|verbose_json/i.test(message))) {
          this.modeNow = 'json';
          throw new Unsupported(said);
        }
        throw new Error(said); // bad input: retrying will not help, and another engine would say the same
      }
      if (response.status === 401 || response.status === 403)
        throw new BackendUnavailable(
          'server',
          'server-error',
          `${url} answered ${status}: the API key is ${this.options.apiKey ? 'wrong' : 'missing'} (${message})`,
        );
      if (response.status === 429)
        throw new Transient(
          'server-error',
          said,
          retryAfterMs(response.headers.get('retry-after'), Date.now()) ?? undefined,
        );
      if (response.status === 408 || response.status >= 500) throw new Transient('server-error', said);
      if (response.status === 404 || response.status === 413)
        throw new BackendUnavailable('server', 'server-error', said);
      throw new Error(said);
    }

    const type = response.headers.get('content-type') ?? '';
    if (mode === 'stream' && /^text\/event-stream/i.test(type)) {
      return await this.readStream(answer, url, sampleCount, span, opts);
    }
    // A JSON answer (to stream=true too: a server that ignores `stream`; later windows ask for verbose_json).
    let body = answer.body;
    if (body === null) {
      try {
        body = await response.text();
      } catch (err) {
        answer.done();
        if (opts.signal?.aborted) throw opts.signal.reason;
        throw new Transient('server-unreachable', `${url}: the answer was cut off (${String(err)})`, undefined, {
          cause: err,
        });
      }
      answer.done();
    }
    if (mode === 'stream') this.modeNow = 'verbose_json';
    let json: Partial<TranscriptionVerbose & TranscriptionJson>;
    try {
      json = JSON.parse(body) as Partial<TranscriptionVerbose>;
    } catch {
      throw new BackendUnavailable('server', 'server-error', `${url} answered ${type || 'no content type'}, not JSON`);
    }
    if (typeof json?.text !== 'string')
      throw new BackendUnavailable('server', 'server-error', `${url} answered JSON without a "text" field`);
    const tokenIds: number[] = [];
    if (Array.isArray(json.segments)) {
      for (const s of json.segments) if (Array.isArray(s?.tokens)) tokenIds.push(...s.tokens);
    }
    return { text: json.text.trim(), tokenIds };
  }

  private async readStream(
    answer: HttpAnswer & { done: () => void; timedOut: () => boolean },
    url: string,
    sampleCount: number,
    span: WindowSpan,
    opts: WindowRunOptions,
  ): Promise<{ text: string; tokenIds: number[] }> {
    const body = answer.response.body;
    if (!body) {
      answer.done();
      throw new BackendUnavailable('server', 'server-error', `${url} answered an event stream without a body`);
    }
    // The pipeline's default per-window cap when the caller set none: only a progress hint here.
    const cap = opts.maxNewTokens ?? Math.min(500, 32 + Math.ceil((10 * sampleCount) / SAMPLE_RATE_HZ));
    let text = '';
    let generated = 0;
    /** vLLM streams chat-style chunks (`choices[0].delta.content`) and ends with `[DONE]`. */
    let chunks = false;
    /** Events this client understood the JSON of (a stream that ends before any is a broken one, not a shape). */
    let parsed = 0;
    const delta = (piece: string) => {
      text += piece;
      generated++;
      // Server text is trimmed like the pipeline's (vLLM and Whisper-style servers often start with a space).
      opts.onEvent?.({ type: 'token', index: span.index, tokenId: -1, text: text.trimStart(), generated, cap });
    };
    try {
      for await (const data of sseData(body)) {
        if (data.trim() === '[DONE]') {
          if (chunks) return { text: text.trim(), tokenIds: [] };
          if (generated > 0) {
            // OpenAI-shaped deltas but no transcript.text.done: the final text is unknown, so ask in JSON instead.
            this.modeNow = 'verbose_json';
            throw new Unsupported(`${url} ended its event stream without transcript.text.done`);
          }
          continue;
        }
        let event: AnyStreamEvent;
        try {
          event = JSON.parse(data) as AnyStreamEvent;
        } catch {
          continue;
        }
        parsed++;
        const content = event.choices?.[0]?.delta?.content;
        if (event.type === 'transcript.text.delta' && typeof event.delta === 'string') {
          delta(event.delta);
        } else if (event.type === 'transcript.text.done' && typeof event.text === 'string') {
          return { text: event.text.trim(), tokenIds: [] };
        } else if (event.type === 'error' || event.error) {
          throw new Transient('server-error', `${url} reported an error mid-stream: ${event.error?.message ?? data}`);
        } else if (typeof content === 'string') {
          chunks = true;
          if (content) delta(content);
        }
      }
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (err instanceof Transient || err instanceof Unsupported) throw err;
      if (answer.timedOut())
        throw new Transient('server-unreachable', `${url}: no complete answer within ${seconds(this.timeoutMs)}`);
      throw new Transient('server-unreachable', `${url}: the event stream broke off (${String(err)})`, undefined, {
        cause: err,
      });
    } finally {
      answer.done();
      body.cancel().catch(() => {});
    }
    if (generated === 0 && parsed > 0 && !chunks) {
      // A stream in a shape this client does not know: ask for JSON from now on.
      this.modeNow = 'verbose_json';
      throw new Unsupported(`${url} answered an event stream in an unknown shape`);
    }
    // Cut off before its end marker (a proxy closing early): never a partial text as a success.
    throw new Transient('server-unreachable', `${url}: the event stream ended before its end (done or [DONE])`);
  }
}
