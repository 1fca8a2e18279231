/**
 * The transcript document: what the library stores for every recording and transcribed file, and what *Save JSON*
 * and `npm run transcribe -- --format json` write (the document as stored).  Its JSON Schema is
 * `transcript.schema.json` beside this file; the README documents the fields.  Isomorphic and import-free (the UI,
 * the worker and the CLI build documents with the same functions).
 */

export const DOCUMENT_SCHEMA = 'glm-asr-web/transcript@1';

export interface DocumentSegment {
  /** Seconds from the start of the audio. */
  start: number;
  end: number;
  text: string;
  /** Always true as stored: partial text is never kept. */
  final: boolean;
  /** Where it was decoded: 'webgpu', 'wasm', 'server' (app), 'cpu' (Node), null if unknown. */
  engine: string | null;
}

/**
 * 'recording': audio is being captured (an unfinished one after a reload or a crash);
 * 'transcribing': the audio is complete and its text is being made;
 * 'untranscribed': kept without text (no model was ready), to transcribe later;
 * 'done'; 'failed': the transcription stopped with `error`.
 */
export type DocumentStatus = 'recording' | 'transcribing' | 'untranscribed' | 'done' | 'failed';

export interface DocumentAudio {
  /** The kept audio is 16 kHz mono float32, in records of one second (the last may be shorter). */
  sampleRate: 16000;
  samples: number;
  chunks: number;
  /** Every captured sample was stored. */
  complete: boolean;
  /** Why storing stopped early (a full disk): what was written before is kept. */
  error: string | null;
}

export interface TranscriptDocument {
  schema: typeof DOCUMENT_SCHEMA;
  id: string;
  kind: 'recording' | 'file';
  /** The first words of the text, or what the user named it (`titleEdited`); '' before there is text. */
  title: string;
  titleEdited: boolean;
  /** ISO 8601 times. */
  createdAt: string;
  updatedAt: string;
  durationSec: number;
  /** The spoken language when known (an ISO 639-1 code); null: the model detected it and does not report it. */
  language: string | null;
  model: { id: string; revision: string; variant: string | null } | null;
  status: DocumentStatus;
  error: string | null;
  /** A transcribed file's name. */
  source: { fileName: string } | null;
  audio: DocumentAudio;
  segments: DocumentSegment[];
}

/** A recording's id, which is also its library document's id: `rec-` and the time Record was pressed (ms). */
export const recordingDocId = (startedAt: number) => `rec-${startedAt}`;

/** When a recording started, from its document's id (null for a file's document). */
export function recordingStartOf(docId: string): number | null {
  const startedAt = /^rec-(\d+)$/.exec(docId)?.[1];
  return startedAt === undefined ? null : Number(startedAt);
}

const TITLE_WORDS = 8;
const TITLE_CHARS = 60;

/** The first words of `text`, for a title (at most 8 words or 60 characters, with an ellipsis if cut). */
export function titleFrom(text: string): string {
  const words = text.trim().split(/\s+/).filter(Boolean);
  let title = words.slice(0, TITLE_WORDS).join(' ');
  if (title.length > TITLE_CHARS) title = title.slice(0, TITLE_CHARS).replace(/\s+\S*$/, '');
  return title.length < words.join(' ').length ? `${title.replace(/[,;:.!?]+$/, '')}…` : title;
}

/** The document's text: its segments' text joined by spaces. */
export function documentText(doc: Pick<TranscriptDocument, 'segments'>): string {
  return doc.segments
    .map((s) => s.text.trim())
    .filter(Boolean)
    .join(' ');
}

export function newDocument(init: {
  id: string;
  kind: TranscriptDocument['kind'];
  createdAt: Date;
  model: TranscriptDocument['model'];
  status: DocumentStatus;
  fileName?: string;
  language?: string | null;
}): TranscriptDocument {
  const at = init.createdAt.toISOString();
  return {
    schema: DOCUMENT_SCHEMA,
    id: init.id,
    kind: init.kind,
    title: '',
    titleEdited: false,
    createdAt: at,
    updatedAt: at,
    durationSec: 0,
    language: init.language ?? null,
    model: init.model,
    status: init.status,
    error: null,
    source: init.fileName === undefined ? null : { fileName: init.fileName },
    audio: { sampleRate: 16000, samples: 0, chunks: 0, complete: false, error: null },
    segments: [],
  };
}

/** A whole transcription's windows (≤ 30 s each) as the document's segments. */
export function windowSegments(
  windows: readonly { startSec: number; endSec: number; text: string; engine?: string }[],
): DocumentSegment[] {
  return windows.map((w) => ({
    start: w.startSec,
    end: w.endSec,
    text: w.text,
    final: true,
    engine: w.engine ?? null,
  }));
}

/** Replace the document's segments (a whole transcription) and its title unless the user named it. */
export function withSegments(doc: TranscriptDocument, segments: DocumentSegment[]): TranscriptDocument {
  const next = { ...doc, segments };
  if (!doc.titleEdited) next.title = titleFrom(documentText(next));
  return next;
}

/** The document as *Save JSON* and the CLI's `--format json` write it: two-space JSON with a final newline. */
export function formatDocument(doc: TranscriptDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}
