"""Every reduced-precision variant against the fp32 graphs on the golden inputs: the audio encoder's features, the
decoder's logits (teacher-forced along the fp32 decode, so one early difference does not make every later step
differ), the whole pipeline of the variant, and its embedding tables against their numpy dequantization (exact);
every 4-bit weight against its float original, and q4 against the fp32 graphs holding those weights dequantized.

The tiny models have random weights: their logits have small top-1 margins and 4-bit quantization of random
Gaussian weights is coarse, so the bounds are wide for q4.  Each is set from the values measured on both tiny models
(written beside it), with some room; a broken variant (the 4-bit packing test below) is far outside them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest
from conftest import load_goldens, need_goldens
from onnx import numpy_helper

from glmasr_onnx.ort_pipeline import OrtGlmAsr
from glmasr_onnx.quantize import ACCURACY_LEVEL, VARIANT_SUFFIX, to_q8

# Measured (onnxruntime 1.31.1 CPU, tiny / tiny-wide, 8 golden windows, 348 / 283 decoder steps; both measured again
# on 2026-12-07, tiny with its 2-head encoder):
#   encoder: the largest relative error of a window's features;
#   decoder: the variant's decoder fed the fp32 pipeline's embeddings, relative error of each step's logits
#            (median and 90th percentile over the steps) and the share of steps whose top-1 token is fp32's;
#   pipeline: the same with the variant's own encoder, embedding table and decoder.
BOUNDS = {
    # encoder 0.0007 / 0.0009; decoder median 0.0027 / 0.0044, p90 0.0051 / 0.0083, top-1 0.994 / 0.989;
    # pipeline median 0.0030 / 0.0050, p90 0.0054 / 0.0094, top-1 0.994 / 0.996
    "fp16": {"encoder": 0.0015, "decoder": (0.006, 0.012, 0.97), "pipeline": (0.007, 0.013, 0.97)},
    # encoder 0.028 / 0.033; decoder median 0.066 / 0.115, p90 0.122 / 0.201, top-1 0.876 / 0.774;
    # pipeline median 0.095 / 0.159, p90 0.182 / 0.282, top-1 0.842 / 0.678
    "q8": {"encoder": 0.045, "decoder": (0.15, 0.26, 0.7), "pipeline": (0.2, 0.35, 0.6)},
    # encoder 0.204 / 0.197; decoder median 0.47 / 0.62, p90 0.75 / 0.93, top-1 0.330 / 0.237;
    # pipeline median 0.57 / 0.69, p90 0.85 / 1.02, top-1 0.264 / 0.198
    "q4": {"encoder": 0.25, "decoder": (0.75, 1.05, 0.2), "pipeline": (0.8, 1.15, 0.15)},
    # encoder 0.205 / 0.198; decoder median 0.47 / 0.63, p90 0.74 / 0.94, top-1 0.333 / 0.240;
    # pipeline median 0.62 / 0.81, p90 0.95 / 1.11, top-1 0.227 / 0.173
    "q4f16": {"encoder": 0.25, "decoder": (0.75, 1.05, 0.2), "pipeline": (0.95, 1.25, 0.15)},
}


def rel(a: np.ndarray, b: np.ndarray) -> float:
    """Relative error of `a` against the reference `b` (Frobenius norms)."""
    return float(np.linalg.norm(a.astype(np.float64) - b) / np.linalg.norm(b))


def teacher_forced(pipe: OrtGlmAsr, embeds: np.ndarray, tokens: list[int], embed) -> np.ndarray:
    """Last-position logits of the prompt step and of each step fed the next of `tokens` (embedded by `embed`)."""
    kv, hd = pipe.model["num_key_value_heads"], pipe.model["head_dim"]
    names = [f"past_key_values.{i}.{k}" for i in range(pipe.layers) for k in ("key", "value")]
    past = {n: np.zeros((1, kv, 0, hd), pipe.kv_dtype) for n in names}
    logits, cur, done = [], embeds, 0
    for token in [None, *tokens[:-1]]:
        if token is not None:
            cur = embed(token)
        seq = cur.shape[1]
        feed = {
            "inputs_embeds": cur,
            "attention_mask": np.ones((1, done + seq), np.int64),
            "position_ids": np.arange(done, done + seq, dtype=np.int64)[None],
            "num_logits_to_keep": np.asarray(1, np.int64),
            **past,
        }
        feed = {k: v for k, v in feed.items() if k in pipe.decoder_inputs}
        out = dict(zip(pipe.decoder_outputs, pipe.decoder.run(None, feed)))
        logits.append(out["logits"][0, -1].astype(np.float64))
        done += seq
        past = {n: out[n.replace("past_key_values", "present")] for n in names}
    return np.stack(logits)


def embedder(pipe: OrtGlmAsr):
    return lambda token: pipe.embed.run(None, {"input_ids": np.asarray([[token]], np.int64)})[0]


@pytest.fixture(scope="session")
def fp32_reference(tiny):
    """Per golden window: its inputs, the fp32 features, prompt embeddings, greedy tokens and teacher-forced logits."""
    name, _ckpt, model_dir, goldens = tiny
    g, t = load_goldens(need_goldens(goldens))
    pipe = OrtGlmAsr(model_dir, "fp32")
    windows = []
    for clip in g["clips"]:
        for w, win in enumerate(clip["windows"]):
            mel = t[f"{clip['id']}/{w}/mel"][None]
            feats = pipe.encode(mel, [win["valid_frames"]])
            embeds = pipe.embed_prompt(win["prompt_ids"], feats)
            tokens, _first = pipe.greedy(embeds, g["max_new_tokens"], g["eos_token_ids"])
            logits = teacher_forced(pipe, embeds, tokens, embedder(pipe))
            windows.append(
                {"mel": mel, "win": win, "feats": feats, "embeds": embeds, "tokens": tokens, "logits": logits}
            )
    return name, model_dir, pipe, windows


def measure(pipe: OrtGlmAsr, ref_pipe: OrtGlmAsr, windows: list[dict]) -> dict:
    """The figures BOUNDS limits, for `pipe` against the fp32 reference."""
    encoder, dec_err, dec_top, pipe_err, pipe_top = [], [], [], [], []
    for w in windows:
        feats = pipe.encode(w["mel"], [w["win"]["valid_frames"]])
        assert feats.shape == w["feats"].shape and np.isfinite(feats).all()
        encoder.append(rel(feats, w["feats"]))
        ref = w["logits"]
        own_prompt = pipe.embed_prompt(w["win"]["prompt_ids"], feats)
        for logits, err, top in (
            (teacher_forced(pipe, w["embeds"], w["tokens"], embedder(ref_pipe)), dec_err, dec_top),
            (teacher_forced(pipe, own_prompt, w["tokens"], embedder(pipe)), pipe_err, pipe_top),
        ):
            assert np.isfinite(logits).all()
            err.extend(rel(a, b) for a, b in zip(logits, ref))
            top.extend(logits.argmax(1) == ref.argmax(1))

    def summary(err, top):
        return float(np.median(err)), float(np.percentile(err, 90)), float(np.mean(top))

    return {
        "encoder": max(encoder),
        "decoder": summary(dec_err, dec_top),
        "pipeline": summary(pipe_err, pipe_top),
        "steps": len(dec_err),
    }


def violations(figures: dict, bounds: dict) -> list[str]:
    out = []
    if not figures["encoder"] <= bounds["encoder"]:
        out.append(f"encoder features: relative error {figures['encoder']:.4f} > {bounds['encoder']}")
    for part in ("decoder", "pipeline"):
        (median, p90, top1), (b_median, b_p90, b_top1) = figures[part], bounds[part]
        if not median <= b_median:
            out.append(f"{part} logits: median relative error {median:.4f} > {b_median}")
        if not p90 <= b_p90:
            out.append(f"{part} logits: 90th percentile relative error {p90:.4f} > {b_p90}")
        if not top1 >= b_top1:
            out.append(f"{part} logits: top-1 agreement {top1:.3f} < {b_top1}")
    return out


@pytest.mark.parametrize("variant", list(BOUNDS))
def test_variant_features_and_logits_stay_close_to_fp32(fp32_reference, variant):
    name, model_dir, ref_pipe, windows = fp32_reference
    figures = measure(OrtGlmAsr(model_dir, variant), ref_pipe, windows)
    d, p = figures["decoder"], figures["pipeline"]
    print(
        f"\n{name} {variant} vs fp32 ({len(windows)} windows, {figures['steps']} steps): "
        f"encoder rel {figures['encoder']:.4f}; decoder rel median {d[0]:.4f} p90 {d[1]:.4f} top-1 {d[2]:.3f}; "
        f"pipeline rel median {p[0]:.4f} p90 {p[1]:.4f} top-1 {p[2]:.3f}"
    )
    assert violations(figures, BOUNDS[variant]) == []


def _swap_nibbles(model: onnx.ModelProto) -> int:
    """A packing bug: every MatMulNBits weight with its two 4-bit halves of each byte exchanged."""
    swapped = 0
    weights = {n.input[1] for n in model.graph.node if n.op_type == "MatMulNBits"}
    for init in model.graph.initializer:
        if init.name in weights:
            b = numpy_helper.to_array(init)
            init.CopyFrom(numpy_helper.from_array(((b >> 4) | (b << 4)).astype(np.uint8), init.name))
            swapped += 1
    return swapped


def test_the_bounds_catch_a_4bit_packing_error(fp32_reference, tmp_path):
    """The bounds are not loose enough to pass a broken variant: q4 with its nibbles swapped fails them."""
    name, model_dir, ref_pipe, windows = fp32_reference
    broken = tmp_path / name
    shutil.copytree(model_dir, broken)
    for graph in ("audio_encoder", "decoder_model_merged"):
        path = broken / "onnx" / f"{graph}{VARIANT_SUFFIX['q4']}.onnx"
        model = onnx.load(str(path))
        assert _swap_nibbles(model) > 0
        onnx.save(model, str(path))
    figures = measure(OrtGlmAsr(broken, "q4"), ref_pipe, windows)
    missed = violations(figures, BOUNDS["q4"])
    print(f"\n{name} q4 with swapped nibbles: {figures} -> {missed}")
    assert any(m.startswith("encoder") for m in missed) and any(m.startswith("decoder") for m in missed), missed


def _graph(model_dir: Path, graph: str, variant: str) -> tuple[Path, onnx.ModelProto]:
    path = model_dir / "onnx" / f"{graph}{VARIANT_SUFFIX[variant]}.onnx"
    return path, onnx.load(str(path))


def _table(model_dir: Path, variant: str, vocab: int) -> np.ndarray:
    """Every row of the variant's embedding graph, as onnxruntime computes it (the pipeline's own session)."""
    session = OrtGlmAsr(model_dir, variant).embed
    return session.run(None, {"input_ids": np.arange(vocab, dtype=np.int64)[None]})[0][0]


def _unpack_int4(raw: bytes, shape: tuple[int, ...]) -> np.ndarray:
    """ONNX INT4: two's complement, two per byte, the first element in the low nibble."""
    b = np.frombuffer(raw, np.uint8)
    nibbles = np.stack([b & 0x0F, b >> 4], axis=-1).reshape(-1)[: int(np.prod(shape))].astype(np.int16)
    return np.where(nibbles >= 8, nibbles - 16, nibbles).reshape(shape)


