"""A conversion stopped midway resumes: finished steps are verified and kept, the result is byte-identical to an
uninterrupted conversion (the test artifacts' own), a damaged step file is redone, and the output never appears
before it is complete."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _convert(ckpt: Path, out: Path, variants: str = "q4") -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tools")}
    args = [sys.executable, "-m", "glmasr_onnx", "convert", "--from", str(ckpt), "--out", str(out)]
    return subprocess.Popen(
        [*args, "--variants", variants, "--progress-json"], env=env, stderr=subprocess.PIPE, text=True
    )


def _events(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def _run(ckpt: Path, out: Path) -> list[dict]:
    p = _convert(ckpt, out)
    _, err = p.communicate(timeout=600)
    assert p.returncode == 0, err
    return _events(err)


def test_stopped_conversion_resumes_byte_identical(artifacts, tmp_path):
    ckpt, reference = artifacts / "ckpt" / "tiny", artifacts / "models" / "tiny"
    out = tmp_path / "models" / "tiny"
    # Stop it (SIGTERM, as a stopped server does) once the variants are being built.
    p = _convert(ckpt, out)
    lines: list[str] = []
    assert p.stderr is not None
    for line in p.stderr:
        lines.append(line)
        if '"stage": "variant"' in line:
            p.send_signal(signal.SIGTERM)
            break
    p.wait(timeout=60)
    assert p.returncode == -signal.SIGTERM
    assert not out.exists(), "a stopped conversion must not leave anything that looks like a model"
    work = out.parent / ".tiny.partial"
    done = json.loads((work / "steps.json").read_text())["steps"]
    assert {"llama", "base-fp32", "fused-fp32"} <= set(done)

    # Damage one finished step's file: that step (only) is redone.
    damaged = work / done["base-fp32"]["result"]["audio_encoder"]
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"\0")
    t0 = time.monotonic()
    events = _run(ckpt, out)
    skipped = {e["message"].split(" ")[0] for e in events if e["stage"] == "skip"}
    assert {"llama", "fused-fp32"} <= skipped
    assert "base-fp32" not in skipped
    assert any(e["stage"] == "resume" for e in events)
    assert events[-1]["stage"] == "done" and events[-1]["step"] == events[-1]["steps"]
    print(f"resumed in {time.monotonic() - t0:.1f} s")
    assert not work.exists()

    # The resumed model is byte for byte the uninterrupted conversion's (the artifacts' tiny, same converter).
    ours = json.loads((out / "manifest.json").read_text())
    theirs = {f["path"]: f["sha256"] for f in json.loads((reference / "manifest.json").read_text())["files"]}
    for f in ours["files"]:
        if f["path"].startswith("onnx/"):
            assert f["sha256"] == theirs[f["path"]], f["path"]
    assert ours["source"] == {"path": ckpt.resolve().name}


def test_a_different_conversion_starts_over(artifacts, tmp_path):
    ckpt = artifacts / "ckpt" / "tiny"
    out = tmp_path / "m"
    work = tmp_path / ".m.partial"
    work.mkdir()
    (work / "steps.json").write_text(json.dumps({"key": {"converter": "other"}, "steps": {"llama": {}}}))
    (work / "leftover").write_text("x")
    events = _run(ckpt, out)
    assert not any(e["stage"] in ("skip", "resume") for e in events)
    assert (out / "manifest.json").exists() and not work.exists()
