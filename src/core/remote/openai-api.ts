/**
 * OpenAI's audio transcription API as this project speaks it: the shapes the server (server/api/) answers with and
 * the app's server client (src/core/remote/remote-transcriber.ts) reads, from any OpenAI-compatible server (ours,
 * vLLM, SGLang, llama.cpp's server).  Types and constants only; isomorphic.
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
  /** This server's extension (OpenAI clients ignore it): what the app's model card offers. */
  glmasr?: ServedModelInfo;
}
export interface ModelList {
  object: 'list';
  data: ModelObject[];
  /** This server's extension: a model being prepared on first start (server/first-run.ts), or why none is. */
  preparing?: PreparingStatus;
}

/** A converted model as this server serves it (from its manifest.json). */
export interface ServedModelInfo {
  /** manifest.json's model_id (e.g. 'glm-asr-nano-2512'). */
  model_id: string;
  /** manifest.json's revision (a digest of the checkpoint it was converted from). */
  revision: string;
  /** Where the app downloads it: this server's `/models/<id>/` (Range requests, sha256 per file in the manifest). */
  url: string;
  /** Download size in bytes per variant the directory has. */
  variants: Record<string, number>;
  /** Set on `id@variant` entries. */
  variant?: string;
  /** The checkpoint it came from, as the converter recorded it. */
  source?: { hub_id: string; revision: string } | { path: string };
}

/**
 * The first start's model preparation, as `GET /v1/models` and `/models/index.json` report it while no model is
 * served.  Absent with models listed: a model is ready.  `checking` / `downloading` / `converting`: one is being
 * prepared (poll; progress and eta when known).  `unavailable` (hub unreachable, too little disk), `failed` (the
 * conversion stopped; a restart resumes it), `skipped` (`--no-convert`): none is coming until the operator acts, so
 * the app offers no download from this server.  `source` and `command` carry paths as a visitor may see them
 * (relative to the project, `~/…`, or `…/name`); `command` is absent when the server requires an API key.
 */
export interface PreparingStatus {
  /**
   * checking: probing the source; downloading/converting: under way; failed: stopped with an error (a restart
   * resumes); unavailable: cannot start (hub unreachable, too little disk); skipped: `--no-convert`.
   */
  state: 'checking' | 'downloading' | 'converting' | 'failed' | 'unavailable' | 'skipped';
  /** Checkpoint directory or hub id (with @revision when pinned). */
  source: string;
  /** The model directory's id once ready. */
  id: string;
  /** One human sentence: what is happening or what went wrong. */
  message: string;
  /** 0..1 when known. */
  progress: number | null;
  eta_seconds: number | null;
  /** The command that does it by hand (absent where the server requires a key: visitors are not its operators). */
  command?: string;
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
