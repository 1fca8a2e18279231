/** How window or segment texts join into one text (isomorphic, no imports: the UI uses it too). */

const CJK = /[\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uff00-\uffef]/u;

/** Window texts joined with a space, except next to CJK characters (which use none). */
export function joinWindowTexts(texts: readonly string[]): string {
  let out = '';
  for (const t of texts) {
    if (!t) continue;
    if (out && !(CJK.test(out.at(-1) ?? '') || CJK.test(t[0] ?? ''))) out += ' ';
    out += t;
  }
  return out;
}
