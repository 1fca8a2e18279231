"""`python -m vad_oracle --model silero_vad_v5.onnx WAV...`: per file, the speech probability of every whole
512-sample frame at 16 kHz, as JSON {file: [p, ...]} on stdout.

The frame loop follows silero-vad's utils_vad.py `OnnxWrapper.__call__` (16 kHz): 64 samples of context from the
previous frame prepended (zeros at the start), a [2, 1, 128] float32 state carried between frames, `sr` an int64
scalar; one thread, the CPU provider.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import onnxruntime as ort
import soundfile as sf

FRAME, CONTEXT, RATE = 512, 64, 16000


def probabilities(session: ort.InferenceSession, audio: np.ndarray) -> list[float]:
    state = np.zeros((2, 1, 128), np.float32)
    context = np.zeros((1, CONTEXT), np.float32)
    out: list[float] = []
    for i in range(len(audio) // FRAME):
        x = np.concatenate([context, audio[None, i * FRAME : (i + 1) * FRAME]], axis=1)
        prob, state = session.run(None, {"input": x, "state": state, "sr": np.array(RATE, dtype=np.int64)})
        context = x[:, -CONTEXT:]
        out.append(float(prob[0, 0]))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="vad_oracle", description=__doc__)
    p.add_argument("--model", required=True)
    p.add_argument("files", nargs="+")
    args = p.parse_args(argv)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(args.model, opts, providers=["CPUExecutionProvider"])
    result = {}
    for f in args.files:
        audio, rate = sf.read(f, dtype="float32", always_2d=True)
        if rate != RATE:
            raise SystemExit(f"vad_oracle: {f} is {rate} Hz; the reference runs on 16 kHz audio")
        result[f] = probabilities(session, np.ascontiguousarray(audio[:, 0]))
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
