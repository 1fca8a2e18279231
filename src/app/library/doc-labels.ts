/**
 * What a kept document is called and how its state and date read, the same in the library's list, its notices and
 * the open transcript.
 */
import type { TranscriptDocument } from '../../core/format/document.ts';

const STATUS_TEXT: Record<TranscriptDocument['status'], string> = {
  recording: 'recording',
  transcribing: 'transcribing',
  untranscribed: 'not transcribed yet',
  done: '',
  failed: 'transcription failed',
};

/** What the list and the open view say about a document's state ('' when it is done). */
export function statusText(doc: TranscriptDocument): string {
  if (doc.status === 'failed' && doc.error?.startsWith('CANCELLED')) return 'transcription cancelled';
  return STATUS_TEXT[doc.status];
}

/** When a document was made, as the library shows it (medium date, short time, the user's locale). */
export function createdText(doc: TranscriptDocument): string {
  return new Date(doc.createdAt).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A document's display name: its title, else what it is and when. */
export function displayTitle(doc: TranscriptDocument): string {
  if (doc.title) return doc.title;
  if (doc.source) return doc.source.fileName;
  return `Recording, ${createdText(doc)}`;
}
