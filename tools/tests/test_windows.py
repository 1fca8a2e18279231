"""The window planner and the audio-token formula (shared with the TypeScript pipeline)."""

from __future__ import annotations

import numpy as np
import pytest

from glmasr_onnx.windows import HOP, SEARCH, WINDOW, audio_token_count, plan_windows


def test_short_audio_is_one_window():
    assert plan_windows(np.zeros(0, np.float32)) == []
    assert plan_windows(np.ones(10, np.float32)) == [(0, 10)]
    assert plan_windows(np.ones(WINDOW, np.float32)) == [(0, WINDOW)]


def test_cut_lands_in_the_quietest_spot_before_30s():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(WINDOW + 100_000).astype(np.float32)
    quiet = WINDOW - 16_000  # 29 s
    x[quiet - 400 : quiet + 400] = 0
    wins = plan_windows(x)
    assert len(wins) == 2
    cut = wins[0][1]
    assert abs(cut - quiet) <= HOP
    assert wins == [(0, cut), (cut, x.shape[0])]


def test_ties_prefer_the_longer_window():
    x = np.zeros(WINDOW * 2 + 5, np.float32)  # digital silence: every candidate ties
    wins = plan_windows(x)
    assert wins[0] == (0, WINDOW)
    assert all(e - s <= WINDOW for s, e in wins)
    assert wins[-1][1] == x.shape[0]


def test_windows_never_exceed_30s_and_cover_everything():
    rng = np.random.default_rng(1)
    x = rng.standard_normal(WINDOW * 4 + 12_345).astype(np.float32)
    wins = plan_windows(x)
    assert wins[0][0] == 0 and wins[-1][1] == x.shape[0]
    for (s, e), (s2, _e2) in zip(wins, wins[1:]):
        assert e == s2 and WINDOW - SEARCH <= e - s <= WINDOW


@pytest.mark.parametrize("n", [0, 1, 160, 960, 961, 1120, 16000, 160000, 169600, 479_999, 480_000])
def test_audio_token_count_matches_the_official_processor(n):
    import torch
    from transformers import GlmAsrProcessor

    mel = min(3000, -(-n // 160))
    official = GlmAsrProcessor._get_audio_token_length(None, torch.tensor([mel])).item()
    assert audio_token_count(n) == max(0, official)


def test_spec_worked_examples():
    assert audio_token_count(169_600) == 132  # example_en.wav, 10.6 s
    assert audio_token_count(96_000) == 75  # example_zh.wav, 6.0 s
    assert audio_token_count(480_000) == 375
