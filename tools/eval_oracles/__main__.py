"""Command line: `python -m eval_oracles <command>`, JSON on stdin and stdout (tools/py runs it in the venv).

normalize: a JSON array of strings -> the array of Whisper's EnglishTextNormalizer()(s), or with --basic its
BasicTextNormalizer (options --remove-diacritics, --split-letters), from the openai-whisper package itself.
score counts: a JSON array of {"ref": [tokens], "hyp": [tokens]} -> jiwer's hits/substitutions/deletions/insertions.
score utterances: a JSON array of {"lang", "ref", "hyp"} -> the counts as `npm run eval` documents its scoring,
built from openai-whisper's normalizers and jiwer (score.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable


def _read_strings() -> list[str]:
    data = json.loads(sys.stdin.buffer.read())
    if not isinstance(data, list) or not all(isinstance(s, str) for s in data):
        raise SystemExit("eval_oracles: stdin must be a JSON array of strings")
    return data


def _write(data: object) -> None:
    # ASCII-only JSON: lone surrogates survive the trip back to Node.
    sys.stdout.write(json.dumps(data))
    sys.stdout.write("\n")


def _normalize(args: argparse.Namespace) -> int:
    from whisper.normalizers import BasicTextNormalizer, EnglishTextNormalizer

    normalizer: Callable[[str], str]
    if args.basic:
        normalizer = BasicTextNormalizer(remove_diacritics=args.remove_diacritics, split_letters=args.split_letters)
    elif args.remove_diacritics or args.split_letters:
        raise SystemExit("eval_oracles: --remove-diacritics and --split-letters go with --basic")
    else:
        normalizer = EnglishTextNormalizer()
    _write([normalizer(s) for s in _read_strings()])
    return 0


def _score(args: argparse.Namespace) -> int:
    from . import score

    data = json.loads(sys.stdin.buffer.read())
    if not isinstance(data, list):
        raise SystemExit("eval_oracles: stdin must be a JSON array")
    _write(score.counts(data) if args.what == "counts" else score.utterances(data))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="eval_oracles", description="Oracles for eval/ (JSON on stdin/stdout).")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("normalize", help="Whisper's text normalizers over a JSON array of strings")
    p.add_argument("--basic", action="store_true", help="BasicTextNormalizer instead of EnglishTextNormalizer")
    p.add_argument("--remove-diacritics", action="store_true", help="BasicTextNormalizer(remove_diacritics=True)")
    p.add_argument("--split-letters", action="store_true", help="BasicTextNormalizer(split_letters=True)")
    p.set_defaults(run=_normalize)

    s = sub.add_parser("score", help="jiwer's edit counts (token pairs, or utterances scored as npm run eval does)")
    s.add_argument("what", choices=["counts", "utterances"])
    s.set_defaults(run=_score)

    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
