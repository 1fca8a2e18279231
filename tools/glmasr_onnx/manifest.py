"""manifest.json: what the app reads before downloading anything (every file's size and sha256, the model's
dimensions, special tokens, each variant's graphs), and the summary table the converter prints."""

from __future__ import annotations

import hashlib
from pathlib import Path

import onnx

from . import __version__
from .quantize import F16_AUDIO_PATH, F32_TWIN
from .steps import sha256_file

MANIFEST_FORMAT = "glm-asr-onnx/1"
# The audio encoder's ONNX metadata key for the query rows its attention is computed in (export.py writes it; the
# manifest's `attention_query_rows` is read from it).
ATTENTION_QUERY_ROWS_KEY = "glmasr.audio_encoder.attention_query_rows"


def checkpoint_digest(ckpt) -> str:
    """The checkpoint's identity for the manifest's revision and for resuming: config bytes + weight file sizes."""
    digest = hashlib.sha256()
    digest.update((ckpt.path / "config.json").read_bytes())
    for wf in ckpt.weight_files:
        digest.update(f"{wf.name}:{wf.stat().st_size}".encode())
    return digest.hexdigest()


def build_manifest(ckpt, stage: Path, graphs: dict, tokens: dict, eos: list[int], model_id: str, report) -> dict:
    import onnxruntime
    import torch
    import transformers

    files = []
    for path in sorted(p for p in stage.rglob("*") if p.is_file()):
        report("hash", path.relative_to(stage).as_posix())
        files.append({"path": path.relative_to(stage).as_posix(), "bytes": path.stat().st_size, "sha256": sha256_file(path)})
    audio, text = ckpt.config["audio_config"], ckpt.config["text_config"]
    head_dim = text.get("head_dim") or text["hidden_size"] // text["num_attention_heads"]
    return {
        "format": MANIFEST_FORMAT,
        "model_id": model_id,
        "revision": checkpoint_digest(ckpt)[:16],
        "created_by": (
            f"glmasr_onnx {__version__} (transformers {transformers.__version__}, torch {torch.__version__}, "
            f"onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__})"
        ),
        "model": {
            "audio_token_id": ckpt.config.get("audio_token_id"),
            "audio_hidden_size": audio.get("hidden_size"),
            "audio_num_attention_heads": audio.get("num_attention_heads"),
            "hidden_size": text["hidden_size"],
            "vocab_size": text["vocab_size"],
            "num_layers": text["num_hidden_layers"],
            "num_key_value_heads": text["num_key_value_heads"],
            "head_dim": head_dim,
            "max_position_embeddings": text.get("max_position_embeddings"),
            "eos_token_ids": eos,
        },
        "special_tokens": tokens,
        "variants": {
            v: {
                "bytes": sum(g["bytes"] for g in gs.values()),
                **({"f16_audio_path": F16_AUDIO_PATH, "float32_twin": F32_TWIN[v]} if v in F32_TWIN else {}),
                "graphs": gs,
            }
            for v, gs in graphs.items()
        },
        "files": files,
    }


def summary_table(manifest: dict) -> str:
    rows = [("variant", "graph", "files", "MB", "largest initializer (MB)")]
    for variant, info in manifest["variants"].items():
        for graph, g in info["graphs"].items():
            li = g["largest_initializer"]
            rows.append(
                (variant, graph, str(len(g["files"])), f"{g['bytes'] / 1e6:.2f}", f"{li['bytes'] / 1e6:.2f} {li['name']}")
            )
        rows.append((variant, "TOTAL", "", f"{info['bytes'] / 1e6:.2f}", ""))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
