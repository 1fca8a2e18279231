/**
 * Whisper's English number normalizer (`EnglishNumberNormalizer` of openai-whisper's `normalizers/english.py`, MIT
 * License, Copyright (c) 2022 OpenAI) in TypeScript with the same output; see eval/normalize/english.ts.
 */
import { pyRegex, pySplit, pySub } from './basic.ts';
import {
  type Value,
  str,
  truthy,
  ONES_NAMES,
  TENS_NAMES,
  MULTIPLIER_NAMES,
  toFraction,
  scaledInteger,
  pyAssert,
} from './english-number-words.ts';

/**
 * Spelled-out numbers to digits: commas dropped, suffixes kept (`1960s`, `274th`, `32nd`), currency words turned into
 * symbols before the number (`$20 million` -> `$20000000`), `one`/`ones` spelled out, and runs of single digits read
 * as a nominal number (`one oh one` -> `101`).
 */
export class EnglishNumberNormalizer {
  private readonly zeros = new Set(['o', 'oh', 'zero']);
  private readonly ones = new Map<string, number>(ONES_NAMES.map((name, i) => [name, i + 1]));
  private readonly onesSuffixed = new Map<string, [number, string]>();
  private readonly tens = new Map<string, number>(TENS_NAMES);
  private readonly tensSuffixed = new Map<string, [number, string]>();
  private readonly multipliers = new Map<string, bigint>(
    MULTIPLIER_NAMES.map((name, i) => [name, 10n ** BigInt(i === 0 ? 2 : 3 * i)]),
  );
  private readonly multipliersSuffixed = new Map<string, [bigint, string]>();
  private readonly decimals: Set<string>;
  private readonly precedingPrefixers = new Map([
    ['minus', '-'],
    ['negative', '-'],
    ['plus', '+'],
    ['positive', '+'],
  ]);
  private readonly followingPrefixers = new Map([
    ['pound', '£'],
    ['pounds', '£'],
    ['euro', '€'],
    ['euros', '€'],
    ['dollar', '$'],
    ['dollars', '$'],
    ['cent', '¢'],
    ['cents', '¢'],
  ]);
  private readonly prefixes: Set<string>;
  /** `per cent` and `percent` -> `%`. */
  private readonly suffixers = new Set(['per', 'percent']);
  private readonly specials = new Set(['and', 'double', 'triple', 'point']);
  private readonly words: Set<string>;

  constructor() {
    for (const [name, value] of this.ones) this.onesSuffixed.set(name === 'six' ? 'sixes' : name + 's', [value, 's']);
    const ordinals: [string, number, string][] = [
      ['zeroth', 0, 'th'],
      ['first', 1, 'st'],
      ['second', 2, 'nd'],
      ['third', 3, 'rd'],
      ['fifth', 5, 'th'],
      ['twelfth', 12, 'th'],
    ];
    for (const [name, value] of this.ones) {
      // Whisper's own rule: "eight" -> "eighth", but also "nine" -> "nineth" (so "ninth" stays a word).
      if (value > 3 && value !== 5 && value !== 12)
        ordinals.push([name + (name.endsWith('t') ? 'h' : 'th'), value, 'th']);
    }
    for (const [name, value, suffix] of ordinals) this.onesSuffixed.set(name, [value, suffix]);
    for (const [name, value] of this.tens) this.tensSuffixed.set(name.replaceAll('y', 'ies'), [value, 's']);
    for (const [name, value] of this.tens) this.tensSuffixed.set(name.replaceAll('y', 'ieth'), [value, 'th']);
    for (const [name, value] of this.multipliers) this.multipliersSuffixed.set(name + 's', [value, 's']);
    for (const [name, value] of this.multipliers) this.multipliersSuffixed.set(name + 'th', [value, 'th']);
    this.decimals = new Set([...this.ones.keys(), ...this.tens.keys(), ...this.zeros]);
    this.prefixes = new Set([...this.precedingPrefixers.values(), ...this.followingPrefixers.values()]);
    this.words = new Set([
      ...this.zeros,
      ...this.ones.keys(),
      ...this.onesSuffixed.keys(),
      ...this.tens.keys(),
      ...this.tensSuffixed.keys(),
      ...this.multipliers.keys(),
      ...this.multipliersSuffixed.keys(),
      ...this.precedingPrefixers.keys(),
      ...this.followingPrefixers.keys(),
      ...this.suffixers,
      ...this.specials,
    ]);
  }

  private static readonly NUMERIC = pyRegex(String.raw`^\d+(\.\d+)?$`);

