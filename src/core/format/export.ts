/**
 * Transcript exports: plain text, SubRip and WebVTT from timed segments.  One module for the app's *Save as*, the
 * CLI's `--format` and the server's `response_format=text|srt|vtt`, so all three give the same bytes for the same
 * transcription.  Isomorphic and import-light (the UI bundles it).
 */
import { type Segment, toSrt, toText, toVtt } from './subtitles.ts';

export type { Segment };

export type ExportFormat = 'txt' | 'srt' | 'vtt';

export const EXPORT_FORMATS: Readonly<Record<ExportFormat, { extension: string; mime: string; label: string }>> = {
  txt: { extension: 'txt', mime: 'text/plain;charset=utf-8', label: 'Text' },
  srt: { extension: 'srt', mime: 'application/x-subrip;charset=utf-8', label: 'SubRip subtitles (SRT)' },
  vtt: { extension: 'vtt', mime: 'text/vtt;charset=utf-8', label: 'WebVTT subtitles' },
};

export function isExportFormat(value: unknown): value is ExportFormat {
  return value === 'txt' || value === 'srt' || value === 'vtt';
}

/** The windows (files) or VAD segments (dictation) of a transcript as timed segments. */
export function segmentsOf(parts: readonly { startSec: number; endSec: number; text: string }[]): Segment[] {
  return parts.map((p) => ({ start: p.startSec, end: p.endSec, text: p.text }));
}

/** The transcript in `format`: text (segments joined as the pipeline joins windows), SRT or WebVTT cues. */
export function formatTranscript(segments: readonly Segment[], format: ExportFormat): string {
  switch (format) {
    case 'txt':
      return toText(segments);
    case 'srt':
      return toSrt(segments);
    case 'vtt':
      return toVtt(segments);
  }
}
