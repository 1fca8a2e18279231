/**
 * Transcript segments → subtitles (SRT, WebVTT) and plain text.  Isomorphic (no DOM, no Node APIs): the server uses
 * it for `response_format=srt|vtt|text`, the app and the CLI through export.ts.
 *
 * A segment longer than one cue is split: first after punctuation, then at spaces, CJK text between any two
 * characters, into cues of at most `maxCueSec` seconds and `maxLines` lines of at most `maxLineChars` characters.
 * Cue times are interpolated by character count within the segment (the model gives no word times).
 */
import { joinWindowTexts } from './join.ts';

export interface Segment {
  /** Seconds. */
  start: number;
  end: number;
  text: string;
}

export interface Cue {
  start: number;
  end: number;
  /** 1 to `maxLines` lines. */
  lines: string[];
}

export interface CueLimits {
  maxCueSec: number;
  maxLines: number;
  maxLineChars: number;
}

export const DEFAULT_CUE_LIMITS: CueLimits = { maxCueSec: 7, maxLines: 2, maxLineChars: 42 };

const CJK_CHAR = /[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]/u;
/** A unit ending with one of these ends a clause (the preferred place to start a new cue). */
const CLAUSE_END = /[.,!?;:…\u3001\u3002\uff0c\uff01\uff1f\uff1b\uff1a]["'\u201d\u2019)\]\u300d\u300f]*$/u;

/** A piece of text that is never split, with what joins it to the previous one (' ' or ''). */
interface Unit {
  text: string;
  sep: string;
}

/** Words at whitespace; CJK characters one by one; a word longer than `maxPiece` in pieces of that size. */
function units(text: string, maxPiece: number): Unit[] {
  const out: Unit[] = [];
  for (const word of text.split(/\s+/u).filter(Boolean)) {
    let sep = out.length ? ' ' : '';
    let run = '';
    const flush = () => {
      for (let i = 0; i < run.length; i += maxPiece) {
        out.push({ text: run.slice(i, i + maxPiece), sep });
        sep = '';
      }
      run = '';
    };
    for (const ch of word) {
      if (CJK_CHAR.test(ch)) {
        flush();
        out.push({ text: ch, sep });
        sep = '';
      } else {
        run += ch;
      }
    }
    flush();
  }
  return out;
}

/** Greedy line fill; null when the units need more than `maxLines` lines. */
function wrap(us: readonly Unit[], limits: CueLimits): string[] | null {
  const lines: string[] = [];
  let line = '';
  for (const u of us) {
    if (line && line.length + u.sep.length + u.text.length > limits.maxLineChars) {
      lines.push(line);
      line = u.text;
    } else {
      line += (line ? u.sep : '') + u.text;
    }
  }
  if (line) lines.push(line);
  return lines.length <= limits.maxLines ? lines : null;
}

const charCount = (us: readonly Unit[]) => us.reduce((n, u, i) => n + (i ? u.sep.length : 0) + u.text.length, 0);

/** One segment's units grouped into cues (each fits the line limits and at most `maxChars` characters). */
function group(us: readonly Unit[], maxChars: number, limits: CueLimits): Unit[][] {
  const fits = (c: readonly Unit[]) => c.length <= 1 || (charCount(c) <= maxChars && wrap(c, limits) !== null);
  // Clauses: runs of units ending after punctuation.
  const clauses: Unit[][] = [];
  let clause: Unit[] = [];
  for (const u of us) {
    clause.push(u);
    if (CLAUSE_END.test(u.text)) {
      clauses.push(clause);
      clause = [];
    }
  }
  if (clause.length) clauses.push(clause);

  const cues: Unit[][] = [];
  let cur: Unit[] = [];
  for (const c of clauses) {
    if (fits([...cur, ...c])) {
      cur.push(...c);
      continue;
    }
    if (cur.length) cues.push(cur);
    cur = [];
    for (const u of c) {
      if (fits([...cur, u])) cur.push(u);
      else {
        cues.push(cur);
        cur = [u];
      }
    }
  }
  if (cur.length) cues.push(cur);
  return cues;
}

/** Segments → cues within `limits`, timed by character position inside each segment. */
export function toCues(segments: readonly Segment[], limits: CueLimits = DEFAULT_CUE_LIMITS): Cue[] {
  const out: Cue[] = [];
  for (const seg of segments) {
    const total = charCount(units(seg.text, limits.maxLineChars));
    if (!total) continue;
    const duration = Math.max(0, seg.end - seg.start);
    const maxChars =
      duration > limits.maxCueSec ? Math.max(1, Math.floor((limits.maxCueSec * total) / duration)) : total;
    // Slow text: a word may itself last longer than `maxCueSec`, so pieces are at most `maxChars` long too.
    const us = units(seg.text, Math.min(limits.maxLineChars, maxChars));
    let pos = 0;
    for (const [i, cue] of group(us, maxChars, limits).entries()) {
      const sep = i ? (cue[0]?.sep.length ?? 0) : 0;
      const from = pos + sep;
      const to = from + charCount(cue);
      pos = to;
      const start = seg.start + (duration * from) / total;
      out.push({
        start,
        // One character over more than maxCueSec (a long pause) is shown for maxCueSec.
        end: Math.min(seg.start + (duration * to) / total, start + limits.maxCueSec),
        lines: wrap(cue, { ...limits, maxLines: Number.POSITIVE_INFINITY }) ?? [],
      });
    }
  }
  return out;
}

/** `HH:MM:SS` + `sep` + `mmm`. */
function timestamp(sec: number, sep: ',' | '.'): string {
  const ms = Math.max(0, Math.round(sec * 1000));
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}${sep}${pad(ms % 1000, 3)}`;
}

/** SubRip: numbered cues, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, LF line ends. */
export function toSrt(segments: readonly Segment[], limits: CueLimits = DEFAULT_CUE_LIMITS): string {
  return toCues(segments, limits)
    .map((c, i) => `${i + 1}\n${timestamp(c.start, ',')} --> ${timestamp(c.end, ',')}\n${c.lines.join('\n')}\n`)
    .join('\n');
}

const escapeVtt = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** WebVTT: the `WEBVTT` header, `HH:MM:SS.mmm --> HH:MM:SS.mmm`, cue text escaped (&, <, >). */
export function toVtt(segments: readonly Segment[], limits: CueLimits = DEFAULT_CUE_LIMITS): string {
  const cues = toCues(segments, limits).map(
    (c) => `${timestamp(c.start, '.')} --> ${timestamp(c.end, '.')}\n${c.lines.map(escapeVtt).join('\n')}\n`,
  );
  return ['WEBVTT\n', ...cues].join('\n');
}

/** The segments' texts joined as the pipeline joins windows (a space, none next to CJK). */
export function toText(segments: readonly Segment[]): string {
  return joinWindowTexts(segments.map((s) => s.text.trim()));
}
