/**
 * WER and CER: the alignment and counts jiwer reports (jiwer 4 via rapidfuzz's Levenshtein opcodes), including its
 * choice among equally short alignments, so substitutions/deletions/insertions match it and not just the error rate.
 * Checked against jiwer itself in tests/unit/score.test.ts.
 */
import { normalizeBasic, pySplit } from './normalize/basic.ts';
import { normalizeEnglish } from './normalize/english.ts';
import type { EditCounts, ScoreUnit, UtteranceScore } from './types.ts';

/**
 * Levenshtein alignment counts of `hyp` against `ref`.  rapidfuzz strips the common prefix and suffix, fills the
 * distance matrix and walks back from the end preferring, in order: a deletion (a reference token missing), an
 * insertion (an extra hypothesis token) when the column above allows it, else the diagonal (hit or substitution).
 */
export function alignCounts(ref: readonly string[], hyp: readonly string[]): EditCounts {
  let prefix = 0;
  while (prefix < ref.length && prefix < hyp.length && ref[prefix] === hyp[prefix]) prefix++;
  let suffix = 0;
  while (
    suffix < ref.length - prefix &&
    suffix < hyp.length - prefix &&
    ref[ref.length - 1 - suffix] === hyp[hyp.length - 1 - suffix]
  )
    suffix++;
  const a = ref.slice(prefix, ref.length - suffix);
  const b = hyp.slice(prefix, hyp.length - suffix);
  const n = a.length;
  const m = b.length;
  const width = m + 1;
  // d[i * width + j]: distance between a[0..i) and b[0..j).
  const d = new Uint32Array((n + 1) * width);
  for (let i = 0; i <= n; i++) d[i * width] = i;
  for (let j = 0; j <= m; j++) d[j] = j;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const diag = d[(i - 1) * width + j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      d[i * width + j] = Math.min(d[(i - 1) * width + j]! + 1, d[i * width + j - 1]! + 1, diag);
    }
  }
  const at = (i: number, j: number) => d[i * width + j]!;
  let substitutions = 0;
  let deletions = 0;
  let insertions = 0;
  let i = n;
  let j = m;
  while (i > 0 && j > 0) {
    if (at(i, j) - at(i - 1, j) === 1) {
      deletions++;
      i--;
      continue;
    }
    j--;
    if (j > 0 && at(i, j) - at(i - 1, j) === -1) {
      insertions++;
      continue;
    }
    i--;
    if (a[i] !== b[j]) substitutions++;
  }
  deletions += i;
  insertions += j;
  return { hits: ref.length - substitutions - deletions, substitutions, deletions, insertions };
}

/** Error rate of summed counts: (S + D + I) / (H + S + D); with an empty reference, the insertions (as jiwer). */
export function errorRate(c: EditCounts): number {
  const reference = c.hits + c.substitutions + c.deletions;
  const errors = c.substitutions + c.deletions + c.insertions;
  return reference === 0 ? c.insertions : errors / reference;
}

export function addCounts<T extends EditCounts>(into: T, c: EditCounts): T {
  into.hits += c.hits;
  into.substitutions += c.substitutions;
  into.deletions += c.deletions;
  into.insertions += c.insertions;
  return into;
}

/** Languages written without spaces between words: scored by characters. */
const CHARACTER_LANGS = new Set(['zh', 'ja', 'ko', 'yue', 'th', 'lo', 'my', 'km']);

export function unitFor(lang: string): ScoreUnit {
  return CHARACTER_LANGS.has(lang.toLowerCase().split(/[-_]/)[0]!) ? 'char' : 'word';
}

// eslint-disable-next-line no-control-regex -- Python's isspace() includes the separators U+001C..U+001F
const NOT_COUNTED = new RegExp('[\\p{P}\\p{S}\\p{Z}\\t-\\r\\u001c-\\u001f\\u0085]', 'gu');

/**
 * Characters for CER: NFKC (full-width letters and digits fold to their usual forms), lower case, then every
 * punctuation mark, symbol and space removed.  Returned as an array of code points.
 */
export function cerCharacters(text: string): string[] {
  // Python's str.isspace() set beyond \p{Z}: \t \n \v \f \r, the separators U+001C..U+001F and U+0085.
  return Array.from(text.normalize('NFKC').toLowerCase().replace(NOT_COUNTED, ''));
}

/** Words for WER: Whisper's EnglishTextNormalizer for English, its BasicTextNormalizer otherwise; split on spaces. */
export function werWords(text: string, lang: string): string[] {
  const normalized = lang.toLowerCase().startsWith('en') ? normalizeEnglish(text) : normalizeBasic(text);
  return pySplit(normalized); // Python's str.split(), as the reference scorers split
}

export function scoreUtterance(lang: string, reference: string, hypothesis: string): UtteranceScore {
  const unit = unitFor(lang);
  const ref = unit === 'char' ? cerCharacters(reference) : werWords(reference, lang);
  const hyp = unit === 'char' ? cerCharacters(hypothesis) : werWords(hypothesis, lang);
  return {
    unit,
    ...alignCounts(ref, hyp),
    reference: ref.join(unit === 'char' ? '' : ' '),
    hypothesis: hyp.join(unit === 'char' ? '' : ' '),
  };
}

/** Token prefix agreement of `hyp` with `ref`, per window (the converter's ort-reference measure): agreeing leading tokens, and the reference's tokens. */
export function prefixAgreement(
  hyp: readonly (readonly number[])[],
  ref: readonly (readonly number[])[],
): { agree: number; total: number } {
  let agree = 0;
  let total = 0;
  ref.forEach((r, w) => {
    const h = hyp[w] ?? [];
    let k = 0;
    while (k < r.length && k < h.length && r[k] === h[k]) k++;
    agree += k;
    total += r.length;
  });
  return { agree, total };
}
