"""Checkpoint -> model directory the app downloads: onnx/{graph}{suffix}.onnx (+ .onnx_data), configs, tokenizer and a
manifest.json with every file's size and sha256.

The output is assembled in a hidden sibling directory and moved into place only when complete, so an interrupted or
failed run never leaves a directory that looks like a model (the app also requires manifest.json, written last).
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import onnx

from . import __version__
from .checkpoint import PASSTHROUGH_FILES, Checkpoint, resolve, validate
from .errors import ConversionError
from .fused import op_counts
from .manifest import ATTENTION_QUERY_ROWS_KEY, build_manifest, checkpoint_digest, summary_table  # noqa: F401 (summary_table: the CLI's)
from .steps import OutputLock, Steps, files_under, with_data
from .quantize import (
    ACCURACY_LEVEL,
    ALL_VARIANTS,
    VARIANT_SUFFIX,
    initializer_bytes,
    inline_initializer_identities,
    int8_weights,
    largest_initializer,
    to_q4,
    to_q4_embedding,
    to_q8,
)

GRAPHS = ("audio_encoder", "embed_tokens", "decoder_model_merged")
# Every graph keeps its weights in external data (`<graph>.onnx_data`), whatever its size: required above protobuf's
# 2 GiB, and in the browser the only way weights reach onnxruntime without a copy.  onnxruntime-web reads a mounted
# external-data file tensor by tensor (a WebGPU initializer is uploaded from it straight to its GPU buffer), and the
# app's store hands it the stored pieces, not one buffer (workers/model-store/piece-bytes.ts); weights inside the
# .onnx would instead be copied whole into the WASM heap, which never shrinks.  Tensors under 1 KiB stay inline.
EXTERNAL_DATA_THRESHOLD = 0


@dataclass
class Reporter:
    """Progress on stderr: '[seconds] stage message' lines, or with `json` one JSON object per line
    ({"t", "stage", "message", "step", "steps"}: step/steps counts the conversion's steps, for a progress bar)."""

    quiet: bool = False
    json: bool = False
    t0: float = field(default_factory=time.monotonic)
    step: int = 0
    steps: int = 0

    def __call__(self, stage: str, message: str) -> None:
        if self.quiet:
            return
        t = time.monotonic() - self.t0
        if self.json:
            line = {"t": round(t, 1), "stage": stage, "message": message, "step": self.step, "steps": self.steps}
            print(json.dumps(line), file=sys.stderr, flush=True)
        else:
            print(f"[{t:7.1f}s] {stage:<10} {message}", file=sys.stderr, flush=True)


def special_token_ids(checkpoint: Path) -> dict[str, int]:
    tokenizer = json.loads((checkpoint / "tokenizer.json").read_text(encoding="utf-8"))
    return {t["content"]: int(t["id"]) for t in tokenizer.get("added_tokens", []) if t.get("special", True)}


def save_graph(model: onnx.ModelProto, path: Path) -> list[Path]:
    """Write one graph, with its weights in `<name>.onnx_data` (EXTERNAL_DATA_THRESHOLD).  Returns the files written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if initializer_bytes(model) > EXTERNAL_DATA_THRESHOLD:
        data = path.with_name(path.name + "_data")
        if data.exists():
            data.unlink()
        onnx.save_model(
            model,
            str(path),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=data.name,
            size_threshold=1024,
        )
        return [path, data] if data.exists() else [path]
    onnx.save_model(model, str(path))
    return [path]


def check_graph(path: Path) -> None:
    """onnx.checker on every graph, the fused decoder's included: the operators only onnxruntime defines
    (SimplifiedLayerNormalization in the default domain, the com.microsoft ones) are checked against onnxruntime's
    own schemas (ort_schemas.py).  A graph holding such operators is also loaded by onnxruntime, which checks their
    types as the checker cannot."""
    from .ort_schemas import check_model

    try:
        ort_only = check_model(path)
    except onnx.checker.ValidationError as exc:
        raise ConversionError("CHECKER_FAILED", f"onnx.checker rejected {path.name}: {exc}") from exc
    if not ort_only:
        return
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.log_severity_level = 3
    try:
        ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ConversionError("CHECKER_FAILED", f"onnxruntime rejected {path.name}: {exc}") from exc


def load_official(ckpt: Checkpoint):
    """The official class, fp32, eager attention (plain MatMul/Softmax in the graph)."""
    import torch
    from transformers import GlmAsrForConditionalGeneration

    try:
        model, info = GlmAsrForConditionalGeneration.from_pretrained(
            ckpt.path, dtype=torch.float32, attn_implementation="eager", output_loading_info=True
        )
    except Exception as exc:
        raise ConversionError("LOAD_FAILED", f"transformers could not load {ckpt.path}: {exc}") from exc
    missing = [k for k in info.get("missing_keys", []) if not k.endswith("lm_head.weight")]
    if missing:
        shown = ", ".join(sorted(missing)[:5])
        raise ConversionError(
            "MISSING_WEIGHTS", f"The checkpoint lacks {len(missing)} weights the model needs (e.g. {shown})."
        )
    mismatched = info.get("mismatched_keys", [])
    if mismatched:
        raise ConversionError("BAD_WEIGHTS", f"Weights with shapes that do not match config.json: {mismatched[:5]}.")
    return model.eval()


def export_base(model, dtype_name: str, work: Path, report: Reporter, fused: bool) -> dict[str, Path]:
    """Export the three graphs from `model` (already in the wanted dtype) into work/<dtype_name>/.  With `fused`, the
    decoder is built by onnxruntime-genai's builder from work/llama (see fused.py) instead of the op-by-op export."""
    from .export import export_audio_encoder, export_decoder, export_embed_tokens

    paths = {}
    for graph, fn in zip(GRAPHS, (export_audio_encoder, export_embed_tokens, export_decoder)):
        if graph == "decoder_model_merged" and fused:
            continue  # built by fused_decoder_base once the torch model is freed
        raw = work / "raw" / graph / f"{graph}.onnx"
        report("export", f"{graph} ({dtype_name}) ...")
        fn(model, raw)
        # Re-save through onnx so large graphs get one external data file instead of one file per tensor.
        proto = inline_initializer_identities(onnx.load(str(raw)))
        paths[graph] = save_graph(proto, work / dtype_name / f"{graph}.onnx")[0]
        shutil.rmtree(raw.parent)
    return paths


def attention_query_rows(exported: Path) -> dict:
    """{"attention_query_rows": N} for an audio encoder exported with its attention in query blocks (the metadata
    export.py writes), else {}: the app takes an encoder without it for one converted before the blocks."""
    props = {p.key: p.value for p in onnx.load(str(exported), load_external_data=False).metadata_props}
    rows = props.get(ATTENTION_QUERY_ROWS_KEY)
    return {"attention_query_rows": int(rows)} if rows else {}


def accuracy_levels(model: onnx.ModelProto) -> dict:
    """{"matmulnbits_accuracy_level": N} when the graph has MatMulNBits nodes (all at one level), read from them."""
    levels = {
        next((a.i for a in n.attribute if a.name == "accuracy_level"), 0)
        for n in model.graph.node
        if n.op_type == "MatMulNBits"
    }
    if not levels:
        return {}
    if len(levels) > 1:
        raise ConversionError("INTERNAL", f"MatMulNBits nodes at several accuracy levels: {sorted(levels)}")
    return {"matmulnbits_accuracy_level": levels.pop()}


def integer_weights(model: onnx.ModelProto) -> dict:
    """{"matmulinteger_weights": "int8" | "uint8"} when the graph has MatMulInteger nodes (all alike), read from their
    weight initializers: what tells the server a q8 whose products run on the CPU's U8S8 GEMM (server/api/models.ts)
    from one converted before its decoder's weights were signed."""
    inits = {t.name: t.data_type for t in model.graph.initializer}
    kinds = {inits.get(n.input[1]) for n in model.graph.node if n.op_type == "MatMulInteger"}
    if not kinds:
        return {}
    names = {onnx.TensorProto.INT8: "int8", onnx.TensorProto.UINT8: "uint8"}
    if len(kinds) > 1 or not kinds <= names.keys():
        raise ConversionError("INTERNAL", f"MatMulInteger weights of several or unknown types: {sorted(map(str, kinds))}")
    return {"matmulinteger_weights": names[kinds.pop()]}


def fused_decoder_base(dtype_name: str, work: Path, report: Reporter) -> Path:
    from .fused import build_fused_decoder

    report("export", f"decoder_model_merged ({dtype_name}, fused by onnxruntime-genai's builder) ...")
    proto = build_fused_decoder(work / "llama", dtype_name, work)
    return save_graph(proto, work / dtype_name / "decoder_model_merged.onnx")[0]


# Which exported base each variant starts from.
VARIANT_BASE = {"fp32": "fp32", "q8": "fp32", "q4": "fp32", "fp16": "fp16", "q4f16": "fp16"}


def build_variant(variant: str, graph: str, base: Path, out_onnx: Path, work: Path) -> list[Path]:
    target = out_onnx / f"{graph}{VARIANT_SUFFIX[variant]}.onnx"
    if variant == "q8":
        tmp = work / "q8" / f"{graph}.onnx"
        tmp.parent.mkdir(parents=True, exist_ok=True)
        to_q8(base, tmp, external=base.with_name(base.name + "_data").exists())
        model = onnx.load(str(tmp))
        # The audio encoder's and the decoder's int8 weights signed: their many-row products (the encoder's 1500 rows,
        # a prompt's ~390) on the CPU's U8S8 GEMM (quantize.int8_weights).  The embedding is a Gather: nothing to sign.
        try:
            signed = int8_weights(model) if graph != "embed_tokens" else 1
        except ValueError as err:
            raise ConversionError("INTERNAL", f"q8 {graph}: {err}") from err
        if not signed:
            raise ConversionError("INTERNAL", f"the q8 {graph} has no uint8 MatMulInteger weight to sign")
        return save_graph(model, target)
    model = onnx.load(str(base))
    if variant in ("q4", "q4f16") and graph != "embed_tokens":
        model = to_q4(model, ACCURACY_LEVEL[variant][graph])
    # The embedding table: 4-bit (GatherBlockQuantized) in q4f16, the WebGPU variant; q4 keeps the float32 table, as
    # model directories converted before the app's WASM backend moved to onnxruntime-web's plain build (which has that
    # op; the WebGPU build does not) were made, so old and new q4 compute alike (sizes: docs/model.md).
    if variant == "q4f16" and graph == "embed_tokens":
        model = to_q4_embedding(model)
    return save_graph(model, target)


def write_generation_config(ckpt: Checkpoint, out: Path) -> list[int]:
    eos = ckpt.text_config.get("eos_token_id")
    src = ckpt.path / "generation_config.json"
    gen = json.loads(src.read_text(encoding="utf-8")) if src.exists() else {}
    eos = gen.get("eos_token_id", eos)
    if isinstance(eos, int):
        eos = [eos]
    if not eos:
        raise ConversionError("BAD_CONFIG", "No EOS token ids in generation_config.json or text_config.eos_token_id.")
    gen.update({"eos_token_id": eos, "do_sample": False})
    gen.setdefault("max_new_tokens", 500)
    (out / "generation_config.json").write_text(json.dumps(gen, indent=2) + "\n")
    return list(eos)


def convert(
    source: str,
    out: Path,
    variants: tuple[str, ...],
    *,
    model_id: str | None = None,
    overwrite: bool = False,
    fused: bool = True,
    revision: str | None = None,
    report: Reporter | None = None,
) -> dict:
    """Convert `source` (a checkpoint directory or a hub id, pinned to `revision` if given) into `out`.

    Resumable: the work directory `.{out.name}.partial` beside `out` keeps every finished step (steps.py), so a run
    stopped or killed midway continues where it was when started again with the same arguments."""
    report = report or Reporter()
    bad = [v for v in variants if v not in ALL_VARIANTS]
    if bad or not variants:
        raise ConversionError("BAD_ARGUMENT", f"Unknown variant(s) {bad}; choose from {', '.join(ALL_VARIANTS)}.")
    out = Path(out).resolve()
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ConversionError("OUTPUT_EXISTS", f"{out} exists and is not empty; pass --overwrite to replace it.")

    report("validate", f"checkpoint {source}{f' @ {revision}' if revision else ''}")
    resolved = resolve(source, revision=revision)
    ckpt = validate(resolved.path)
    tokens = special_token_ids(ckpt.path)
    report("validate", f"ok: {len(ckpt.tensor_names)} tensors in {len(ckpt.weight_files)} file(s)")

    with OutputLock(out):
        work = out.parent / f".{out.name}.partial"
        key = {
            "converter": __version__,
            "checkpoint": checkpoint_digest(ckpt),
            # Same sizes, other weights (a hub commit moved, a file replaced): start over, never mix.
            "source": resolved.record,
            "weights": [[w.name, w.stat().st_size, w.stat().st_mtime_ns] for w in ckpt.weight_files],
            "variants": list(variants),
            "fused": fused,
        }
        steps = Steps(work, key)
        try:
            return _convert_steps(
                ckpt, resolved, out, work, steps, variants, fused, tokens, model_id, report
            )
        except ConversionError:
            # Before any step finished (bad weights, a checkpoint that does not load) there is nothing to resume:
            # nothing is left behind.  After that (a builder killed for memory, say) the finished steps stay for the
            # next run, which verifies them; an interruption (a signal) leaves them too.
            if not steps.done:
                shutil.rmtree(work, ignore_errors=True)
            raise


def _convert_steps(ckpt, resolved, out: Path, work: Path, steps: Steps, variants, fused: bool, tokens, model_id, report):
    """The conversion's steps inside its lock and work directory (see convert)."""
    if steps.resumed:
        report("resume", f"{work}: {len(steps.done)} finished step(s) kept from an earlier run")
    stage = work / "model"
    dtypes = [d for d in ("fp32", "fp16") if any(VARIANT_BASE[v] == d for v in variants)]
    report.steps = int(fused) + len(dtypes) * (1 + int(fused)) + len(variants) * len(GRAPHS) + 1

    def run_step(name: str, fn, files_of) -> dict:
        """Reuse the step's verified result, or run it and record the files it wrote."""
        report.step += 1
        kept = steps.reuse(name)
        if kept is not None:
            report("skip", f"{name} (done in an earlier run, verified)")
            return kept
        result = fn()
        steps.record(name, files_of(result), result)
        return result

    need_torch = (fused and steps.reuse("llama") is None) or any(
        steps.reuse(f"base-{d}") is None for d in dtypes
    )
    model = None
    if need_torch:
        report("load", "GlmAsrForConditionalGeneration (fp32, eager attention)")
        model = load_official(ckpt)
    if fused:

        def llama() -> dict:
            from .fused import standalone_llama

            report("export", "text decoder as a standalone Llama for the builder")
            if (work / "llama").exists():
                shutil.rmtree(work / "llama")
            standalone_llama(model, ckpt.path, work / "llama")
            return {"dir": "llama"}

        run_step("llama", llama, lambda r: files_under(work / r["dir"]))

    bases: dict[str, dict[str, Path]] = {}
    for dtype_name in dtypes:

        def base(dtype_name: str = dtype_name) -> dict:
            nonlocal model
            if dtype_name == "fp16":
                from .export import to_half

                model = to_half(model)
            paths = export_base(model, dtype_name, work, report, fused)
            return {g: p.relative_to(work).as_posix() for g, p in paths.items()}

        rel = run_step(f"base-{dtype_name}", base, lambda r: with_data([work / p for p in r.values()]))
        bases[dtype_name] = {g: work / p for g, p in rel.items()}
    del model
    gc.collect()
    if fused:  # the builder's process loads the decoder weights again: the full model is freed first
        for dtype_name in dtypes:
            rel = run_step(
                f"fused-{dtype_name}",
                lambda d=dtype_name: {"path": fused_decoder_base(d, work, report).relative_to(work).as_posix()},
                lambda r: with_data([work / r["path"]]),
            )
            bases[dtype_name]["decoder_model_merged"] = work / rel["path"]

    manifest_graphs: dict[str, dict] = {}
    for variant in variants:
        manifest_graphs[variant] = {}
        for graph in GRAPHS:

            def build(variant: str = variant, graph: str = graph) -> dict:
                report("variant", f"{variant:<6} {graph}")
                files = build_variant(variant, graph, bases[VARIANT_BASE[variant]][graph], stage / "onnx", work)
                check_graph(files[0])
                # Sizes come from dims and dtypes, so the (possibly external) weights need not be read.
                head = onnx.load(str(files[0]), load_external_data=False)
                name, size, dims = largest_initializer(head)
                return {
                    "files": [f.relative_to(stage).as_posix() for f in files],
                    "bytes": sum(f.stat().st_size for f in files),
                    "largest_initializer": {"name": name, "bytes": size, "dims": dims},
                    "build": "fused" if fused and graph == "decoder_model_merged" else "export",
                    "nodes": len(head.graph.node),
                    "op_types": op_counts(head),
                    **accuracy_levels(head),
                    **integer_weights(head),
                    **attention_query_rows(bases[VARIANT_BASE[variant]][graph]),
                }

            manifest_graphs[variant][graph] = run_step(
                f"variant-{variant}-{graph}", build, lambda r: [stage / f for f in r["files"]]
            )

    report.step += 1
    report("package", "configs, tokenizer, manifest")
    for name in PASSTHROUGH_FILES:
        if (ckpt.path / name).exists() and name != "generation_config.json":
            shutil.copy2(ckpt.path / name, stage / name)
    eos = write_generation_config(ckpt, stage)
    manifest = build_manifest(ckpt, stage, manifest_graphs, tokens, eos, model_id or ckpt.path.name, report)
    manifest["source"] = resolved.record
    (stage / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        out.rename(old)
        stage.rename(out)
        shutil.rmtree(old)
    else:
        stage.rename(out)
    shutil.rmtree(work, ignore_errors=True)
    report("done", f"{out}")
    return manifest
