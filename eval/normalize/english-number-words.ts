/**
 * The number normalizer's vocabulary and arithmetic (eval/normalize/english-numbers.ts), kept to Python's value model:
 * a pending number is an int (here a bigint), a digit string (when the digits are read one by one, or a decimal) or
 * nothing; decimals are scaled by the multipliers with exact rational arithmetic as `fractions.Fraction` does.
 */

export type Value = bigint | string | null;

/** Python's `int()` and `str()` refuse integers of more digits (`sys.int_info.default_max_str_digits`). */
const PY_MAX_STR_DIGITS = 4300;

/** Python's `str()` of a pending value; like Python, refuses to write an int of more than 4300 digits. */
export function str(v: bigint | string | number): string {
  if (typeof v === 'string') return v;
  const text = v.toString();
  if (text.length > PY_MAX_STR_DIGITS)
    throw new RangeError(`an integer of ${text.length} digits (Python's limit is 4300)`);
  return text;
}
/** Python truthiness of a pending value (`value or ""`): None, 0 and '' are false. */
export const truthy = (v: Value): v is bigint | string => v !== null && v !== 0n && v !== '';

export const ONES_NAMES = [
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
];
export const TENS_NAMES: [string, number][] = [
  ['twenty', 20],
  ['thirty', 30],
  ['forty', 40],
  ['fifty', 50],
  ['sixty', 60],
  ['seventy', 70],
  ['eighty', 80],
  ['ninety', 90],
];
export const MULTIPLIER_NAMES = [
  'hundred',
  'thousand',
  'million',
  'billion',
  'trillion',
  'quadrillion',
  'quintillion',
  'sextillion',
  'septillion',
  'octillion',
  'nonillion',
  'decillion',
];

const DECIMAL_DIGIT = /^\p{Nd}$/u;

/**
 * The value of a decimal digit of any script, as Python's `int()` reads it.  Unicode encodes every such digit in a
 * run of ten from 0 to 9, so the value is the count of digits before it in its run, modulo 10.
 */
function digitValue(c: string): bigint {
  const cp = c.codePointAt(0)!;
  if (cp >= 0x30 && cp <= 0x39) return BigInt(cp - 0x30);
  let before = 0;
  while (DECIMAL_DIGIT.test(String.fromCodePoint(cp - before - 1))) before++;
  return BigInt(before % 10);
}

/** `int(digits)` for a non-empty string of decimal digits; null where Python raises ValueError (too long). */
function parseDigits(digits: string): bigint | null {
  if (/^[0-9]*$/.test(digits)) return digits.length > PY_MAX_STR_DIGITS ? null : BigInt(digits);
  const chars = Array.from(digits);
  if (chars.length > PY_MAX_STR_DIGITS) return null;
  return chars.reduce((n, c) => n * 10n + digitValue(c), 0n);
}

export interface Fraction {
  num: bigint;
  den: bigint;
}

/** The strings `Fraction()` accepts among those the normalizer hands it: digits, at most one '.', a digit somewhere. */
const FRACTION_LITERAL = /^(?=\p{Nd}|\.\p{Nd})(\p{Nd}*)(?:\.(\p{Nd}*))?$/u;

/** `Fraction(value)` (not reduced: only integrality matters), or null where Python raises ValueError. */
export function toFraction(value: bigint | string): Fraction | null {
  if (typeof value === 'bigint') return { num: value, den: 1n };
  const m = FRACTION_LITERAL.exec(value);
  if (!m) return null;
  const whole = m[1] ? parseDigits(m[1]) : 0n;
  if (whole === null) return null;
  const decimals = m[2] ?? '';
  if (!decimals) return { num: whole, den: 1n };
  const fraction = parseDigits(decimals);
  if (fraction === null) return null;
  const scale = 10n ** BigInt(Array.from(decimals).length);
  return { num: whole * scale + fraction, den: scale };
}

/** `Fraction(value) * multiplier` when that is an integer, else null. */
export function scaledInteger(value: bigint | string, multiplier: bigint): bigint | null {
  const f = toFraction(value);
  if (f === null) return null;
  const p = f.num * multiplier;
  return p % f.den === 0n ? p / f.den : null;
}

export function pyAssert(condition: boolean, what: string): asserts condition {
  if (!condition) throw new Error(`EnglishNumberNormalizer: ${what}`);
}
