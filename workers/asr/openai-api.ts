/**
 * OpenAI's audio transcription API as this project speaks it: the shapes the server (server/api/) answers with and
 * the app's fallback client (workers/asr/remote-engine.ts) reads, from any OpenAI-compatible server (ours, vLLM,
 * SGLang, llama.cpp's server).  Types and constants only; isomorphic.
 *
 *   POST {base}/audio/transcriptions   multipart/form-data: file, model, response_format, stream, language, prompt,
 *                                      temperature
 *   GET  {base}/models                 { object: 'list', data: ModelObject[] }
 *
 * `base` is the API root including `/v1` (e.g. `http://127.0.0.1:8080/v1`), as in the official clients' `baseURL`.
 */

export const RESPONSE_FORMATS = ['json', 'text', 'srt', 'vtt', 'verbose_json'] as const;
export type ResponseFormat = (typeof RESPONSE_FORMATS)[number];

/** The multipart fields of a transcription request (OpenAI's names). */
export interface TranscriptionRequestFields {
  model: string;
  response_format?: ResponseFormat;
  /** 'true' → server-sent events (StreamEvent), one `transcript.text.delta` per decoded token. */
  stream?: boolean;
  /** ISO-639-1 hint; GLM-ASR detects the language itself (see README: what each field does here). */
  language?: string;
  prompt?: string;
  temperature?: number;
}

/** `response_format=json` (the default). */
export interface TranscriptionJson {
  text: string;
  usage: { type: 'duration'; seconds: number };
}

/** One segment of `verbose_json`: here one ≤ 30 s window of the pipeline. */
export interface VerboseSegment {
  id: number;
  seek: number;
  start: number;
  end: number;
  text: string;
  /** Generated token ids of the window (EOS excluded). */
  tokens: number[];
  temperature: number;
  avg_logprob: number;
  compression_ratio: number;
  no_speech_prob: number;
}

/** `response_format=verbose_json`. */
export interface TranscriptionVerbose {
  task: 'transcribe';
  language: string;
  duration: number;
  text: string;
  segments: VerboseSegment[];
  usage: { type: 'duration'; seconds: number };
}

/** `stream=true`: each event is sent as one `data: <json>\n\n` server-sent event. */
export type StreamEvent =
  | { type: 'transcript.text.delta'; delta: string }
  | { type: 'transcript.text.done'; text: string; usage: { type: 'duration'; seconds: number } };

/** `GET /v1/models` entries. */
export interface ModelObject {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}
export interface ModelList {
  object: 'list';
  data: ModelObject[];
}

/** Every error body: OpenAI's shape. */
export interface ApiErrorBody {
  error: {
    message: string;
    type: 'invalid_request_error' | 'authentication_error' | 'rate_limit_error' | 'server_error' | 'not_found_error';
    /** A stable machine-readable code (e.g. 'file_too_large', 'audio_too_long', 'queue_full', 'not_audio'). */
    code: string | null;
    param: string | null;
  };
}
