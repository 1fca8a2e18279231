"""The audio encoder's attention runs in blocks of query rows (export.query_block_attention): the graph holds no
whole heads x 1500 x 1500 scores tensor, and it computes exactly what the official module exported as it is does."""

from __future__ import annotations

import json
import math

import numpy as np
import onnx
import onnxruntime as ort
from transformers import AutoConfig

from glmasr_onnx.export import ENCODER_QUERY_ROWS, N_FRAMES, N_MELS, export_audio_encoder, load_model
from glmasr_onnx.manifest import ATTENTION_QUERY_ROWS_KEY

ROWS = N_FRAMES // 2  # the encoder's sequence: 3000 mel frames after the stride-2 convolution


def _inputs():
    rng = np.random.default_rng(7)
    feats = rng.standard_normal((2, N_MELS, N_FRAMES)).astype(np.float32)
    mask = np.ones((2, N_FRAMES), np.int64)
    mask[1, 1700:] = 0
    return {"input_features": feats, "input_features_mask": mask}


def test_encoder_scores_are_blocks_of_query_rows(tiny):
    """Every Softmax of the converted encoder, run on one window: [1, heads, rows <= ENCODER_QUERY_ROWS, 1500]."""
    _name, ckpt, model_dir, _goldens = tiny
    config = AutoConfig.from_pretrained(ckpt).audio_config
    graph = onnx.load(model_dir / "onnx" / "audio_encoder.onnx")
    scores = [n.output[0] for n in graph.graph.node if n.op_type == "Softmax"]
    graph.graph.output.extend(onnx.ValueInfoProto(name=name) for name in scores)
    inputs = {k: v[:1] for k, v in _inputs().items()}
    shapes = [out.shape for out in ort.InferenceSession(graph.SerializeToString()).run(scores, inputs)]
    assert len(shapes) == config.num_hidden_layers * math.ceil(ROWS / ENCODER_QUERY_ROWS)
    heads = config.num_attention_heads
    assert all(s[:2] == (1, heads) and s[3] == ROWS and s[2] <= ENCODER_QUERY_ROWS for s in shapes), shapes
    per_layer = shapes[: len(shapes) // config.num_hidden_layers]
    assert sum(s[2] for s in per_layer) == ROWS
    # The manifest tells the app what these shapes are (its planner keeps a one-call encoder off WebGPU): every
    # variant's encoder, the rows of the largest block measured here, and the heads.
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert {v["graphs"]["audio_encoder"]["attention_query_rows"] for v in manifest["variants"].values()} == {
        max(s[2] for s in shapes)
    }
    assert manifest["model"]["audio_num_attention_heads"] == heads


def test_blocks_compute_what_one_call_computes(tiny, tmp_path):
    """Bit-equal on onnxruntime's CPU: every output row is the same dot products, softmax and weighted sum."""
    _name, ckpt, model_dir, _goldens = tiny
    model = load_model(ckpt)
    # A blocked export leaves the model's own attention as it was.
    export_audio_encoder(model, tmp_path / "audio_encoder_blocks.onnx")
    assert model.model.audio_tower.config._attn_implementation == "eager"
    reference = tmp_path / "audio_encoder_one_call.onnx"
    export_audio_encoder(model, reference, query_blocks=False)
    one_call_graph = onnx.load(reference, load_external_data=False)
    softmax = sum(n.op_type == "Softmax" for n in one_call_graph.graph.node)
    assert softmax == model.config.audio_config.num_hidden_layers
    # Only the blocked export says it is blocked (the manifest's attention_query_rows comes from this metadata).
    assert not one_call_graph.metadata_props
    blocked = {p.key: p.value for p in onnx.load(tmp_path / "audio_encoder_blocks.onnx").metadata_props}
    assert blocked == {ATTENTION_QUERY_ROWS_KEY: str(ENCODER_QUERY_ROWS)}
    one_call = ort.InferenceSession(str(reference)).run(None, _inputs())
    blocks = ort.InferenceSession(str(model_dir / "onnx" / "audio_encoder.onnx")).run(None, _inputs())
    np.testing.assert_array_equal(blocks[0], one_call[0])
    np.testing.assert_array_equal(blocks[1], one_call[1])
