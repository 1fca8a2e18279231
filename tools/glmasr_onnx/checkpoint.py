"""Find, download and validate a GLM-ASR checkpoint before any heavy work starts.

Everything that can be checked from file names, config.json and safetensors headers is checked here, so a bad input
fails in a second with a message naming the file, instead of deep inside transformers or the exporter.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from .errors import ConversionError

REQUIRED_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json")
PROCESSOR_FILES = ("processor_config.json", "preprocessor_config.json")
# Files copied verbatim into the output model directory when present.
PASSTHROUGH_FILES = (
    "config.json",
    "generation_config.json",
    "preprocessor_config.json",
    "processor_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
)
OLD_FORMAT_KEYS = ("whisper_config", "lm_config", "merge_factor", "use_rope")
OLD_FORMAT_HINT = (
    "This is the pre-2025-12-27 GLM-ASR format (remote code for transformers 4.51; weights under "
    "audio_encoder.whisper.* and model.*). The weights were re-released in the transformers-v5 format "
    "(model_type 'glmasr'); download zai-org/GLM-ASR-Nano-2512 again (revision 61ba4e0b or later) and convert that."
)
HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    config: dict
    weight_files: tuple[Path, ...]
    tensor_names: frozenset[str]

    @property
    def text_config(self) -> dict:
        return self.config["text_config"]


@dataclass(frozen=True)
class Resolved:
    path: Path
    #: What manifest.json records as the model's source: {"hub_id", "revision" (the commit)} or {"path"}, where a
    #: local checkpoint is named by its directory's name only: the manifest is served to every visitor of the model,
    #: and the converting machine's directories are not theirs to see.
    record: dict


def resolve(source: str, cache_dir: Path | None = None, revision: str | None = None) -> Resolved:
    """A local directory as is; otherwise a hub id, downloaded (weights, configs, tokenizer) when online, pinned to
    `revision` (a commit, tag or branch; default the main branch) and recorded with the commit it resolved to.
    The hub's cache keeps finished files, so a stopped download resumes."""
    path = Path(source).expanduser()
    if path.is_dir():
        if revision:
            raise ConversionError("BAD_ARGUMENT", f"--revision applies to a hub id, not the directory {source}.")
        return Resolved(path.resolve(), {"path": path.resolve().name})
    if path.exists():
        raise ConversionError("NOT_A_DIRECTORY", f"--from {source} is a file; pass the checkpoint's directory.")
    if not HUB_ID.match(source):
        raise ConversionError(
            "SOURCE_NOT_FOUND", f"--from {source}: no such directory, and it is not a hub id of the form owner/name."
        )
    try:
        from huggingface_hub import snapshot_download

        local = snapshot_download(
            repo_id=source,
            revision=revision,
            cache_dir=str(cache_dir) if cache_dir else None,
            allow_patterns=["*.json", "*.safetensors", "*.jinja", "*.txt"],
        )
    except Exception as exc:  # network errors, auth, missing repo: all end the same way for the user
        raise ConversionError(
            "DOWNLOAD_FAILED",
            f"Could not download {source} from the Hugging Face Hub ({type(exc).__name__}: {exc}). "
            "On a machine without access to the hub, download the checkpoint elsewhere and pass its directory.",
        ) from exc
    # snapshot_download returns .../snapshots/<commit>.
    return Resolved(Path(local), {"hub_id": source, "revision": Path(local).name})


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConversionError("BAD_JSON", f"{path.name} is not valid JSON ({exc.msg} at line {exc.lineno}).") from exc
    if not isinstance(data, dict):
        raise ConversionError("BAD_JSON", f"{path.name} must hold a JSON object.")
    return data


