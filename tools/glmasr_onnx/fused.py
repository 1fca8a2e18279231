"""The fused decoder: GLM-ASR's text decoder is a plain Llama, so onnxruntime-genai's model builder (PyPI
`onnxruntime-genai`) builds it as a handful of contrib ops per layer instead of the op-by-op export:

    SkipSimplifiedLayerNormalization (residual add + RMSNorm), one MatMul for q/k/v, GroupQueryAttention with the
    rotary embedding inside (cos/sin caches as initializers, positions from the attention mask), MatMul o_proj,
    SkipSimplifiedLayerNormalization, gate/up MatMuls, SiLU as Sigmoid*Mul, down MatMul; last-token lm_head.

The builder is given the official model's own `language_model` and `lm_head` weights (a standalone
LlamaForCausalLM, `exclude_embeds` so the graph takes `inputs_embeds`, `prune_lm_head` so only the last position's
logits are computed).  The graph keeps the pipeline's tensor names; it has no `position_ids` and no
`num_logits_to_keep` (GroupQueryAttention derives positions from `attention_mask`, which is all ones here, so they
equal 0..P+S-1 exactly as before).  The float16 build takes and returns float32 `inputs_embeds`/`logits` (a Cast at
each end, keep_io_types like the other f16 graphs) and keeps a float16 KV cache.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .errors import ConversionError

# Builder precision and execution provider per exported dtype.  The "webgpu" fp16 build is the generic
# GroupQueryAttention graph (the builder's CPU fp16 build uses MultiHeadAttention plus a rotary subgraph instead);
# onnxruntime's CPU EP runs it too.
BUILDER_TARGET = {"fp32": ("fp32", "cpu"), "fp16": ("fp16", "webgpu")}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


def standalone_llama(model, checkpoint: Path, out: Path) -> None:
    """The official model's text decoder as a LlamaForCausalLM directory (weights untied, fp32)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    text = model.config.text_config.to_dict()
    text["tie_word_embeddings"] = False
    text["torch_dtype"] = "float32"
    config = LlamaConfig.from_dict(text)
    with torch.device("meta"):
        llama = LlamaForCausalLM(config)
    llama.model = model.model.language_model
    llama.lm_head = torch.nn.Linear(config.hidden_size, config.vocab_size, bias=False)
    llama.lm_head.weight = torch.nn.Parameter(model.lm_head.weight.detach().float().clone())
    llama.float().save_pretrained(out, safe_serialization=True)
    for name in TOKENIZER_FILES:
        shutil.copy2(checkpoint / name, out / name)


def run_builder(llama_dir: Path, out: Path, dtype: str) -> Path:
    precision, ep = BUILDER_TARGET[dtype]
    cmd = [
        sys.executable,
        "-m",
        "onnxruntime_genai.models.builder",
        "-i",
        str(llama_dir),
        "-o",
        str(out),
        "-p",
        precision,
        "-e",
        ep,
        "-c",
        str(out.parent / "builder-cache"),
        "--extra_options",
        "exclude_embeds=true",
        "prune_lm_head=true",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not (out / "model.onnx").exists():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise ConversionError("BUILDER_FAILED", f"onnxruntime-genai's model builder failed ({precision}, {ep}):\n{tail}")
    return out / "model.onnx"


def _cast_io(model: onnx.ModelProto, name: str, is_input: bool) -> None:
    """Make graph input/output `name` float32 with a Cast to/from the graph's float16 inside."""
    graph = model.graph
    values = graph.input if is_input else graph.output
    value = next(v for v in values if v.name == name)
    if value.type.tensor_type.elem_type != TensorProto.FLOAT16:
        return
    inner = f"{name}_fp16"
    if is_input:
        for node in graph.node:
            for i, x in enumerate(node.input):
                if x == name:
                    node.input[i] = inner
        graph.node.insert(0, helper.make_node("Cast", [name], [inner], to=TensorProto.FLOAT16, name=f"{name}/Cast"))
    else:
        for node in graph.node:
            for i, x in enumerate(node.output):
                if x == name:
                    node.output[i] = inner
        graph.node.append(helper.make_node("Cast", [inner], [name], to=TensorProto.FLOAT, name=f"{name}/Cast"))
    value.type.tensor_type.elem_type = TensorProto.FLOAT


def check_rotary(model: onnx.ModelProto, text_config: dict) -> None:
    """The builder's cos cache must be the one the config's rope parameters give (it reads rope_theta itself)."""
    rope = text_config.get("rope_parameters") or {}
    theta = float(rope.get("rope_theta", text_config.get("rope_theta", 10000.0)))
    if rope.get("rope_type", "default") != "default":
        raise ConversionError("UNSUPPORTED_ROPE", f"rope_type {rope.get('rope_type')!r}: only 'default' is converted.")
    head_dim = text_config.get("head_dim") or text_config["hidden_size"] // text_config["num_attention_heads"]
    cos = next((t for t in model.graph.initializer if t.name == "cos_cache"), None)
    if cos is None:
        raise ConversionError("BUILDER_FAILED", "the fused decoder has no cos_cache initializer")
    got = numpy_helper.to_array(cos).astype(np.float32)
    inv = 1.0 / theta ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    want = np.cos(np.arange(got.shape[0], dtype=np.float64)[:, None] * inv[None, :])
    err = float(np.abs(got - want).max())
    if got.shape != want.shape or err > 2e-3:
        raise ConversionError("BUILDER_FAILED", f"the fused decoder's rotary cache differs from theta={theta} ({err:.2e})")


def build_fused_decoder(llama_dir: Path, dtype: str, work: Path) -> onnx.ModelProto:
    """The fused decoder graph in `dtype` from a `standalone_llama` directory."""
    built = run_builder(llama_dir, work / f"builder-{dtype}", dtype)
    proto = onnx.load(str(built))
    check_rotary(proto, json.loads((llama_dir / "config.json").read_text()))
    _cast_io(proto, "inputs_embeds", is_input=True)
    _cast_io(proto, "logits", is_input=False)
    shutil.rmtree(built.parent)
    return proto


def op_counts(model: onnx.ModelProto) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in model.graph.node:
        key = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))
