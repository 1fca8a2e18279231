/**
 * `POST /v1/audio/transcriptions`: OpenAI's transcription request (src/core/remote/openai-api.ts) on the app's pipeline.
 *
 *   upload (multipart.ts) → fields → model (models.ts) → job queue (queue.ts) → audio (server/audio-file.ts) →
 *   GlmAsrPipeline.transcribe with the client's AbortSignal → json | text | srt | vtt | verbose_json, or SSE.
 *
 * The upload is decoded only once its job holds a slot: a waiting request keeps its compressed bytes (at most
 * --max-upload-mb), never its samples (460 MB for 120 minutes), so the samples in memory are bounded by the job
 * concurrency, not the queue's length.  Decoding stops when the client goes away.
 *
 * What the fields do here: `language` is only echoed in verbose_json (GLM-ASR detects the language itself; without
 * it, Chinese vs English is guessed from the text); `prompt` and `temperature` are accepted and ignored (GLM-ASR's
 * prompt is fixed and decoding is greedy); `max_new_tokens` (extension) caps the generated tokens per window, and
 * `repetition_guard=false` (extension) lets a window whose tail repeats run on to that cap (a fixed decode length
 * for benchmarks: random weights loop, real speech rarely does).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { deflateSync } from 'node:zlib';
import type { Transcript, WindowResult } from '../../src/core/asr/contract.ts';
import { defaultTokenCap } from '../../src/core/asr/token-cap.ts';
import { WINDOW_SAMPLES } from '../../src/core/constants.ts';
import {
  RESPONSE_FORMATS,
  type ResponseFormat,
  type StreamEvent,
  type TranscriptionJson,
  type TranscriptionVerbose,
  type VerboseSegment,
} from '../../src/core/remote/openai-api.ts';
import { joinWindowTexts, PipelineError } from '../../src/core/asr/pipeline.ts';
import { formatTranscript, segmentsOf } from '../../src/core/format/export.ts';
import { AudioFileError, decodeAudioFile, DEFAULT_DECODE_TIMEOUT_MS, peak } from '../audio-file.ts';
import { ApiError, badRequest } from './errors.ts';
import type { ModelRegistry } from './models.ts';
import { parseTranscriptionForm } from './multipart.ts';
import type { JobQueue } from './queue.ts';
import { detectLanguage, languageName } from './languages.ts';

export interface TranscriptionLimits {
  maxUploadBytes: number;
  maxAudioSec: number;
  bodyIdleMs: number;
  /** Average upload rate required once `bodyIdleMs` have passed (multipart.ts MIN_UPLOAD_BYTES_PER_SEC). */
  minUploadBytesPerSec?: number;
  /** ffmpeg is stopped after this long (audio-file.ts DEFAULT_DECODE_TIMEOUT_MS). */
  decodeTimeoutMs?: number;
}

interface Request {
  model: string;
  format: ResponseFormat;
  stream: boolean;
  language?: string;
  maxNewTokens?: number;
  repetitionGuard?: boolean;
}

const MAX_NEW_TOKENS_LIMIT = 8192;
/** The default cap of a full 30 s window (token-cap.ts). */
const UNGUARDED_MAX_NEW_TOKENS = defaultTokenCap(WINDOW_SAMPLES);

function parseFields(fields: Record<string, string>): Request {
  const model = fields['model']?.trim();
  if (!model) throw badRequest('missing_model', 'the `model` field is required (GET /v1/models lists them)', 'model');
  const format = (fields['response_format']?.trim() || 'json') as ResponseFormat;
  if (!RESPONSE_FORMATS.includes(format))
    throw badRequest(
      'invalid_response_format',
      `response_format ${JSON.stringify(format)} is not one of ${RESPONSE_FORMATS.join(', ')}`,
      'response_format',
    );
  const streamField = fields['stream']?.trim().toLowerCase();
  if (streamField !== undefined && !['true', 'false', '1', '0', ''].includes(streamField))
    throw badRequest('invalid_stream', 'stream must be true or false', 'stream');
  const stream = streamField === 'true' || streamField === '1';
  if (stream && format !== 'json' && format !== 'text')
    throw badRequest(
      'unsupported_stream_format',
      `stream=true gives transcript.text.delta events; use response_format json or text with it, not ${format}`,
      'stream',
    );
  const req: Request = { model, format, stream };
  const language = fields['language']?.trim();
  if (language) {
    const name = languageName(language);
    if (!name)
      throw badRequest('invalid_language', `language ${JSON.stringify(language)} is not an ISO-639-1 code`, 'language');
    req.language = name;
  }
  const temperature = fields['temperature']?.trim();
  if (temperature) {
    const t = Number(temperature);
    if (!Number.isFinite(t) || t < 0 || t > 2)
      throw badRequest(
        'invalid_temperature',
        'temperature must be a number from 0 to 2 (decoding here is greedy)',
        'temperature',
      );
  }
  const cap = fields['max_new_tokens']?.trim();
  if (cap) {
    const n = Number(cap);
    if (!Number.isInteger(n) || n < 1 || n > MAX_NEW_TOKENS_LIMIT)
      throw badRequest(
        'invalid_max_new_tokens',
        `max_new_tokens must be an integer from 1 to ${MAX_NEW_TOKENS_LIMIT}`,
        'max_new_tokens',
      );
    req.maxNewTokens = n;
  }
  const guard = fields['repetition_guard']?.trim().toLowerCase();
  if (guard) {
    if (!['true', 'false', '1', '0'].includes(guard))
      throw badRequest('invalid_repetition_guard', 'repetition_guard must be true or false', 'repetition_guard');
    req.repetitionGuard = guard === 'true' || guard === '1';
  }
  // Without the guard a looping window decodes to its cap: held to the cap a full window has by default, it costs no
  // more than an ordinary transcription can.
  if (req.repetitionGuard === false && (req.maxNewTokens ?? 0) > UNGUARDED_MAX_NEW_TOKENS)
    throw badRequest(
      'invalid_max_new_tokens',
      `with repetition_guard=false, max_new_tokens may be at most ${UNGUARDED_MAX_NEW_TOKENS}`,
      'max_new_tokens',
    );
  return req;
}

