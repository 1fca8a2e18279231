"""Cutting long audio into independent <=30 s windows (docs/model.md, Windows), the reference for the TypeScript
pipeline's `planWindows` (src/core/asr/windows.ts).  Both must pick the same cut points on the same samples, so the
rule is spelled out exactly and uses only sequential float64 sums, which are bit-identical in numpy and JS:

    WINDOW = 480000 samples (30 s at 16 kHz), SEARCH = 32000 (2 s), HALF = 160 (energy over 20 ms), HOP = 160
    start = 0
    while n - start > WINDOW:
        candidates c = start + WINDOW - SEARCH, ..., start + WINDOW  (step HOP)
        energy(c) = cs[min(c + HALF, n)] - cs[max(c - HALF, 0)]   with cs = prefix sum of float64(x)**2
        cut = the candidate with the lowest energy; on a tie the later one (the longer window)
        emit [start, cut); start = cut
    emit [start, n)

A window is never longer than 30 s, so each is one zero-padded Whisper window and matches the official single-window
prompt exactly.
"""

from __future__ import annotations

import numpy as np

WINDOW = 480_000
SEARCH = 32_000
HALF = 160
HOP = 160


def plan_windows(samples: np.ndarray) -> list[tuple[int, int]]:
    n = int(samples.shape[0])
    if n == 0:
        return []
    squares = samples.astype(np.float64) ** 2
    cs = np.concatenate([[0.0], np.cumsum(squares)])  # np.cumsum accumulates sequentially, like a JS loop
    out = []
    start = 0
    while n - start > WINDOW:
        best_c, best_e = -1, float("inf")
        for c in range(start + WINDOW - SEARCH, start + WINDOW + 1, HOP):
            e = cs[min(c + HALF, n)] - cs[max(c - HALF, 0)]
            if e <= best_e:
                best_c, best_e = c, e
        out.append((start, best_c))
        start = best_c
    out.append((start, n))
    return out


def audio_token_count(n_samples: int) -> int:
    """floor(ceil(ceil(n/160)/2)/4) for one window, as GlmAsrProcessor/_get_audio_token_length compute it."""
    mel = min(3000, -(-n_samples // 160))
    after_conv2 = (mel - 1) // 2 + 1
    return max(0, (after_conv2 - 4) // 4 + 1)
