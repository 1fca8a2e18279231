/**
 * The eval's scorer against jiwer (PyPI): the same hits/substitutions/deletions/insertions, not only the same error
 * rate, on random token pairs (small alphabets make many equally short alignments, so jiwer's choice among them is
 * tested), long pairs, and real transcripts with word-level edits; and whole utterances as `npm run eval` scores them
 * (Whisper's English normalizer, CER for Chinese) against the oracle built from openai-whisper + jiwer.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { alignCounts, errorRate, prefixAgreement, scoreUtterance } from '../../eval/score.ts';
import type { EditCounts } from '../../eval/types.ts';
import { evalOracle } from '../helpers/eval-oracle.ts';
import { SPEECH_DIR, SPEECH_MISSING } from '../helpers/data.ts';
import { resolve } from 'node:path';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomPairs(count: number, maxLen: number, alphabet: number, seed: number) {
  const r = rng(seed);
  const seq = () => Array.from({ length: Math.floor(r() * (maxLen + 1)) }, () => `w${Math.floor(r() * alphabet)}`);
  return Array.from({ length: count }, () => ({ ref: seq(), hyp: seq() }));
}

/** A real reference with word edits: drop, replace, insert, swap neighbours. */
function perturb(words: string[], r: () => number): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const x = r();
    if (x < 0.08) continue;
    if (x < 0.16) out.push(words[Math.floor(r() * words.length)]!);
    else if (x < 0.22) out.push(words[i]!, words[Math.floor(r() * words.length)]!);
    else if (x < 0.26 && i + 1 < words.length) out.push(words[i + 1]!, words[i++]!);
    else out.push(words[i]!);
  }
  return out;
}

function manifestTexts(): { lang: string; text: string }[] {
  return readFileSync(resolve(SPEECH_DIR, 'manifest.tsv'), 'utf8')
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((l) => l.split('\t'))
    .map((c) => ({ lang: c[1]!, text: c[4]! }));
}

function expectSameCounts(pairs: { ref: string[]; hyp: string[] }[], theirs: EditCounts[]) {
  const ours = pairs.map((p) => alignCounts(p.ref, p.hyp));
  const first = ours.findIndex((o, i) => JSON.stringify(o) !== JSON.stringify(theirs[i]));
  expect(first, first >= 0 ? `first difference: ${JSON.stringify(pairs[first])}` : '').toBe(-1);
  expect(ours).toEqual(theirs);
}

describe('alignment counts equal jiwer', () => {
  test('random pairs (2000 short, small alphabets) and 40 long ones (up to 400 tokens)', () => {
    const pairs = [
      ...randomPairs(1000, 12, 3, 1),
      ...randomPairs(1000, 20, 8, 2),
      ...randomPairs(40, 400, 30, 3),
      { ref: [], hyp: [] },
      { ref: ['a'], hyp: [] },
      { ref: [], hyp: ['a', 'b'] },
    ];
    expectSameCounts(pairs, evalOracle<EditCounts[]>(['score', 'counts'], pairs));
  });

  test.skipIf(Boolean(SPEECH_MISSING()))('real transcripts with word edits', () => {
    const r = rng(7);
    const pairs = manifestTexts()
      .filter((t) => t.lang === 'en')
      .flatMap((t) => {
        const words = t.text.toLowerCase().split(/\s+/).filter(Boolean);
        return [0, 1, 2].map(() => ({ ref: words, hyp: perturb(words, r) }));
      });
    expect(pairs.length).toBeGreaterThan(100);
    expectSameCounts(pairs, evalOracle<EditCounts[]>(['score', 'counts'], pairs));
  });
});

describe.skipIf(Boolean(SPEECH_MISSING()))('utterance scores equal openai-whisper + jiwer', () => {
  test('English (Whisper normalizer, WER) and Chinese (CER) with realistic hypothesis errors', () => {
    const r = rng(11);
    const items = manifestTexts().flatMap(({ lang, text }) => {
      const units = lang === 'zh' ? Array.from(text) : text.split(' ');
      const glue = lang === 'zh' ? '' : ' ';
      // Mixed case, punctuation and numbers in the hypotheses (what an ASR model prints).  A sentence already
      // ending in a period gets no second one: Whisper's normalizer keeps a '.' from '..'.
      const styled = (u: string[]) => {
        const t = u
          .join(glue)
          .replace(/\bMISTER\b/g, 'Mr.')
          .replace(/\bTWENTY\b/gi, '20')
          .toLowerCase();
        return /[.!?。]$/u.test(t) ? t : t + (lang === 'zh' ? '。' : '.');
      };
      return [
        { lang, ref: text, hyp: styled(units) },
        { lang, ref: text, hyp: styled(perturb(units, r)) },
      ];
    });
    const theirs = evalOracle<(EditCounts & { unit: string })[]>(['score', 'utterances'], items);
    const ours = items.map((it) => {
      const s = scoreUtterance(it.lang, it.ref, it.hyp);
      return {
        unit: s.unit,
        hits: s.hits,
        substitutions: s.substitutions,
        deletions: s.deletions,
        insertions: s.insertions,
      };
    });
    const first = ours.findIndex((o, i) => JSON.stringify(o) !== JSON.stringify(theirs[i]));
    expect(first, first >= 0 ? `first difference: ${JSON.stringify(items[first])}` : '').toBe(-1);
    // The styled-but-correct hypotheses score zero errors: normalization, not luck.
    expect(ours.filter((_, i) => i % 2 === 0).every((o) => o.substitutions + o.deletions + o.insertions === 0)).toBe(
      true,
    );
  });
});

test('error rate and prefix agreement of known cases', () => {
  // "the cat sat" vs "the bat sat down": 1 substitution + 1 insertion over 3 words.
  const c = alignCounts(['the', 'cat', 'sat'], ['the', 'bat', 'sat', 'down']);
  expect(c).toEqual({ hits: 2, substitutions: 1, deletions: 0, insertions: 1 });
  expect(errorRate(c)).toBeCloseTo(2 / 3, 12);
  expect(errorRate({ hits: 0, substitutions: 0, deletions: 0, insertions: 2 })).toBe(2);
  expect(
    prefixAgreement(
      [
        [1, 2, 3],
        [4, 9],
      ],
      [
        [1, 2, 3, 7],
        [4, 5, 6],
      ],
    ),
  ).toEqual({ agree: 4, total: 7 });
  expect(scoreUtterance('zh', '今天，天气很好。', '今天天气很好').substitutions).toBe(0);
});