function audioError(err: AudioFileError): ApiError {
  switch (err.code) {
    case 'too_long':
      return new ApiError(413, 'invalid_request_error', 'audio_too_long', err.message, 'file');
    case 'ffmpeg_missing':
      return new ApiError(500, 'server_error', 'ffmpeg_missing', err.message, 'file');
    case 'empty_file':
    case 'invalid_wav':
    case 'no_audio':
    case 'unsupported_format':
    case 'decode_timeout':
      return badRequest(err.code, err.message, 'file');
    default:
      return badRequest('not_audio', err.message, 'file');
  }
}

/** Generated ids without the EOS that ended the window. */
const windowTokens = (w: WindowResult) => (w.stopReason === 'eos' ? w.tokenIds.slice(0, -1) : w.tokenIds);

function compressionRatio(text: string): number {
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length ? bytes.length / deflateSync(bytes).length : 0;
}

function verbose(t: Transcript, language: string | undefined): TranscriptionVerbose {
  const segments: VerboseSegment[] = t.windows.map((w) => ({
    id: w.index,
    seek: Math.round(w.startSec * 100),
    start: w.startSec,
    end: w.endSec,
    text: w.text,
    tokens: windowTokens(w),
    temperature: 0,
    avg_logprob: 0,
    compression_ratio: compressionRatio(w.text),
    no_speech_prob: 0,
  }));
  return {
    task: 'transcribe',
    language: language ?? detectLanguage(t.text),
    duration: t.audioSec,
    text: t.text,
    segments,
    usage: usage(t.audioSec),
  };
}

const usage = (seconds: number) => ({ type: 'duration' as const, seconds: Math.ceil(seconds) });

/**
 * The transcript so far as stream deltas: each call gives the new suffix of the current window's text (with the
 * separator the pipeline puts between windows before its first piece), or '' when the window's text is not an
 * extension of what was sent for it (held back; `transcript.text.done` carries the exact text).  A window that
 * diverged does not stop the next windows' deltas.
 */
export class DeltaTracker {
  /** Everything sent so far. */
  private sent = '';
  /** The current window's text as sent. */
  private windowSent = '';
  next(current: string): string {
    if (!current.startsWith(this.windowSent) || current.length === this.windowSent.length) return '';
    let delta = current.slice(this.windowSent.length);
    if (!this.windowSent) {
      const joined = joinWindowTexts([this.sent, current]);
      delta = joined.slice(this.sent.length, joined.length - current.length) + delta;
    }
    this.windowSent = current;
    this.sent += delta;
    return delta;
  }
  endWindow(text: string): string {
    const delta = this.next(text);
    this.windowSent = '';
    return delta;
  }
}

export interface TranscriptionDeps {
  models: ModelRegistry;
  queue: JobQueue;
  limits: TranscriptionLimits;
  /** Headers every API response carries (CORS). */
  headers: Record<string, string>;
}

export async function handleTranscription(req: IncomingMessage, res: ServerResponse, deps: TranscriptionDeps) {
  // Refuse before reading an upload that could not even wait; the place is held until the job is queued.
  const reservation = deps.queue.reserve(req.socket.remoteAddress);
  try {
    await transcribe(req, res, deps, reservation);
  } finally {
    reservation();
  }
}