def safetensors_header(path: Path) -> dict:
    """Parse and bounds-check a safetensors header; raise TRUNCATED_WEIGHTS if the data region is cut short."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ConversionError("TRUNCATED_WEIGHTS", f"{path.name} is truncated: {size} bytes, no safetensors header.")
        (header_len,) = struct.unpack("<Q", head)
        if header_len > size - 8 or header_len > 100 * 1024 * 1024:
            raise ConversionError(
                "TRUNCATED_WEIGHTS",
                f"{path.name} is truncated or not a safetensors file: its header claims {header_len} bytes "
                f"but the file has {size}.",
            )
        try:
            header = json.loads(f.read(header_len))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ConversionError("BAD_WEIGHTS", f"{path.name} has an unreadable safetensors header.") from exc
    data_end = max((int(v["data_offsets"][1]) for k, v in header.items() if k != "__metadata__"), default=0)
    have = size - 8 - header_len
    if have < data_end:
        raise ConversionError(
            "TRUNCATED_WEIGHTS",
            f"{path.name} is truncated: its tensors need {data_end:,} bytes of data but only {have:,} are present "
            f"({100 * have / max(data_end, 1):.1f}%). Download it again.",
        )
    return header


def _weight_files(path: Path) -> tuple[Path, ...]:
    index = path / "model.safetensors.index.json"
    if index.exists():
        names = sorted(set(_read_json(index).get("weight_map", {}).values()))
        if not names:
            raise ConversionError("BAD_WEIGHTS", "model.safetensors.index.json lists no weight files.")
        missing = [n for n in names if not (path / n).exists()]
        if missing:
            raise ConversionError(
                "MISSING_FILE", f"model.safetensors.index.json lists {', '.join(missing)}, which is missing."
            )
        return tuple(path / n for n in names)
    single = path / "model.safetensors"
    if single.exists():
        return (single,)
    if any(path.glob("*.bin")) or any(path.glob("*.pt")):
        raise ConversionError(
            "UNSUPPORTED_WEIGHTS", "Only safetensors checkpoints are supported; this one has PyTorch .bin/.pt files."
        )
    raise ConversionError("MISSING_FILE", "model.safetensors (or model.safetensors.index.json) is missing.")


def validate(path: Path) -> Checkpoint:
    """Check a checkpoint directory without loading weights."""
    config_path = path / "config.json"
    if not config_path.exists():
        raise ConversionError("MISSING_FILE", f"config.json is missing from {path}.")
    config = _read_json(config_path)
    if any(key in config for key in OLD_FORMAT_KEYS) or "GlmasrModel" in json.dumps(config.get("auto_map", {})):
        raise ConversionError("OLD_FORMAT", OLD_FORMAT_HINT)
    model_type = config.get("model_type")
    if model_type != "glmasr":
        raise ConversionError(
            "WRONG_MODEL_TYPE",
            f"config.json has model_type {model_type!r}; this converter handles GLM-ASR checkpoints "
            "(model_type 'glmasr', GlmAsrForConditionalGeneration).",
        )
    for key in ("audio_config", "text_config"):
        if not isinstance(config.get(key), dict):
            raise ConversionError("BAD_CONFIG", f"config.json has no {key} object.")
    for name in REQUIRED_FILES:
        if not (path / name).exists():
            raise ConversionError("MISSING_FILE", f"{name} is missing from {path}.")
    if not any((path / name).exists() for name in PROCESSOR_FILES):
        raise ConversionError(
            "MISSING_FILE", f"Neither {' nor '.join(PROCESSOR_FILES)} is in {path}: the mel parameters are unknown."
        )
    tokenizer = _read_json(path / "tokenizer.json")
    added = {t.get("content") for t in tokenizer.get("added_tokens", [])}
    for token in ("<|pad|>", "<|user|>", "<|assistant|>", "<|begin_of_audio|>", "<|end_of_audio|>", "<|endoftext|>"):
        if token not in added:
            raise ConversionError("BAD_TOKENIZER", f"tokenizer.json has no special token {token}.")

    files = _weight_files(path)
    names: set[str] = set()
    for file in files:
        names.update(k for k in safetensors_header(file) if k != "__metadata__")
    if any(n.startswith(("audio_encoder.whisper.", "audio_encoder.adapting.")) for n in names):
        raise ConversionError("OLD_FORMAT", OLD_FORMAT_HINT)
    if not any("audio_tower." in n for n in names) or not any("embed_tokens" in n for n in names):
        raise ConversionError(
            "BAD_WEIGHTS", "The weights hold no audio_tower.* or embed_tokens tensors: this is not a GLM-ASR checkpoint."
        )
    return Checkpoint(path=path, config=config, weight_files=files, tensor_names=frozenset(names))
