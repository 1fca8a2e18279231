/**
 * The app's client for an OpenAI-compatible transcription server (ours in server/, vLLM, SGLang, llama.cpp's
 * server): a WindowTranscriber (backend 'server') that sends each ≤ 30 s window as a 32-bit float 16 kHz WAV to
 * `POST {base}/audio/transcriptions` and reads the answer in the richest form the server offers (capabilities.ts:
 * event stream, else verbose_json, else json; the stream is read by stream.ts).  Transient failures (network, time
 * limit, the statuses src/core/net/http.ts lists) are retried with backoff, then reported as BackendUnavailable so
 * the job runner fails over.  Isomorphic: fetch, FormData, Blob, AbortSignal and TextDecoder only (the ASR worker
 * and Node).
 */
import { sleep } from '../async.ts';
import { SAMPLE_RATE_HZ } from '../constants.ts';
import { encodeWavFloat32 } from '../dsp/wav.ts';
import type { StopReason, WindowResult } from '../asr/contract.ts';
import { defaultTokenCap } from '../asr/token-cap.ts';
import {
  emptyWindowResult,
  BackendUnavailable,
  type WindowTranscriber,
  type WindowRunOptions,
  type WindowSpan,
} from '../asr/window-transcriber.ts';
import { audioTokenCount } from '../asr/windows.ts';
import {
  errorMessage,
  isTransientStatus,
  request,
  retryAfterMs,
  retryWaitMs,
  statusLine,
  TransientError,
  type HttpAnswer,
} from '../net/http.ts';
import { nextModeAfterRefusal, Unsupported, type RemoteMode } from './capabilities.ts';
import type { ModelList, TranscriptionJson, TranscriptionVerbose } from './openai-api.ts';
import { readTranscriptStream } from './stream.ts';

export type { RemoteMode };

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

function isAllZero(samples: Float32Array): boolean {
  for (let i = 0; i < samples.length; i++) if (samples[i] !== 0) return false;
  return true;
}

export class RemoteTranscriber implements WindowTranscriber {
  readonly backend = 'server' as const;
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

  /** The request form this client uses now ('stream' until the server turns it down). */
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
        if (err instanceof TransientError)
          throw new BackendUnavailable('server', err.reason, err.message, { cause: err });
        throw err;
      }
      const { response, body } = answer;
      const status = statusLine(response);
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
        if (err instanceof Unsupported) this.modeNow = err.next;
        if (signal?.aborted) throw signal.reason;
        if (err instanceof Unsupported) continue; // ask again in the next form
        if (!(err instanceof TransientError)) throw err;
        failures++;
        if (failures >= attempts)
          throw new BackendUnavailable(
            'server',
            err.reason,
            `${err.message} (gave up after ${failures} attempt${failures === 1 ? '' : 's'})`,
            { cause: err },
          );
        const maxRetryAfterMs = this.options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
        await sleep(retryWaitMs(failures, delays, err.waitMs, maxRetryAfterMs), signal);
      }
    }
  }

  private stopReason(tokenIds: readonly number[], maxNewTokens: number | undefined): StopReason {
    // verbose_json's tokens exclude the EOS: as many as the cap means the window was cut by it.
    return maxNewTokens !== undefined && tokenIds.length >= maxNewTokens ? 'max-tokens' : 'eos';
  }

  /** One request in the current mode.  Throws TransientError, Unsupported, BackendUnavailable or Error. */
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
    const status = statusLine(response);
    if (!response.ok) {
      const body = answer.body ?? '';
      const message = errorMessage(body);
      const said = `${url} answered ${status}: ${message}`;
      if (response.status === 400 || response.status === 422) {
        const next = nextModeAfterRefusal(mode, body, message);
        if (next) throw new Unsupported(next, said);
        throw new Error(said); // bad input: retrying will not help, and another backend would say the same
      }
      if (response.status === 401 || response.status === 403)
        throw new BackendUnavailable(
          'server',
          'server-error',
          `${url} answered ${status}: the API key is ${this.options.apiKey ? 'wrong' : 'missing'} (${message})`,
        );
      if (isTransientStatus(response.status)) {
        const header = response.status === 429 ? response.headers.get('retry-after') : null;
        throw new TransientError('server-error', said, retryAfterMs(header, Date.now()));
      }
      // This server cannot do it (no such route, too large, a 5xx no retry mends): another backend may.
      if (response.status === 404 || response.status === 413 || response.status >= 500)
        throw new BackendUnavailable('server', 'server-error', said);
      throw new Error(said);
    }

    const type = response.headers.get('content-type') ?? '';
    if (mode === 'stream' && /^text\/event-stream/i.test(type)) {
      // The pipeline's default per-window cap when the caller set none: only a progress hint here.
      const cap = opts.maxNewTokens ?? defaultTokenCap(sampleCount);
      return await readTranscriptStream(answer, {
        url,
        timeoutMs: this.timeoutMs,
        index: span.index,
        cap,
        signal: opts.signal,
        onEvent: opts.onEvent,
      });
    }
    // A JSON answer (to stream=true too: a server that ignores `stream`; later windows ask for verbose_json).
    let body = answer.body;
    if (body === null) {
      try {
        body = await response.text();
      } catch (err) {
        answer.done();
        if (opts.signal?.aborted) throw opts.signal.reason;
        throw new TransientError('server-unreachable', `${url}: the answer was cut off (${String(err)})`, undefined, {
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
}