  processWords(words: readonly string[]): string[] {
    const out: string[] = [];
    let prefix: string | null = null;
    let value: Value = null;
    let skip = false;

    /** The finished token: `prefix + result`; clears the pending value and prefix. */
    const output = (result: bigint | string): string => {
      let text = str(result);
      if (prefix !== null) text = prefix + text;
      value = null;
      prefix = null;
      return text;
    };
    const isOnes = (w: string | undefined) => w !== undefined && this.ones.has(w);
    const isTens = (w: string | undefined) => w !== undefined && this.tens.has(w);
    const isWord = (w: string | undefined) => w !== undefined && this.words.has(w);
    const isNumeric = (w: string) => EnglishNumberNormalizer.NUMERIC.test(w);

    for (let i = 0; i < words.length; i++) {
      const prev = words[i - 1];
      const current = words[i]!;
      const next = words[i + 1];
      if (skip) {
        skip = false;
        continue;
      }

      const nextIsNumeric = next !== undefined && isNumeric(next);
      const hasPrefix = this.prefixes.has(current.charAt(0));
      const currentWithoutPrefix = hasPrefix ? current.slice(1) : current;

      if (isNumeric(currentWithoutPrefix)) {
        // Arabic numerals, perhaps with a sign or currency and a decimal part.
        const f = toFraction(currentWithoutPrefix);
        pyAssert(f !== null, `not a number: ${currentWithoutPrefix}`);
        if (value !== null) {
          if (typeof value === 'string' && value.endsWith('.')) {
            // The digits after "point": a decimal, or the next part of a dotted number.
            value = value + current;
            continue;
          }
          out.push(output(value));
        }
        prefix = hasPrefix ? current.charAt(0) : prefix;
        value = f.num % f.den === 0n ? f.num / f.den : currentWithoutPrefix;
      } else if (!this.words.has(current)) {
        if (value !== null) out.push(output(value));
        out.push(output(current));
      } else if (this.zeros.has(current)) {
        value = (truthy(value) ? str(value) : '') + '0';
      } else if (this.ones.has(current)) {
        const ones = this.ones.get(current)!;
        if (value === null) {
          value = BigInt(ones);
        } else if (typeof value === 'string' || isOnes(prev)) {
          if (isTens(prev) && ones < 10) {
            // "twenty one" after a digit string: the 1 takes the place of the 0.
            const digits = str(value);
            pyAssert(digits.endsWith('0'), `expected a trailing 0 in ${digits}`);
            value = digits.slice(0, -1) + str(ones);
          } else {
            value = str(value) + str(ones);
          }
        } else if (ones < 10) {
          value = value % 10n === 0n ? value + BigInt(ones) : str(value) + str(ones);
        } else {
          // eleven to nineteen
          value = value % 100n === 0n ? value + BigInt(ones) : str(value) + str(ones);
        }
      } else if (this.onesSuffixed.has(current)) {
        // an ordinal or a plural: the number is complete
        const [ones, suffix] = this.onesSuffixed.get(current)!;
        if (value === null) {
          out.push(output(str(ones) + suffix));
        } else if (typeof value === 'string' || isOnes(prev)) {
          if (isTens(prev) && ones < 10) {
            const digits = str(value);
            pyAssert(digits.endsWith('0'), `expected a trailing 0 in ${digits}`);
            out.push(output(digits.slice(0, -1) + str(ones) + suffix));
          } else {
            out.push(output(str(value) + str(ones) + suffix));
          }
        } else if (ones < 10) {
          out.push(output((value % 10n === 0n ? str(value + BigInt(ones)) : str(value) + str(ones)) + suffix));
        } else {
          out.push(output((value % 100n === 0n ? str(value + BigInt(ones)) : str(value) + str(ones)) + suffix));
        }
        value = null;
      } else if (this.tens.has(current)) {
        const tens = this.tens.get(current)!;
        if (value === null) value = BigInt(tens);
        else if (typeof value === 'string') value = value + str(tens);
        else value = value % 100n === 0n ? value + BigInt(tens) : str(value) + str(tens);
      } else if (this.tensSuffixed.has(current)) {
        const [tens, suffix] = this.tensSuffixed.get(current)!;
        if (value === null) out.push(output(str(tens) + suffix));
        else if (typeof value === 'string') out.push(output(value + str(tens) + suffix));
        else out.push(output((value % 100n === 0n ? str(value + BigInt(tens)) : str(value) + str(tens)) + suffix));
      } else if (this.multipliers.has(current)) {
        const multiplier = this.multipliers.get(current)!;
        if (value === null) {
          value = multiplier;
        } else if (typeof value === 'string' || value === 0n) {
          // "3.5 million": kept exact when the product is an integer, else the decimal is left as it was said
          const product = scaledInteger(value, multiplier);
          if (product !== null) {
            value = product;
          } else {
            out.push(output(value));
            value = multiplier;
          }
        } else {
          // the multiplier applies to the last three digits: "two thousand three hundred"
          value = (value / 1000n) * 1000n + (value % 1000n) * multiplier;
        }
      } else if (this.multipliersSuffixed.has(current)) {
        const [multiplier, suffix] = this.multipliersSuffixed.get(current)!;
        if (value === null) {
          out.push(output(str(multiplier) + suffix));
        } else if (typeof value === 'string') {
          const product = scaledInteger(value, multiplier);
          if (product !== null) {
            out.push(output(str(product) + suffix));
          } else {
            out.push(output(value));
            out.push(output(str(multiplier) + suffix));
          }
        } else {
          value = (value / 1000n) * 1000n + (value % 1000n) * multiplier;
          out.push(output(str(value) + suffix));
        }
        value = null;
      } else if (this.precedingPrefixers.has(current)) {
        // a sign, if a number follows
        if (value !== null) out.push(output(value));
        if (isWord(next) || nextIsNumeric) prefix = this.precedingPrefixers.get(current)!;
        else out.push(output(current));
      } else if (this.followingPrefixers.has(current)) {
        // a currency, if a number precedes
        if (value !== null) {
          prefix = this.followingPrefixers.get(current)!;
          out.push(output(value));
        } else {
          out.push(output(current));
        }
      } else if (this.suffixers.has(current)) {
        if (value !== null) {
          if (current === 'per') {
            if (next === 'cent') {
              out.push(output(str(value) + '%'));
              skip = true;
            } else {
              out.push(output(value));
              out.push(output(current));
            }
          } else {
            out.push(output(str(value) + '%'));
          }
        } else {
          out.push(output(current));
        }
      } else if (this.specials.has(current)) {
        if (!isWord(next) && !nextIsNumeric) {
          // only special when a number may follow
          if (value !== null) out.push(output(value));
          out.push(output(current));
        } else if (current === 'and') {
          // "and" after hundred, thousand, ... is dropped
          if (prev === undefined || !this.multipliers.has(prev)) {
            if (value !== null) out.push(output(value));
            out.push(output(current));
          }
        } else if (current === 'double' || current === 'triple') {
          if (next !== undefined && (this.ones.has(next) || this.zeros.has(next))) {
            const repeats = current === 'double' ? 2 : 3;
            const ones = this.ones.get(next) ?? 0;
            value = (truthy(value) ? str(value) : '') + str(ones).repeat(repeats);
            skip = true;
          } else {
            if (value !== null) out.push(output(value));
            out.push(output(current));
          }
        } else if (next !== undefined && (this.decimals.has(next) || nextIsNumeric)) {
          // "point" before a digit; before any other number word it is dropped, as in Whisper
          value = (truthy(value) ? str(value) : '') + '.';
        }
      } else {
        throw new Error(`EnglishNumberNormalizer: unexpected token ${current}`);
      }
    }
    if (value !== null) out.push(output(value));
    return out;
  }