async function transcribe(req: IncomingMessage, res: ServerResponse, deps: TranscriptionDeps, reservation: () => void) {
  const { models, queue, limits, headers } = deps;
  const form = await parseTranscriptionForm(req, {
    maxFileBytes: limits.maxUploadBytes,
    idleMs: limits.bodyIdleMs,
    ...(limits.minUploadBytesPerSec !== undefined ? { minBytesPerSec: limits.minUploadBytesPerSec } : {}),
  });
  const fields = parseFields(form.fields);
  const { entry, variant } = await models.resolve(fields.model);
  models.checkCapacity(entry, variant);
  const label = form.file.filename;
  // Held here only (the suspended request keeps `form` alive), and dropped once decoded: a running job holds its
  // samples, not its upload too.
  let upload: Buffer | null = form.file.data;
  form.file.data = Buffer.alloc(0);
  if (upload.length === 0) throw audioError(new AudioFileError(`${label}: the file is empty`, 'empty_file'));

  // A model not loaded yet loads inside the queue (one load per job slot, never a burst of them).
  const loadPipeline = async () => {
    try {
      return await models.pipeline(entry, variant);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      // The loader's message names files on the server: it goes to the log, the client gets the model id.
      console.error(`cannot load ${entry.id}@${variant}:`, err);
      throw new ApiError(
        500,
        'server_error',
        'model_load_failed',
        `the server cannot load ${entry.id}@${variant} (its log says why)`,
        'model',
      );
    }
  };

  // The client going away (socket closed before the answer was written) cancels the job.
  const abort = new AbortController();
  const gone = () => {
    if (!res.writableFinished) abort.abort(new ApiError(499, 'invalid_request_error', 'client_closed', 'client gone'));
  };
  res.on('close', gone);
  if (res.destroyed || req.socket.destroyed) gone(); // left while its upload was being read
  const signal = abort.signal;
  const opts = {
    ...(fields.maxNewTokens ? { maxNewTokens: fields.maxNewTokens } : {}),
    ...(fields.repetitionGuard === false ? { repetitionGuard: false } : {}),
  };

  const decode = async (): Promise<Float32Array> => {
    const bytes = upload as Buffer;
    upload = null;
    let pcm: Float32Array;
    try {
      pcm = await decodeAudioFile(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), label, {
        maxSeconds: limits.maxAudioSec,
        signal,
        timeoutMs: limits.decodeTimeoutMs ?? DEFAULT_DECODE_TIMEOUT_MS,
      });
    } catch (err) {
      if (err instanceof AudioFileError) throw audioError(err);
      throw err;
    }
    if (peak(pcm) === 0) throw badRequest('silent_audio', `${label}: the file is silent (every sample is 0)`, 'file');
    return pcm;
  };

  await queue.run(
    async () => {
      signal.throwIfAborted();
      const pcm = await decode();
      const pipeline = await loadPipeline();
      signal.throwIfAborted();
      if (!fields.stream) {
        let t: Transcript;
        try {
          t = await pipeline.transcribe(pcm, { ...opts, signal });
        } catch (err) {
          throw pipelineError(err);
        }
        respond(res, fields, t, headers);
        return;
      }
      res.writeHead(200, {
        ...headers,
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache',
        'X-Accel-Buffering': 'no',
      });
      res.flushHeaders();
      const send = (e: StreamEvent | { error: unknown }) => res.write(`data: ${JSON.stringify(e)}\n\n`);
      const deltas = new DeltaTracker();
      try {
        const t = await pipeline.transcribe(pcm, {
          ...opts,
          signal,
          onEvent: (e) => {
            let delta = '';
            if (e.type === 'token') delta = deltas.next(e.text);
            else if (e.type === 'window-end') delta = deltas.endWindow(e.result.text);
            if (delta) send({ type: 'transcript.text.delta', delta });
          },
        });
        send({ type: 'transcript.text.done', text: t.text, usage: usage(t.audioSec) });
      } catch (err) {
        if (!signal.aborted) send(pipelineError(err).body);
      }
      res.end();
    },
    signal,
    reservation,
  );
}

function pipelineError(err: unknown): ApiError {
  if (err instanceof PipelineError && err.code === 'BAD_AUDIO') return badRequest('bad_audio', err.message, 'file');
  if (err instanceof ApiError) return err;
  return new ApiError(500, 'server_error', 'transcription_failed', err instanceof Error ? err.message : String(err));
}

function respond(res: ServerResponse, fields: Request, t: Transcript, headers: Record<string, string>): void {
  const segments = segmentsOf(t.windows);
  let body: string;
  let type: string;
  switch (fields.format) {
    case 'json':
      body = JSON.stringify({ text: t.text, usage: usage(t.audioSec) } satisfies TranscriptionJson);
      type = 'application/json; charset=utf-8';
      break;
    case 'verbose_json':
      body = JSON.stringify(verbose(t, fields.language));
      type = 'application/json; charset=utf-8';
      break;
    case 'text':
      body = formatTranscript(segments, 'txt');
      type = 'text/plain; charset=utf-8';
      break;
    case 'srt':
      body = formatTranscript(segments, 'srt');
      type = 'text/plain; charset=utf-8';
      break;
    case 'vtt':
      body = formatTranscript(segments, 'vtt');
      type = 'text/vtt; charset=utf-8';
      break;
  }
  res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}
