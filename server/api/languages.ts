/**
 * The `language` field: ISO-639-1 codes → the lower-case English names OpenAI's verbose_json reports (Whisper's
 * list), and the fallback when no language was given: Chinese or English, from the text itself (the two languages
 * GLM-ASR-Nano is trained for).
 */
// prettier-ignore
export const LANGUAGES: Readonly<Record<string, string>> = {
  af: 'afrikaans', am: 'amharic', ar: 'arabic', as: 'assamese', az: 'azerbaijani', ba: 'bashkir', be: 'belarusian',
  bg: 'bulgarian', bn: 'bengali', bo: 'tibetan', br: 'breton', bs: 'bosnian', ca: 'catalan', cs: 'czech',
  cy: 'welsh', da: 'danish', de: 'german', el: 'greek', en: 'english', es: 'spanish', et: 'estonian', eu: 'basque',
  fa: 'persian', fi: 'finnish', fo: 'faroese', fr: 'french', gl: 'galician', gu: 'gujarati', ha: 'hausa',
  haw: 'hawaiian', he: 'hebrew', hi: 'hindi', hr: 'croatian', ht: 'haitian creole', hu: 'hungarian',
  hy: 'armenian', id: 'indonesian', is: 'icelandic', it: 'italian', ja: 'japanese', jw: 'javanese',
  ka: 'georgian', kk: 'kazakh', km: 'khmer', kn: 'kannada', ko: 'korean', la: 'latin', lb: 'luxembourgish',
  ln: 'lingala', lo: 'lao', lt: 'lithuanian', lv: 'latvian', mg: 'malagasy', mi: 'maori', mk: 'macedonian',
  ml: 'malayalam', mn: 'mongolian', mr: 'marathi', ms: 'malay', mt: 'maltese', my: 'myanmar', ne: 'nepali',
  nl: 'dutch', nn: 'nynorsk', no: 'norwegian', oc: 'occitan', pa: 'punjabi', pl: 'polish', ps: 'pashto',
  pt: 'portuguese', ro: 'romanian', ru: 'russian', sa: 'sanskrit', sd: 'sindhi', si: 'sinhala', sk: 'slovak',
  sl: 'slovenian', sn: 'shona', so: 'somali', sq: 'albanian', sr: 'serbian', su: 'sundanese', sv: 'swedish',
  sw: 'swahili', ta: 'tamil', te: 'telugu', tg: 'tajik', th: 'thai', tk: 'turkmen', tl: 'tagalog', tr: 'turkish',
  tt: 'tatar', uk: 'ukrainian', ur: 'urdu', uz: 'uzbek', vi: 'vietnamese', yi: 'yiddish', yo: 'yoruba',
  yue: 'cantonese', zh: 'chinese',
};

/** `en`, `EN`, `en-US` or a full name (`english`) → the full lower-case name; undefined when unknown. */
export function languageName(value: string): string | undefined {
  const v = value.trim().toLowerCase();
  const code = v.split(/[-_]/)[0] ?? v;
  // Own keys only: `constructor` or `__proto__` are not languages.
  if (Object.hasOwn(LANGUAGES, code)) return LANGUAGES[code];
  return Object.values(LANGUAGES).includes(v) ? v : undefined;
}

const HAN = /[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]/gu;
const LATIN = /[A-Za-z]/g;

/** 'chinese' when Han characters carry the text (one Han character ≈ one 4-letter word), else 'english'. */
export function detectLanguage(text: string): 'chinese' | 'english' {
  const han = text.match(HAN)?.length ?? 0;
  const latin = text.match(LATIN)?.length ?? 0;
  return han > 0 && han * 4 >= latin ? 'chinese' : 'english';
}
