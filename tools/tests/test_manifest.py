"""The model directory the app downloads: every file listed with size and sha256, tokens read from the tokenizer."""

from __future__ import annotations

import hashlib
import json

import onnxruntime as ort
import pytest

from glmasr_onnx.ort_schemas import check_model
from glmasr_onnx.quantize import VARIANT_SUFFIX


def test_manifest_lists_every_file_with_size_and_hash(tiny):
    _name, _ckpt, model_dir, _g = tiny
    manifest = json.loads((model_dir / "manifest.json").read_text())
    listed = {f["path"]: f for f in manifest["files"]}
    on_disk = {p.relative_to(model_dir).as_posix() for p in model_dir.rglob("*") if p.is_file()}
    assert on_disk - {"manifest.json"} == set(listed)
    for path, entry in listed.items():
        data = (model_dir / path).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    for variant, info in manifest["variants"].items():
        assert set(info["graphs"]) == {"audio_encoder", "embed_tokens", "decoder_model_merged"}
        for graph, g in info["graphs"].items():
            assert g["files"][0] == f"onnx/{graph}{VARIANT_SUFFIX[variant]}.onnx"
            assert g["bytes"] == sum(listed[f]["bytes"] for f in g["files"])
            assert g["largest_initializer"]["bytes"] > 0


def test_special_tokens_come_from_the_tokenizer(tiny):
    _name, ckpt, model_dir, _g = tiny
    manifest = json.loads((model_dir / "manifest.json").read_text())
    tokenizer = json.loads((ckpt / "tokenizer.json").read_text())
    added = {t["content"]: t["id"] for t in tokenizer["added_tokens"]}
    assert manifest["special_tokens"] == added
    assert manifest["model"]["audio_token_id"] == added["<|pad|>"]
    gen = json.loads((model_dir / "generation_config.json").read_text())
    assert gen["eos_token_id"] == [added["<|endoftext|>"], added["<|user|>"], added["<|observation|>"]]
    assert gen["do_sample"] is False


@pytest.mark.parametrize("variant", list(VARIANT_SUFFIX))
def test_every_variant_passes_the_checker_and_loads(tiny, variant):
    _name, _ckpt, model_dir, _g = tiny
    for graph in ("audio_encoder", "embed_tokens", "decoder_model_merged"):
        path = model_dir / "onnx" / f"{graph}{VARIANT_SUFFIX[variant]}.onnx"
        # onnx.checker on every graph (the path form: external data is checked where it lies), onnxruntime's own
        # operators against onnxruntime's schemas; the fused decoder holds some in the default domain and in
        # com.microsoft, and the q4 graphs' MatMulNBits, q4f16's GatherBlockQuantized are com.microsoft too.
        ort_only = check_model(path)
        if graph == "decoder_model_merged":
            assert "ai.onnx.SimplifiedLayerNormalization" in ort_only and "com.microsoft.GroupQueryAttention" in ort_only
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        if graph == "decoder_model_merged":
            layers = json.loads((model_dir / "manifest.json").read_text())["model"]["num_layers"]
            past = {f"past_key_values.{i}.{k}" for i in range(layers) for k in ("key", "value")}
            assert set(names) == {"inputs_embeds", "attention_mask", *past}
            outputs = [o.name for o in session.get_outputs()]
            assert set(outputs) == {"logits", *(p.replace("past_key_values", "present") for p in past)}
        # float graph I/O stays float32 in every variant (keep_io_types); only the KV cache may be float16
        for io in [*session.get_inputs(), *session.get_outputs()]:
            if "key" in io.name or "value" in io.name:
                expected = "tensor(float16)" if variant in ("fp16", "q4f16") else "tensor(float)"
                assert io.type == expected, (graph, io.name, io.type)
            elif io.type.startswith("tensor(float"):
                assert io.type == "tensor(float)", (graph, io.name, io.type)
