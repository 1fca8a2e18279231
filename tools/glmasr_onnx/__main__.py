"""Command line: `python -m glmasr_onnx <command>`; `npm run model:convert -- ...` calls `convert`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import ConversionError
from .quantize import VARIANT_SUFFIX

CONVERT_HELP = """\
Convert a GLM-ASR-Nano checkpoint (transformers-v5 format, model_type "glmasr") into the ONNX model directory the
app downloads: onnx/audio_encoder*, onnx/embed_tokens*, onnx/decoder_model_merged* per variant, the configs, the
tokenizer and manifest.json (every file with its size and sha256).

examples:
  npm run model:convert -- --from zai-org/GLM-ASR-Nano-2512 --out public/models/glm-asr-nano-2512
  npm run model:convert -- --from ~/ckpt/GLM-ASR-Nano-2512 --out models/nano --variants q4f16,q4

variants (transformers.js file suffixes):
  fp32   ''           reference, for tests
  fp16   _fp16        float16 weights and compute, float32 graph I/O
  q8     _quantized   dynamic uint8 MatMul + embedding: the app's choice on WASM (int8 GEMM on WASM SIMD)
  q4     _q4          MatMulNBits 4-bit (block 32, symmetric), float32 elsewhere: the server's (onnxruntime-node)
                      and WebGPU's without shader-f16
  q4f16  _q4f16       q4 weights + float16 elsewhere, 4-bit embedding table: the app's choice on WebGPU
The decoder is built fused by onnxruntime-genai's model builder (GroupQueryAttention, ~11 nodes per layer) unless
--unfused.  f16 variants keep the encoder's final norm and the projector in float32 and clamp the encoder's layer
outputs to the float16 range (manifest.json records it).
"""


def _variants(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split(",") if v.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="glmasr_onnx", description="GLM-ASR-Nano ONNX converter and test models.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "convert",
        help="checkpoint -> ONNX model directory",
        description=CONVERT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--from", dest="source", required=True, help="checkpoint directory or hub id (owner/name)")
    p.add_argument("--out", required=True, type=Path, help="output model directory (created atomically)")
    p.add_argument("--variants", default="q4f16,q4,q8", type=_variants, help="comma-separated, default q4f16,q4,q8")
    p.add_argument("--model-id", default=None, help="id recorded in manifest.json (default: the directory name)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output directory")
    p.add_argument("--revision", default=None, help="hub commit, tag or branch to pin (hub ids only; default main)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.add_argument("--progress-json", action="store_true", help="progress as one JSON object per line on stderr")
    p.add_argument(
        "--unfused",
        action="store_true",
        help="export the decoder op by op (the reference the fused graph is checked against) instead of the "
        "onnxruntime-genai builder's fused GroupQueryAttention graph",
    )

    t = sub.add_parser("tiny", help="build the seeded tiny random checkpoints used by the tests")
    t.add_argument("--out", required=True, type=Path, help="directory; one sub-directory per tiny spec")
    t.add_argument("--name", action="append", help="spec name (default: all)")
    t.add_argument(
        "--overflow-from", type=Path, help="instead: copy this tiny checkpoint with an audio path that overflows fp16"
    )

    g = sub.add_parser("goldens", help="compute parity goldens with the official implementation")
    g.add_argument("--checkpoint", required=True, type=Path)
    g.add_argument("--speech", required=True, type=Path, help="shared/data/speech directory")
    g.add_argument("--out", required=True, type=Path, help="goldens directory")
    g.add_argument("--max-new-tokens", type=int, default=48)

    m = sub.add_parser("mel-goldens", help="log-mel of real speech by transformers' WhisperFeatureExtractor")
    m.add_argument("--speech", required=True, type=Path, help="shared/data/speech directory")
    m.add_argument("--out", required=True, type=Path)

    r = sub.add_parser("ort-reference", help="greedy decodes of the golden windows by onnxruntime (Python) per variant")
    r.add_argument("--model", required=True, type=Path, help="converted model directory")
    r.add_argument("--goldens", required=True, type=Path)
    r.add_argument("--variants", default="fp32,fp16,q8,q4,q4f16", type=_variants)
    r.add_argument("--out", required=True, type=Path, help="JSON file to write")

    f = sub.add_parser("full-random", help="real-size GLM-ASR-Nano config with random weights (for benchmarks)")
    f.add_argument("--out", required=True, type=Path, help="model directory to write (converted)")
    f.add_argument("--variants", default="q4f16,q4,q8", type=_variants)
    f.add_argument("--keep-checkpoint", action="store_true")
    f.add_argument("--unfused", action="store_true", help="op-by-op decoder (the reference the benchmarks compare)")

    i = sub.add_parser("inspect", help="node count and op types of a converted model's graphs, as JSON")
    i.add_argument("--model", required=True, type=Path, help="converted model directory")
    i.add_argument("--variant", default="q4", choices=list(VARIANT_SUFFIX))

    args = parser.parse_args(argv)
    try:
        if args.command == "convert":
            from .convert import Reporter, convert, summary_table

            manifest = convert(
                args.source,
                args.out,
                args.variants,
                model_id=args.model_id,
                overwrite=args.overwrite,
                fused=not args.unfused,
                revision=args.revision,
                report=Reporter(quiet=args.quiet, json=args.progress_json),
            )
            print(summary_table(manifest))
        elif args.command == "tiny":
            from .tiny import TINY_SPECS, build_overflow_checkpoint, build_tiny_checkpoint

            if args.overflow_from:
                print(build_overflow_checkpoint(args.overflow_from, args.out))
                return 0
            for name in args.name or list(TINY_SPECS):
                if name not in TINY_SPECS:
                    raise ConversionError("BAD_ARGUMENT", f"unknown tiny spec {name}; have {', '.join(TINY_SPECS)}")
                print(build_tiny_checkpoint(TINY_SPECS[name], args.out / name))
        elif args.command == "goldens":
            from .goldens import write_goldens

            write_goldens(args.checkpoint, args.speech, args.out, max_new_tokens=args.max_new_tokens)
        elif args.command == "mel-goldens":
            from .goldens import write_mel_goldens

            write_mel_goldens(args.speech, args.out)
        elif args.command == "ort-reference":
            import json

            from .ort_pipeline import reference_decodes

            ref = reference_decodes(args.model, args.goldens, list(args.variants))
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(ref, indent=1) + "\n")
            for variant, info in ref["variants"].items():
                print(
                    f"{variant:<13} token prefix agreement with the official fp32 decode "
                    f"{100 * info['prefix_agreement']:5.1f}%  first-step logits max drift "
                    f"{info['first_logits_max_drift']:.2e}"
                )
        elif args.command == "inspect":
            import json

            import onnx

            from .fused import op_counts

            stats = {}
            for graph in ("audio_encoder", "embed_tokens", "decoder_model_merged"):
                path = args.model / "onnx" / f"{graph}{VARIANT_SUFFIX[args.variant]}.onnx"
                if not path.exists():
                    raise ConversionError("NOT_FOUND", f"{path} does not exist")
                proto = onnx.load(str(path), load_external_data=False)
                stats[graph] = {"nodes": len(proto.graph.node), "op_types": op_counts(proto)}
            print(json.dumps(stats))
        elif args.command == "full-random":
            from .full_random import build_full_random

            build_full_random(args.out, args.variants, keep_checkpoint=args.keep_checkpoint, fused=not args.unfused)
    except ConversionError as exc:
        print(f"error [{exc.code}]: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; no output was left behind", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
