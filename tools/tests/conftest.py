"""Shared fixtures: the artifacts built by scripts/test-artifacts.sh (tiny checkpoints, their conversion, goldens)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("GLMASR_TEST_ARTIFACTS", ROOT / "build" / "test-artifacts"))
SPEECH = Path(os.environ.get("SPEECH_DIR", ROOT.parent / "shared" / "data" / "speech"))
TINY_NAMES = ("tiny", "tiny-wide")


def pytest_report_header(config):
    return [f"test artifacts: {ARTIFACTS}", f"speech data: {SPEECH} ({'present' if SPEECH.exists() else 'ABSENT'})"]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    if not (ARTIFACTS / ".stamp").exists():
        pytest.fail(f"{ARTIFACTS} is not built: run scripts/test-artifacts.sh (npm test does it first)")
    return ARTIFACTS


@pytest.fixture(scope="session", params=TINY_NAMES)
def tiny(request, artifacts):
    """(name, checkpoint dir, converted model dir, goldens dir or None)."""
    name = request.param
    goldens = artifacts / "goldens" / name
    return name, artifacts / "ckpt" / name, artifacts / "models" / name, goldens if goldens.exists() else None


def need_goldens(goldens: Path | None) -> Path:
    """Goldens need real speech; without it the parity tests skip on a developer's machine and fail under CI=true
    (the README's promise: CI never passes without having compared against the official implementation)."""
    if goldens is None:
        message = f"goldens need real speech from {SPEECH}, which is absent on this machine"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{message} (CI=true: the parity tests must run)")
        pytest.skip(message)
    return goldens


def load_goldens(goldens: Path):
    from safetensors.numpy import load_file

    return json.loads((goldens / "goldens.json").read_text()), load_file(str(goldens / "goldens.safetensors"))