def test_q4f16_embedding_is_exactly_its_numpy_dequantization(tiny):
    name, _ckpt, model_dir, _g = tiny
    model_info = json.loads((model_dir / "manifest.json").read_text())["model"]
    vocab, hidden = model_info["vocab_size"], model_info["hidden_size"]
    _path, model = _graph(model_dir, "embed_tokens", "q4f16")
    (node,) = [n for n in model.graph.node if n.op_type == "GatherBlockQuantized"]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert attrs == {"block_size": 32, "gather_axis": 0, "quantize_axis": 1}, attrs
    assert len(node.input) == 3, "symmetric: no zero points (an int4 table's zero point is 0)"
    inits = {t.name: t for t in model.graph.initializer}
    q, scales = inits[node.input[0]], numpy_helper.to_array(inits[node.input[2]])
    assert q.data_type == onnx.TensorProto.INT4 and list(q.dims) == [vocab, hidden] and q.raw_data
    assert scales.dtype == np.float16 and scales.shape == (vocab, hidden // 32)
    codes = _unpack_int4(q.raw_data, (vocab, hidden))
    # The product of a code and its block's scale is exact in float32, rounded once to the table's float16.
    want = (codes.astype(np.float32) * np.repeat(scales.astype(np.float32), 32, axis=1)).astype(np.float16)
    got = _table(model_dir, "q4f16", vocab)
    assert got.dtype == np.float32
    assert np.array_equal(got, want.astype(np.float32)), f"{np.count_nonzero(got != want)} entries differ"
    # And the codes are the fp16 table's quantization: a weight away from the clipped end (the symmetric range is
    # [-8, 7], the block's largest magnitude at -8) is within half a step of its value, plus the float16 rounding of
    # the scale and the product; at the clipped end, within one step.  Measured on tiny / tiny-wide: at most
    # 0.5033 / 0.5019 steps inside, 0.9985 / 1.0024 at +7.
    fp16 = _table(model_dir, "fp16", vocab)
    steps = np.abs(want.astype(np.float32) - fp16) / np.repeat(scales.astype(np.float32), 32, axis=1)
    inner, edge = steps[codes < 7].max(), steps[codes == 7].max(initial=0.0)
    print(f"\n{name}: q4f16 table vs fp16 table: at most {inner:.4f} steps inside, {edge:.4f} at +7")
    assert codes.min() >= -8 and codes.max() <= 7
    assert inner <= 0.51 and edge <= 1.01


def test_q8_embedding_is_exactly_its_numpy_dequantization(tiny):
    _name, _ckpt, model_dir, _g = tiny
    vocab = json.loads((model_dir / "manifest.json").read_text())["model"]["vocab_size"]
    _path, model = _graph(model_dir, "embed_tokens", "q8")
    (gather,) = [n for n in model.graph.node if n.op_type == "Gather"]
    (deq,) = [n for n in model.graph.node if n.op_type == "DequantizeLinear"]
    assert deq.input[0] == gather.output[0]
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    q, scale, zero = inits[gather.input[0]], inits[deq.input[1]], inits[deq.input[2]]
    assert q.dtype == np.uint8 and scale.shape == () and zero.shape == ()
    want = (q.astype(np.int32) - int(zero)).astype(np.float32) * scale.astype(np.float32)
    got = _table(model_dir, "q8", vocab)
    assert np.array_equal(got, want), f"{np.count_nonzero(got != want)} entries differ"


def _matmulnbits_weights(model: onnx.ModelProto) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Each MatMulNBits node's weight dequantized in numpy, as the float MatMul's [K, N] initializer it replaced
    (named as that initializer), with its codes (-8..7) and the size of its block's step: 4-bit codes stored
    [N, K/block, block/2], the first of two in the low nibble, unsigned with the zero point 2^(bits-1) = 8 implied
    (no zero_points input), times the block's scale."""
    inits = {t.name: t for t in model.graph.initializer}
    out = {}
    for node in model.graph.node:
        if node.op_type != "MatMulNBits":
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        k, n, block = attrs["K"], attrs["N"], attrs["block_size"]
        assert attrs["bits"] == 4 and len(node.input) == 3, (node.name, attrs, list(node.input))
        packed = numpy_helper.to_array(inits[node.input[1]])
        assert packed.dtype == np.uint8 and packed.shape == (n, k // block, block // 2)
        codes = np.stack([packed & 0x0F, packed >> 4], axis=-1).reshape(n, k).astype(np.float32) - 8
        scales = np.repeat(numpy_helper.to_array(inits[node.input[2]]).astype(np.float32).reshape(n, -1), block, axis=1)
        out[node.input[1].removesuffix("_Q4")] = ((codes * scales).T, codes.T, np.abs(scales).T)
    return out


@pytest.mark.parametrize("variant, base", [("q4", "fp32"), ("q4f16", "fp16")])
def test_4bit_weights_are_the_float_weights_quantized(tiny, variant, base):
    """Every 4-bit weight is its float graph's weight rounded to its block's step: the q4 error above is rounding,
    not a wrong weight.  The scale is the block's largest magnitude over -8 (that weight is code -8 exactly), so the
    other sign's end, code +7, is where a weight is clipped by up to one step; elsewhere it is within half a step.
    Measured on tiny and tiny-wide, q4 and q4f16: 0.5000 steps elsewhere, 0.9994-1.0000 at +7."""
    name, _ckpt, model_dir, _g = tiny
    worst_inner = worst_edge = 0.0
    for graph in ("audio_encoder", "decoder_model_merged"):
        quantized = _matmulnbits_weights(_graph(model_dir, graph, variant)[1])
        floats = {t.name: t for t in _graph(model_dir, graph, base)[1].graph.initializer}
        assert quantized and set(quantized) <= set(floats), f"{graph}: weights without a float original"
        for weight, (deq, codes, step) in quantized.items():
            w = numpy_helper.to_array(floats[weight]).astype(np.float32)
            assert w.shape == deq.shape, (weight, w.shape, deq.shape)
            err = np.abs(deq - w) / step
            worst_inner = max(worst_inner, float(err[codes < 7].max()))
            worst_edge = max(worst_edge, float(err[codes == 7].max(initial=0.0)))
    print(f"\n{name} {variant} weights vs {base}: at most {worst_inner:.4f} steps elsewhere, {worst_edge:.4f} at +7")
    assert worst_inner <= 0.5 + 1e-3 and worst_edge <= 1.0 + 1e-3


def _at_accuracy_level(model_dir: Path, out: Path, variant: str, level: int) -> Path:
    """A copy of `model_dir` whose `variant` MatMulNBits nodes run at accuracy `level` (same weights)."""
    shutil.copytree(model_dir, out)
    for graph in ("audio_encoder", "decoder_model_merged"):
        path, model = _graph(out, graph, variant)
        for node in model.graph.node:
            if node.op_type == "MatMulNBits":
                kept = [a for a in node.attribute if a.name != "accuracy_level"]
                del node.attribute[:]
                node.attribute.extend([*kept, onnx.helper.make_attribute("accuracy_level", level)])
        onnx.save(model, str(path))
    return out


def _fp32_with_q4_weights(model_dir: Path, out: Path) -> Path:
    """The fp32 graphs with each MatMul weight replaced by the q4 graph's weight dequantized in numpy."""
    shutil.copytree(model_dir, out)
    for graph in ("audio_encoder", "decoder_model_merged"):
        weights = _matmulnbits_weights(_graph(model_dir, graph, "q4")[1])
        path, model = _graph(out, graph, "fp32")
        replaced = 0
        for init in model.graph.initializer:
            if init.name in weights:
                init.CopyFrom(numpy_helper.from_array(weights[init.name][0], init.name))
                replaced += 1
        assert replaced == len(weights)
        onnx.save(model, str(path))
    return out


def _drift(windows, ref: OrtGlmAsr, pipe: OrtGlmAsr) -> tuple[float, float]:
    """Largest relative error over the golden windows of `pipe`'s audio features and teacher-forced logits (fed
    `ref`'s greedy tokens) against `ref`'s."""
    worst_features = worst_logits = 0.0
    for w in windows:
        mel, valid = w["mel"], [w["win"]["valid_frames"]]
        f_ref, f_got = ref.encode(mel, valid), pipe.encode(mel, valid)
        worst_features = max(worst_features, rel(f_got, f_ref))
        want = teacher_forced(ref, ref.embed_prompt(w["win"]["prompt_ids"], f_ref), w["tokens"], embedder(ref))
        got = teacher_forced(pipe, pipe.embed_prompt(w["win"]["prompt_ids"], f_got), w["tokens"], embedder(pipe))
        worst_logits = max(worst_logits, max(rel(a, b) for a, b in zip(got, want)))
    return worst_features, worst_logits


def test_q4_computes_the_fp32_model_with_its_4bit_weights(fp32_reference, tmp_path):
    """q4 against an independent reference: the fp32 graphs with each MatMul weight replaced by its numpy
    dequantization.  Run at accuracy level 0 (float32 activations), what is left is summation order."""
    name, model_dir, _ref_pipe, windows = fp32_reference
    fake = OrtGlmAsr(_fp32_with_q4_weights(model_dir, tmp_path / "fake"), "fp32")
    q4 = OrtGlmAsr(_at_accuracy_level(model_dir, tmp_path / "level0", "q4", 0), "q4")
    worst_features, worst_logits = _drift(windows, fake, q4)
    print(f"\n{name}: q4 (level 0) vs fp32 with dequantized weights: features {worst_features:.2e}, "
          f"logits {worst_logits:.2e}")
    # Measured (largest relative error over the windows, and over the steps): features 0 / 5.8e-7, logits
    # 4.4e-6 / 1.1e-5 on tiny / tiny-wide; the whole q4 drift from fp32 above is the weights' rounding.
    assert worst_features <= 5e-6 and worst_logits <= 5e-5


def test_q4_int8_activations_add_a_bounded_drift(fp32_reference, tmp_path):
    """The q4 variant as converted runs its decoder's matrix products at accuracy level 4 (int8 activations,
    quantize.py; its encoder at 0): the drift that adds to the logits, against the same fp32-with-dequantized-weights
    reference, is bounded from measurement; and the levels are the ones the server's speed was measured with."""
    name, model_dir, _ref_pipe, windows = fp32_reference
    for graph, want in (("audio_encoder", 0), ("decoder_model_merged", 4)):
        levels = {
            next((a.i for a in n.attribute if a.name == "accuracy_level"), 0)
            for n in _graph(model_dir, graph, "q4")[1].graph.node
            if n.op_type == "MatMulNBits"
        }
        assert levels == {ACCURACY_LEVEL["q4"][graph]} == {want}, (graph, levels)
    fake = OrtGlmAsr(_fp32_with_q4_weights(model_dir, tmp_path / "fake"), "fp32")
    worst_features, worst_logits = _drift(windows, fake, OrtGlmAsr(model_dir, "q4"))
    print(f"\n{name}: q4 (level 4) vs fp32 with dequantized weights: features {worst_features:.2e}, "
          f"logits {worst_logits:.2e}")
    # Measured (largest relative error over the windows, and over the steps): features 0 / 5.8e-7 (the encoder at
    # level 0: float32 activations), logits 0.125 / 0.202 on tiny / tiny-wide (the weights' own rounding,
    # test_variant_features_..., is 0.47-0.62 of the logits).
    assert worst_features <= 5e-6 and worst_logits <= 0.22


@pytest.mark.parametrize("graph", ["audio_encoder", "decoder_model_merged"])
def test_q8_int8_weights_compute_exactly_the_uint8_ones(fp32_reference, tmp_path, graph):
    """q8's audio encoder and decoder store their MatMulInteger weights and zero points as int8 (quantize.int8_weights,
    for the CPU's U8S8 GEMM), and the manifest says so.  The reference is quantize_dynamic's own uint8 graph, made here
    from the fp32 graph (`to_q8`): every int8 weight and zero point is its uint8 one minus 128, and it gives bit-equal
    features, and bit-equal logits at every step of every golden window's greedy decode."""
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    if not any(f in flags.split() for f in ("avx512_vnni", "avx_vnni", "asimddp")):
        pytest.skip("bit-equal only with int8 dot products (VNNI, ARM asimddp): x86 without them may saturate U8S8")
    name, model_dir, _ref_pipe, windows = fp32_reference
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert manifest["variants"]["q8"]["graphs"][graph]["matmulinteger_weights"] == "int8"
    _path, signed = _graph(model_dir, graph, "q8")
    uint8_path = tmp_path / "q8-uint8" / f"{graph}.onnx"
    uint8_path.parent.mkdir()
    fp32_path = model_dir / "onnx" / f"{graph}{VARIANT_SUFFIX['fp32']}.onnx"
    to_q8(fp32_path, uint8_path, external=fp32_path.with_name(fp32_path.name + "_data").exists())
    unsigned_model = onnx.load(str(uint8_path))
    inits = {t.name: numpy_helper.to_array(t) for t in signed.graph.initializer}
    uinits = {t.name: numpy_helper.to_array(t) for t in unsigned_model.graph.initializer}
    matmuls = [n for n in signed.graph.node if n.op_type == "MatMulInteger"]
    assert matmuls and len(matmuls) == sum(n.op_type == "MatMulInteger" for n in unsigned_model.graph.node)
    for n in matmuls:
        for x in (n.input[1], n.input[3]):
            assert inits[x].dtype == np.int8 and uinits[x].dtype == np.uint8, x
            assert np.array_equal(inits[x].astype(np.int16), uinits[x].astype(np.int16) - 128), x
    unsigned = tmp_path / name
    shutil.copytree(model_dir, unsigned)
    onnx.save(unsigned_model, str(_graph(unsigned, graph, "q8")[0]))
    signed_pipe, unsigned_pipe = OrtGlmAsr(model_dir, "q8"), OrtGlmAsr(unsigned, "q8")
    for w in windows:
        mel, valid = w["mel"], [w["win"]["valid_frames"]]
        feats = signed_pipe.encode(mel, valid)
        if graph == "audio_encoder":
            assert np.array_equal(feats, unsigned_pipe.encode(mel, valid))
            continue
        embeds = signed_pipe.embed_prompt(w["win"]["prompt_ids"], feats)
        tokens, _first = signed_pipe.greedy(embeds, len(w["tokens"]), [])
        embed = embedder(signed_pipe)
        signed_logits = teacher_forced(signed_pipe, embeds, tokens, embed)
        assert np.array_equal(signed_logits, teacher_forced(unsigned_pipe, embeds, tokens, embed))
