/**
 * Whisper's language-independent text normalizer (`whisper/normalizers/basic.py` of openai-whisper 20250625, MIT
 * License, Copyright (c) 2022 OpenAI), rewritten in TypeScript with the same output, plus the small Python
 * compatibility layer english.ts shares: Python 3 `re` semantics (Unicode `\s`, `\d`, `\w`, `\b`; `.` and `$`) and
 * `str.split()`.  Checked against the Python package in tests/unit/normalizer.test.ts.
 *
 * Python and JavaScript agree on `str.lower()`/`toLowerCase()` and on NFKC/NFKD for every character Python's
 * Unicode database knows; characters newer than that database (Python 3.11: Unicode 14) are the one place where the
 * two can differ (Python sees them as unassigned, category Cn).
 */

/** Python's whitespace (`str.isspace()`, `re`'s `\s`, `str.split()`), as the inside of a character class. */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** Python's word characters (`str.isalnum()` or `_`): letters and numbers of any script, not marks. */
const PY_WORD = '\\p{L}\\p{N}_';
const PY_BOUNDARY = `(?:(?<=[${PY_WORD}])(?![${PY_WORD}])|(?<![${PY_WORD}])(?=[${PY_WORD}]))`;

/**
 * A JavaScript RegExp (`u` flag added) that matches what the Python 3 `re` pattern `source` matches on a str:
 * `\s`, `\d`, `\w` and `\b` take their Unicode meaning, `.` stops only at `\n` and `$` also matches before a final
 * `\n`.  Enough of Python's syntax for the normalizers' patterns (no inline flags, named groups or `\A`/`\Z`).
 */
export function pyRegex(source: string, flags = ''): RegExp {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const e = source[++i] ?? '';
      if (e === 's') out += inClass ? PY_SPACE : `[${PY_SPACE}]`;
      else if (e === 'd') out += '\\p{Nd}';
      else if (e === 'w') out += inClass ? PY_WORD : `[${PY_WORD}]`;
      else if (e === 'b' && !inClass) out += PY_BOUNDARY;
      else out += c + e;
    } else if (inClass) {
      if (c === ']') inClass = false;
      out += c;
    } else if (c === '[') {
      inClass = true;
      out += c;
      if (source[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (source[i + 1] === ']') {
        out += '\\]'; // a leading ']' is literal in Python
        i++;
      }
    } else if (c === '.') {
      out += '[^\\n]';
    } else if (c === '$') {
      out += '(?=\\n?$)';
    } else {
      out += c;
    }
  }
  return new RegExp(out, flags.includes('u') ? flags : flags + 'u');
}

/** A `re.sub` replacement: a template with `\1`..`\9` (unmatched groups give ''), or a function of the match. */
export type PyReplacement = string | ((groups: (string | undefined)[]) => string);

/** Python's `re.sub(pattern, repl, s)` for a pattern made by `pyRegex(..., 'g')`. */
export function pySub(pattern: RegExp, repl: PyReplacement, s: string): string {
  return s.replace(pattern, (...args: unknown[]) => {
    // args: the match, the groups, the offset, the input (and named groups, which the patterns do not use).
    const offsetAt = args.findIndex((a) => typeof a === 'number');
    const groups = args.slice(0, offsetAt) as (string | undefined)[];
    if (typeof repl === 'function') return repl(groups);
    return repl.replace(/\\([1-9])/g, (_, n: string) => groups[Number(n)] ?? '');
  });
}

const PY_SPACE_RUN = new RegExp(`[${PY_SPACE}]+`, 'u');

/** Python's `str.split()`: split on runs of whitespace, no empty strings. */
export function pySplit(s: string): string[] {
  return s.split(PY_SPACE_RUN).filter((w) => w.length > 0);
}

/** Letters NFKD does not separate from their diacritic, mapped by hand. */
const ADDITIONAL_DIACRITICS: ReadonlyMap<string, string> = new Map([
  ['œ', 'oe'],
  ['Œ', 'OE'],
  ['ø', 'o'],
  ['Ø', 'O'],
  ['æ', 'ae'],
  ['Æ', 'AE'],
  ['ß', 'ss'],
  ['ẞ', 'SS'],
  ['đ', 'd'],
  ['Đ', 'D'],
  ['ð', 'd'],
  ['Ð', 'D'],
  ['þ', 'th'],
  ['Þ', 'th'],
  ['ł', 'l'],
  ['Ł', 'L'],
]);

const NONSPACING_MARK = /^\p{Mn}$/u;
const MARK_SYMBOL_PUNCTUATION = /^[\p{M}\p{S}\p{P}]$/u;

/**
 * After NFKD: characters in `keep` stay, the letters above are spelled out, non-spacing marks (the separated
 * diacritics) are dropped and any other mark, symbol or punctuation becomes a space.
 */
export function removeSymbolsAndDiacritics(s: string, keep = ''): string {
  let out = '';
  for (const c of s.normalize('NFKD')) {
    if (keep.includes(c)) out += c;
    else if (ADDITIONAL_DIACRITICS.has(c)) out += ADDITIONAL_DIACRITICS.get(c)!;
    else if (NONSPACING_MARK.test(c)) continue;
    else out += MARK_SYMBOL_PUNCTUATION.test(c) ? ' ' : c;
  }
  return out;
}

/** After NFKC, every mark, symbol and punctuation character becomes a space; diacritics stay. */
export function removeSymbols(s: string): string {
  let out = '';
  for (const c of s.normalize('NFKC')) out += MARK_SYMBOL_PUNCTUATION.test(c) ? ' ' : c;
  return out;
}

/** `[...]`/`<...>` spans and non-empty `(...)` spans, as Whisper drops them (annotations, not speech). */
export const BRACKETS = pyRegex(String.raw`[<\[][^>\]]*[>\]]`, 'g');
export const PARENTHESES = pyRegex(String.raw`\(([^)]+?)\)`, 'g');
const WHITESPACE_RUN = pyRegex(String.raw`\s+`, 'g');

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

export interface BasicTextNormalizerOptions {
  /** Drop diacritics too (`removeSymbolsAndDiacritics`), rather than only symbols (`removeSymbols`). */
  removeDiacritics?: boolean;
  /** Space out grapheme clusters (the `regex` module's `\X`; here `Intl.Segmenter`). */
  splitLetters?: boolean;
}

/** Whisper's `BasicTextNormalizer`: lower case, no bracketed spans, symbols to spaces, whitespace runs to one space. */
export class BasicTextNormalizer {
  private readonly clean: (s: string) => string;
  private readonly splitLetters: boolean;

  constructor({ removeDiacritics = false, splitLetters = false }: BasicTextNormalizerOptions = {}) {
    this.clean = removeDiacritics ? (s) => removeSymbolsAndDiacritics(s) : removeSymbols;
    this.splitLetters = splitLetters;
  }

  normalize(text: string): string {
    let s = text.toLowerCase();
    s = pySub(BRACKETS, '', s);
    s = pySub(PARENTHESES, '', s);
    s = this.clean(s).toLowerCase();
    if (this.splitLetters) s = Array.from(graphemes.segment(s), (g) => g.segment).join(' ');
    return pySub(WHITESPACE_RUN, ' ', s);
  }
}

const basic = new BasicTextNormalizer();

/** `BasicTextNormalizer()(text)`: Whisper's normalization for languages other than English. */
export function normalizeBasic(text: string): string {
  return basic.normalize(text);
}