  private static readonly AND_A_HALF = pyRegex(String.raw`\band\s+a\s+half\b`);
  private static readonly LETTER_DIGIT = pyRegex(String.raw`([a-z])([0-9])`, 'g');
  private static readonly DIGIT_LETTER = pyRegex(String.raw`([0-9])([a-z])`, 'g');
  private static readonly DIGIT_SUFFIX = pyRegex(String.raw`([0-9])\s+(st|nd|rd|th|s)\b`, 'g');

  preprocess(text: string): string {
    // "<number> and a half" -> "<number> point five"
    const segments = text.split(EnglishNumberNormalizer.AND_A_HALF);
    const results: string[] = [];
    segments.forEach((segment, i) => {
      const segmentWords = pySplit(segment);
      if (segmentWords.length === 0) return;
      results.push(segment);
      if (i === segments.length - 1) return;
      const lastWord = segmentWords.at(-1)!;
      const numeric = this.decimals.has(lastWord) || this.multipliers.has(lastWord);
      results.push(numeric ? 'point five' : 'and a half');
    });
    let s = results.join(' ');
    // a space between letters and digits ...
    s = pySub(EnglishNumberNormalizer.LETTER_DIGIT, String.raw`\1 \2`, s);
    s = pySub(EnglishNumberNormalizer.DIGIT_LETTER, String.raw`\1 \2`, s);
    // ... except before what may be a suffix
    return pySub(EnglishNumberNormalizer.DIGIT_SUFFIX, String.raw`\1\2`, s);
  }

  private static readonly CURRENCY_AND_CENTS = pyRegex(String.raw`([€£$])([0-9]+) (?:and )?¢([0-9]{1,2})\b`, 'g');
  private static readonly ZERO_CURRENCY = pyRegex(String.raw`[€£$]0.([0-9]{1,2})\b`, 'g');
  private static readonly ONE = pyRegex(String.raw`\b1(s?)\b`, 'g');

  postprocess(text: string): string {
    // "$2 and ¢7" -> "$2.07"; "$0.07" -> "¢7"
    let s = pySub(
      EnglishNumberNormalizer.CURRENCY_AND_CENTS,
      ([, currency, integer, cents]) => `${currency}${integer}.${String(Number(cents)).padStart(2, '0')}`,
      text,
    );
    s = pySub(EnglishNumberNormalizer.ZERO_CURRENCY, ([, cents]) => `¢${Number(cents)}`, s);
    // "one(s)" reads better than "1(s)"
    return pySub(EnglishNumberNormalizer.ONE, String.raw`one\1`, s);
  }

  normalize(text: string): string {
    const s = this.preprocess(text);
    return this.postprocess(this.processWords(pySplit(s)).join(' '));
  }
}
