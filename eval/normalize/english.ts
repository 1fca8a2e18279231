/**
 * Whisper's English text normalizer (`whisper/normalizers/english.py` of openai-whisper 20250625, MIT License,
 * Copyright (c) 2022 OpenAI), rewritten in TypeScript with the same output: the normalization Whisper's WER figures
 * are computed on.  english-spelling.json is that package's `english.json` (British -> American spellings) verbatim,
 * under the same license.  Checked against the Python package in tests/unit/normalizer.test.ts.  The number
 * normalizer is in english-numbers.ts, its vocabulary and Python's arithmetic in english-number-words.ts.
 */
import { pyRegex, pySplit, pySub, removeSymbolsAndDiacritics, BRACKETS, PARENTHESES } from './basic.ts';
import spelling from './english-spelling.json' with { type: 'json' };
import { EnglishNumberNormalizer } from './english-numbers.ts';

/** British -> American spellings (the list at https://www.tysto.com/uk-us-spelling-list.html), word by word. */
export class EnglishSpellingNormalizer {
  private readonly mapping: ReadonlyMap<string, string> = new Map(Object.entries(spelling as Record<string, string>));

  normalize(text: string): string {
    return pySplit(text)
      .map((word) => this.mapping.get(word) ?? word)
      .join(' ');
  }
}

/** Python patterns and their replacements, applied in this order. */
const REPLACERS: [string, string][] = [
  // common contractions
  [String.raw`\bwon't\b`, 'will not'],
  [String.raw`\bcan't\b`, 'can not'],
  [String.raw`\blet's\b`, 'let us'],
  [String.raw`\bain't\b`, 'aint'],
  [String.raw`\by'all\b`, 'you all'],
  [String.raw`\bwanna\b`, 'want to'],
  [String.raw`\bgotta\b`, 'got to'],
  [String.raw`\bgonna\b`, 'going to'],
  [String.raw`\bi'ma\b`, 'i am going to'],
  [String.raw`\bimma\b`, 'i am going to'],
  [String.raw`\bwoulda\b`, 'would have'],
  [String.raw`\bcoulda\b`, 'could have'],
  [String.raw`\bshoulda\b`, 'should have'],
  [String.raw`\bma'am\b`, 'madam'],
  // titles and other abbreviations
  [String.raw`\bmr\b`, 'mister '],
  [String.raw`\bmrs\b`, 'missus '],
  [String.raw`\bst\b`, 'saint '],
  [String.raw`\bdr\b`, 'doctor '],
  [String.raw`\bprof\b`, 'professor '],
  [String.raw`\bcapt\b`, 'captain '],
  [String.raw`\bgov\b`, 'governor '],
  [String.raw`\bald\b`, 'alderman '],
  [String.raw`\bgen\b`, 'general '],
  [String.raw`\bsen\b`, 'senator '],
  [String.raw`\brep\b`, 'representative '],
  [String.raw`\bpres\b`, 'president '],
  [String.raw`\brev\b`, 'reverend '],
  [String.raw`\bhon\b`, 'honorable '],
  [String.raw`\basst\b`, 'assistant '],
  [String.raw`\bassoc\b`, 'associate '],
  [String.raw`\blt\b`, 'lieutenant '],
  [String.raw`\bcol\b`, 'colonel '],
  [String.raw`\bjr\b`, 'junior '],
  [String.raw`\bsr\b`, 'senior '],
  [String.raw`\besq\b`, 'esquire '],
  // perfect tenses (only these participles; "'s done" is ambiguous)
  [String.raw`'d been\b`, ' had been'],
  [String.raw`'s been\b`, ' has been'],
  [String.raw`'d gone\b`, ' had gone'],
  [String.raw`'s gone\b`, ' has gone'],
  [String.raw`'d done\b`, ' had done'],
  [String.raw`'s got\b`, ' has got'],
  // the other contractions
  [String.raw`n't\b`, ' not'],
  [String.raw`'re\b`, ' are'],
  [String.raw`'s\b`, ' is'],
  [String.raw`'d\b`, ' would'],
  [String.raw`'ll\b`, ' will'],
  [String.raw`'t\b`, ' not'],
  [String.raw`'ve\b`, ' have'],
  [String.raw`'m\b`, ' am'],
];

/** Whisper's `EnglishTextNormalizer`: the normalization behind its English WER. */
export class EnglishTextNormalizer {
  private static readonly FILLERS = pyRegex(String.raw`\b(hmm|mm|mhm|mmm|uh|um)\b`, 'g');
  private static readonly SPACE_APOSTROPHE = pyRegex(String.raw`\s+'`, 'g');
  private static readonly REPLACEMENTS = REPLACERS.map(([p, r]) => [pyRegex(p, 'g'), r] as const);
  private static readonly DIGIT_COMMA = pyRegex(String.raw`(\d),(\d)`, 'g');
  private static readonly PERIOD = pyRegex(String.raw`\.([^0-9]|$)`, 'g');
  private static readonly LONE_PREFIX = pyRegex(String.raw`[.$¢€£]([^0-9])`, 'g');
  private static readonly LONE_PERCENT = pyRegex(String.raw`([^0-9])%`, 'g');
  private static readonly WHITESPACE_RUN = pyRegex(String.raw`\s+`, 'g');

  private readonly numbers = new EnglishNumberNormalizer();
  private readonly spellings = new EnglishSpellingNormalizer();

  normalize(text: string): string {
    const N = EnglishTextNormalizer;
    let s = text.toLowerCase();
    s = pySub(BRACKETS, '', s);
    s = pySub(PARENTHESES, '', s);
    s = pySub(N.FILLERS, '', s);
    s = pySub(N.SPACE_APOSTROPHE, "'", s);
    for (const [pattern, replacement] of N.REPLACEMENTS) s = pySub(pattern, replacement, s);
    s = pySub(N.DIGIT_COMMA, String.raw`\1\2`, s); // 1,000 -> 1000
    s = pySub(N.PERIOD, String.raw` \1`, s); // periods not before a digit
    s = removeSymbolsAndDiacritics(s, '.%$¢€£'); // numeric symbols stay
    s = this.numbers.normalize(s);
    s = this.spellings.normalize(s);
    // symbols left without their number
    s = pySub(N.LONE_PREFIX, String.raw` \1`, s);
    s = pySub(N.LONE_PERCENT, String.raw`\1 `, s);
    return pySub(N.WHITESPACE_RUN, ' ', s);
  }
}

const english = new EnglishTextNormalizer();

/** `EnglishTextNormalizer()(text)`. */
export function normalizeEnglish(text: string): string {
  return english.normalize(text);
}
