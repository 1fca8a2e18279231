"""jiwer as the oracle of the eval's scorer (eval/score.ts).

`counts(pairs)`: for each {"ref": [tokens], "hyp": [tokens]}, jiwer's hits/substitutions/deletions/insertions of
the token sequences (tokens carry no spaces; joined by one space, jiwer's default transform splits them back; empty
sides included, which jiwer 4 accepts).

The CER characters (`_cer_chars`) follow the README's definition written again here with Python's own unicodedata
and str.lower(), so JavaScript's Unicode handling in eval/score.ts is checked against Python's.

`utterances(items)`: for each {"lang", "ref", "hyp"} the scoring `npm run eval` documents, built from the
independent references: English through openai-whisper's EnglishTextNormalizer, other space-separated languages
through its BasicTextNormalizer, then jiwer.process_words; zh/ja/ko/... as characters after NFKC, lower case and
removing punctuation, symbols and spaces, then jiwer.process_characters.
"""

from __future__ import annotations

import unicodedata

import jiwer

CHARACTER_LANGS = {"zh", "ja", "ko", "yue", "th", "lo", "my", "km"}


def _counts(out) -> dict:
    return {"hits": out.hits, "substitutions": out.substitutions, "deletions": out.deletions,
            "insertions": out.insertions}


def counts(pairs: list[dict]) -> list[dict]:
    return [_counts(jiwer.process_words(" ".join(p["ref"]), " ".join(p["hyp"]))) for p in pairs]


def _cer_chars(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in text if not (unicodedata.category(c)[0] in "PSZ" or c.isspace()))


def utterances(items: list[dict]) -> list[dict]:
    from whisper.normalizers import BasicTextNormalizer, EnglishTextNormalizer

    english, basic = EnglishTextNormalizer(), BasicTextNormalizer()
    result = []
    for it in items:
        lang = it["lang"].lower().replace("_", "-").split("-")[0]
        if lang in CHARACTER_LANGS:
            ref, hyp = list(_cer_chars(it["ref"])), list(_cer_chars(it["hyp"]))
            unit = "char"
        else:
            norm = english if lang == "en" else basic
            ref, hyp = norm(it["ref"]).split(), norm(it["hyp"]).split()
            unit = "word"
        (c,) = counts([{"ref": ref, "hyp": hyp}])
        result.append({"unit": unit, **c})
    return result
