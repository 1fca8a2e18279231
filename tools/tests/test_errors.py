"""Bad checkpoints fail fast with a message naming the problem, and never leave an output directory behind."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[1]


def run_convert(src: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "glmasr_onnx", "convert", "--from", str(src), "--out", str(out), "--variants", "fp32",
         "--quiet", *extra],
        cwd=TOOLS,
        capture_output=True,
        text=True,
        timeout=600,
        env={"PYTHONPATH": str(TOOLS), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"},
    )


@pytest.fixture()
def checkpoint(artifacts, tmp_path) -> Path:
    dst = tmp_path / "ckpt"
    shutil.copytree(artifacts / "ckpt" / "tiny", dst)
    return dst


def assert_clean_failure(result, out: Path, code: str, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert f"error [{code}]" in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists(), "a failed conversion must not create the output directory"
    leftovers = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.")]
    assert not leftovers, f"temporary directories left behind: {leftovers}"


@pytest.mark.parametrize("missing", ["tokenizer.json", "config.json", "model.safetensors", "processor_config.json"])
def test_missing_file(checkpoint, tmp_path, missing):
    (checkpoint / missing).unlink()
    out = tmp_path / "out"
    result = run_convert(checkpoint, out)
    name = missing if missing != "processor_config.json" else "processor_config.json nor preprocessor_config.json"
    assert_clean_failure(result, out, "MISSING_FILE", name)


def test_old_format_checkpoint(checkpoint, tmp_path):
    config = json.loads((checkpoint / "config.json").read_text())
    config = {"architectures": ["GlmasrModel"], "model_type": "Glmasr", "whisper_config": config["audio_config"],
              "lm_config": config["text_config"], "merge_factor": 4, "use_rope": True}
    (checkpoint / "config.json").write_text(json.dumps(config))
    out = tmp_path / "out"
    assert_clean_failure(run_convert(checkpoint, out), out, "OLD_FORMAT", "2025-12-27", "download")


def test_other_model_type(checkpoint, tmp_path):
    config = json.loads((checkpoint / "config.json").read_text())
    config["model_type"] = "whisper"
    (checkpoint / "config.json").write_text(json.dumps(config))
    out = tmp_path / "out"
    assert_clean_failure(run_convert(checkpoint, out), out, "WRONG_MODEL_TYPE", "'whisper'", "glmasr")


def test_truncated_safetensors(checkpoint, tmp_path):
    weights = checkpoint / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) * 2 // 3])
    out = tmp_path / "out"
    assert_clean_failure(run_convert(checkpoint, out), out, "TRUNCATED_WEIGHTS", "model.safetensors", "truncated")


def test_weights_of_the_wrong_shape_fail_after_validation_without_output(checkpoint, tmp_path):
    """Passes the cheap checks, fails while loading: the partially built directory must still disappear."""
    config = json.loads((checkpoint / "config.json").read_text())
    config["text_config"]["intermediate_size"] += 8
    (checkpoint / "config.json").write_text(json.dumps(config))
    out = tmp_path / "out"
    result = run_convert(checkpoint, out)
    assert result.returncode == 2 and "error [" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".out.")]


def test_existing_output_is_not_overwritten_without_flag(checkpoint, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("user data")
    result = run_convert(checkpoint, out)
    assert result.returncode == 2 and "OUTPUT_EXISTS" in result.stderr
    assert (out / "keep.txt").read_text() == "user data"


def test_hub_id_without_network_is_a_clear_error(tmp_path):
    out = tmp_path / "out"
    result = run_convert(Path("zai-org/GLM-ASR-Nano-2512"), out)
    assert_clean_failure(result, out, "DOWNLOAD_FAILED", "zai-org/GLM-ASR-Nano-2512")
