"""onnx.checker with onnxruntime's schemas (glmasr_onnx.ort_schemas): the fused decoder passes it, a broken node of
an onnxruntime-only operator fails it (plain onnx.checker would not look at it), and nothing stays registered."""

from __future__ import annotations

import onnx
import pytest

from glmasr_onnx.convert import check_graph
from glmasr_onnx.errors import ConversionError
from glmasr_onnx.ort_schemas import check_model, ort_schemas


def _save_broken(tmp_path, model_dir, name: str, op_type: str, breaks) -> str:
    model = onnx.load(str(model_dir / "onnx" / name))
    node = next(n for n in model.graph.node if n.op_type == op_type)
    breaks(node)
    path = tmp_path / name
    onnx.save(model, str(path))
    return path


def _drop_attribute(name: str):
    def drop(node):
        kept = [a for a in node.attribute if a.name != name]
        assert len(kept) < len(node.attribute), f"{node.op_type} has no {name}"
        del node.attribute[:]
        node.attribute.extend(kept)

    return drop


def test_plain_checker_rejects_the_fused_decoder_and_ours_passes_it(tiny):
    _name, _ckpt, model_dir, _g = tiny
    path = model_dir / "onnx" / "decoder_model_merged.onnx"
    with pytest.raises(onnx.checker.ValidationError, match="SimplifiedLayerNormalization"):
        onnx.checker.check_model(str(path))
    assert "ai.onnx.SimplifiedLayerNormalization" in check_model(path)
    # Registered only while checking: onnx rejects it again afterwards.
    with pytest.raises(onnx.checker.ValidationError, match="SimplifiedLayerNormalization"):
        onnx.checker.check_model(str(path))


@pytest.mark.parametrize(
    "graph, op_type, breaks, message",
    [
        # a required attribute missing
        ("decoder_model_merged.onnx", "GroupQueryAttention", _drop_attribute("num_heads"), "num_heads"),
        ("audio_encoder_q4.onnx", "MatMulNBits", _drop_attribute("K"), "K"),
        # an input too many for the schema
        ("decoder_model_merged.onnx", "SimplifiedLayerNormalization", lambda n: n.input.append(n.input[0]), "input"),
        # an attribute of the wrong type
        (
            "embed_tokens_q4f16.onnx",
            "GatherBlockQuantized",
            lambda n: next(a for a in n.attribute if a.name == "block_size").CopyFrom(
                onnx.helper.make_attribute("block_size", 32.0)
            ),
            "block_size",
        ),
    ],
)
def test_a_broken_onnxruntime_operator_fails_the_check(tiny, tmp_path, graph, op_type, breaks, message):
    _name, _ckpt, model_dir, _g = tiny
    path = _save_broken(tmp_path, model_dir, graph, op_type, breaks)
    with pytest.raises(onnx.checker.ValidationError, match=message):
        check_model(path)
    with pytest.raises(ConversionError, match="CHECKER_FAILED|onnx.checker rejected"):
        check_graph(path)
    if not graph.startswith("decoder_model_merged"):  # (there onnx rejects SimplifiedLayerNormalization first)
        # Without the schemas the checker skips a com.microsoft node unseen: the break passes.
        onnx.checker.check_model(str(path))


def test_schemas_are_forgotten_after_a_failed_check(tiny, tmp_path):
    _name, _ckpt, model_dir, _g = tiny
    path = _save_broken(tmp_path, model_dir, "audio_encoder_q4.onnx", "MatMulNBits", _drop_attribute("K"))
    with pytest.raises(onnx.checker.ValidationError):
        check_model(path)
    assert not onnx.defs.has("MatMulNBits", 1, "com.microsoft")
    with ort_schemas(onnx.load(str(path))) as names:
        assert names == ["com.microsoft.MatMulNBits"] and onnx.defs.has("MatMulNBits", 1, "com.microsoft")
    assert not onnx.defs.has("MatMulNBits", 1, "com.microsoft")


def test_a_graph_with_external_weights_is_checked_where_they_lie(tiny, tmp_path):
    """The full-size graphs keep their weights in .onnx_data files (over protobuf's 2 GiB): the checker reads them
    by path, never loading them into one message."""
    _name, _ckpt, model_dir, _g = tiny
    model = onnx.load(str(model_dir / "onnx" / "decoder_model_merged_q4.onnx"))
    path = tmp_path / "decoder_model_merged_q4.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, location=path.name + "_data", size_threshold=0)
    assert (tmp_path / (path.name + "_data")).stat().st_size > 0
    head = onnx.load(str(path), load_external_data=False)
    assert all(not t.raw_data for t in head.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL)
    assert "com.microsoft.MatMulNBits" in check_model(path)
    check_graph(path)
