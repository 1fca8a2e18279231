"""The fused decoder (onnxruntime-genai's builder) against the official transformers decoder, without speech data:
random `inputs_embeds`, a 40-token prefill and decode steps fed from the returned cache, logits compared at every
step.  Also: what manifest.json records about each graph is what the graph holds."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from glmasr_onnx.convert import load_official
from glmasr_onnx.checkpoint import resolve, validate
from glmasr_onnx.fused import op_counts
from glmasr_onnx.quantize import ACCURACY_LEVEL, VARIANT_SUFFIX

LOGITS_ATOL = 1e-4  # the fp32 parity bound of test_parity.py


def _official_steps(model, embeds: np.ndarray, steps: list[np.ndarray]) -> list[np.ndarray]:
    """Last-position logits of the prefill and of each following single-token step, through the official modules."""
    from transformers import DynamicCache

    lm, head = model.model.language_model, model.lm_head
    cache = DynamicCache()
    out = []
    with torch.no_grad():
        pos = 0
        for x in [embeds, *steps]:
            t = torch.from_numpy(x)
            ids = torch.arange(pos, pos + t.shape[1])[None]
            h = lm(inputs_embeds=t, position_ids=ids, past_key_values=cache, use_cache=True).last_hidden_state
            out.append(head(h[:, -1:]).float().numpy()[0, -1])
            pos += t.shape[1]
    return out


def test_fused_fp32_decoder_matches_official_with_cache(tiny):
    name, ckpt, model_dir, _g = tiny
    manifest = json.loads((model_dir / "manifest.json").read_text())
    graph = manifest["variants"]["fp32"]["graphs"]["decoder_model_merged"]
    assert graph["build"] == "fused"
    model = load_official(validate(resolve(str(ckpt)).path))
    hidden, layers = manifest["model"]["hidden_size"], manifest["model"]["num_layers"]
    kv, hd = manifest["model"]["num_key_value_heads"], manifest["model"]["head_dim"]
    rng = np.random.default_rng(7)
    embeds = rng.standard_normal((1, 40, hidden)).astype(np.float32)
    steps = [rng.standard_normal((1, 1, hidden)).astype(np.float32) for _ in range(6)]
    want = _official_steps(model, embeds, steps)

    session = ort.InferenceSession(str(model_dir / graph["files"][0]), providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]
    past = {f"past_key_values.{i}.{k}": np.zeros((1, kv, 0, hd), np.float32) for i in range(layers) for k in ("key", "value")}
    total, worst = 0, 0.0
    for x, ref in zip([embeds, *steps], want):
        total += x.shape[1]
        res = dict(zip(outputs, session.run(None, {"inputs_embeds": x, "attention_mask": np.ones((1, total), np.int64), **past})))
        assert res["logits"].shape == (1, 1, manifest["model"]["vocab_size"])
        worst = max(worst, float(np.abs(res["logits"][0, -1] - ref).max()))
        past = {f"past_key_values.{i}.{k}": res[f"present.{i}.{k}"] for i in range(layers) for k in ("key", "value")}
        assert past["past_key_values.0.key"].shape == (1, kv, total, hd)
    print(f"\n{name}: fused fp32 decoder vs official, prefill 40 + 6 steps: logits max |diff| {worst:.2e}")
    assert worst <= LOGITS_ATOL


@pytest.mark.parametrize("variant", list(VARIANT_SUFFIX))
def test_manifest_records_each_graphs_nodes_and_op_types(tiny, variant):
    _name, _ckpt, model_dir, _g = tiny
    manifest = json.loads((model_dir / "manifest.json").read_text())
    layers = manifest["model"]["num_layers"]
    for graph, info in manifest["variants"][variant]["graphs"].items():
        proto = onnx.load(str(model_dir / info["files"][0]), load_external_data=False)
        assert info["nodes"] == len(proto.graph.node)
        largest = next(t for t in proto.graph.initializer if t.name == info["largest_initializer"]["name"])
        if largest.raw_data:  # stored bytes, independent of the dtype arithmetic (int4 packs two per byte)
            assert info["largest_initializer"]["bytes"] == len(largest.raw_data)
        assert info["op_types"] == op_counts(proto)
        assert sum(info["op_types"].values()) == info["nodes"]
    dec = manifest["variants"][variant]["graphs"]["decoder_model_merged"]
    if variant in ("q4", "q4f16"):  # one level per variant and graph (quantize.ACCURACY_LEVEL says why)
        for graph, want in ACCURACY_LEVEL[variant].items():
            info = manifest["variants"][variant]["graphs"][graph]
            proto = onnx.load(str(model_dir / info["files"][0]), load_external_data=False)
            got = {
                next((a.i for a in n.attribute if a.name == "accuracy_level"), 0)
                for n in proto.graph.node
                if n.op_type == "MatMulNBits"
            }
            assert got == {want} and info["matmulnbits_accuracy_level"] == want, (graph, got)
    ops = dec["op_types"]
    assert ops["com.microsoft.GroupQueryAttention"] == layers
    assert ops["com.microsoft.SkipSimplifiedLayerNormalization"] == 2 * layers
    assert "Softmax" not in ops and "Concat" not in ops, "attention and the KV cache are inside GroupQueryAttention"
    matmul = "com.microsoft.MatMulNBits" if variant in ("q4", "q4f16") else "MatMul"
    # q/k/v fused into one projection: qkv, o, gate, up, down per layer, plus lm_head
    if variant != "q8":
        assert ops[matmul] == 5 * layers + 1
        # per layer: 2 norms, GQA, 5 projections, SiLU as Sigmoid*Mul, the gate product; a constant number besides
        # (q8's dynamic quantization adds DynamicQuantizeLinear/MatMulInteger/scale nodes around every MatMul)
        assert dec["nodes"] <= 11 * layers + 16, dec["nodes"]
