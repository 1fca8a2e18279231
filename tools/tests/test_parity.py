"""onnxruntime (Python) on the converted fp32 graphs reproduces the official implementation's goldens."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_goldens, need_goldens

from glmasr_onnx.ort_pipeline import OrtGlmAsr
from glmasr_onnx.windows import WINDOW

LOGITS_ATOL = 1e-4  # first-step logits, fp32 graphs vs PyTorch (the conversion's acceptance bound; never loosened)


def test_fp32_graphs_match_official_goldens(tiny):
    name, _ckpt, model_dir, goldens = tiny
    g, t = load_goldens(need_goldens(goldens))
    pipe = OrtGlmAsr(model_dir, "fp32")
    worst_logits = worst_features = 0.0
    for clip in g["clips"]:
        for w, win in enumerate(clip["windows"]):
            key = f"{clip['id']}/{w}"
            feats = pipe.encode(t[f"{key}/mel"][None], [win["valid_frames"]])
            assert feats.shape == t[f"{key}/audio_features"].shape
            worst_features = max(worst_features, float(np.abs(feats - t[f"{key}/audio_features"]).max()))
            ids, first = pipe.greedy(pipe.embed_prompt(win["prompt_ids"], feats), g["max_new_tokens"], g["eos_token_ids"])
            diff = float(np.abs(first - t[f"{key}/logits0"]).max())
            worst_logits = max(worst_logits, diff)
            assert diff <= LOGITS_ATOL, f"{key}: first-step logits differ by {diff:.2e}"
            assert ids == win["token_ids"], f"{key}: greedy tokens differ"
    print(
        f"\n{name}: fp32 ONNX vs official: first-step logits max |diff| {worst_logits:.2e} (bound {LOGITS_ATOL:.0e}), "
        f"audio_features max |diff| {worst_features:.2e}, smallest reference top-1 margin {g['min_margin']:.2e}"
    )


def test_multi_window_prompt_matches_official(tiny):
    """HF's own >30 s prompt (all windows' audio rows in one prompt) through the encoder with W=2 windows."""
    name, _ckpt, model_dir, goldens = tiny
    g, t = load_goldens(need_goldens(goldens))
    pipe = OrtGlmAsr(model_dir, "fp32")
    long = [c for c in g["clips"] if "hf_multi_window" in c]
    assert long, "the goldens must contain a clip over 30 s"
    for clip in long:
        hw = clip["hf_multi_window"]
        mel = t[f"{clip['id']}/hf/mel"]
        assert mel.shape[0] == len(hw["input_features_mask_sums"]) >= 2
        feats = pipe.encode(mel, hw["input_features_mask_sums"])
        np.testing.assert_allclose(feats, t[f"{clip['id']}/hf/audio_features"], atol=2e-4, rtol=0)
        ids, first = pipe.greedy(pipe.embed_prompt(hw["prompt_ids"], feats), g["max_new_tokens"], g["eos_token_ids"])
        assert float(np.abs(first - t[f"{clip['id']}/hf/logits0"]).max()) <= LOGITS_ATOL
        assert ids == hw["token_ids"]


def test_long_clip_is_cut_into_independent_windows(tiny):
    _name, _ckpt, _model, goldens = tiny
    g, _t = load_goldens(need_goldens(goldens))
    for clip in g["clips"]:
        wins = clip["windows"]
        assert wins[0]["start"] == 0 and wins[-1]["end"] == clip["samples"]
        for a, b in zip(wins, wins[1:]):
            assert a["end"] == b["start"]
        for win in wins:
            assert win["end"] - win["start"] <= WINDOW
        if clip["samples"] > WINDOW:
            assert len(wins) >= 2
            cut = wins[0]["end"]
            assert WINDOW - 32000 <= cut <= WINDOW, "the cut must fall in the 2 s before the 30 s mark"


@pytest.mark.parametrize("variant", ["fp16", "q8", "q4", "q4f16"])
def test_variants_load_run_and_report_drift(tiny, variant):
    name, _ckpt, model_dir, goldens = tiny
    g, t = load_goldens(need_goldens(goldens))
    pipe = OrtGlmAsr(model_dir, variant)
    agree = total = 0
    drift = 0.0
    for clip in g["clips"]:
        for w, win in enumerate(clip["windows"]):
            key = f"{clip['id']}/{w}"
            feats = pipe.encode(t[f"{key}/mel"][None], [win["valid_frames"]])
            assert feats.shape == t[f"{key}/audio_features"].shape and np.isfinite(feats).all()
            ids, first = pipe.greedy(pipe.embed_prompt(win["prompt_ids"], feats), g["max_new_tokens"], g["eos_token_ids"])
            assert np.isfinite(first).all() and first.std() > 0, "a variant must not return constant or NaN logits"
            drift = max(drift, float(np.abs(first - t[f"{key}/logits0"]).max()))
            same = next((i for i, (a, b) in enumerate(zip(ids, win["token_ids"])) if a != b), len(win["token_ids"]))
            agree, total = agree + same, total + len(win["token_ids"])
    print(f"\n{name} {variant}: token prefix agreement with fp32 {100 * agree / total:.1f}%, first-step logits max drift {drift:.3e}")
