"""Resumable conversion: the steps a conversion has completed, recorded in its work directory.

A conversion works in a hidden sibling of its output (`.{name}.partial`), which survives a stop or a crash.  Each
step (the standalone Llama, the float32/float16 exports, the fused decoders, every variant's graphs) records the
files it wrote with their sizes and sha256 in `steps.json` once it has finished.  The next run of the same
conversion (same checkpoint digest, variants, build and converter version) skips a step when every file it recorded
is still there with that size and hash, and redoes it otherwise.  A different conversion starts from scratch.  The
output directory itself only ever appears complete (convert.py moves it into place last).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path

from .errors import ConversionError


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(16 * 1024 * 1024):
            h.update(chunk)
    return h.hexdigest()


class Steps:
    def __init__(self, work: Path, key: dict) -> None:
        self.work = work
        self.key = key
        self.path = work / "steps.json"
        self.done: dict[str, dict] = {}
        self.verified: set[str] = set()  # hashed once per run
        if self.path.exists():
            try:
                state = json.loads(self.path.read_text())
            except json.JSONDecodeError:
                state = {}
            if state.get("key") == key:
                self.done = state.get("steps", {})
            else:
                shutil.rmtree(work)  # another conversion's leftovers
        work.mkdir(parents=True, exist_ok=True)
        self.resumed = bool(self.done)

    def reuse(self, name: str) -> dict | None:
        """The step's recorded result if all its files are intact, else None (and the step is forgotten)."""
        step = self.done.get(name)
        if step is None:
            return None
        if name in self.verified:
            return step["result"]
        for rel, info in step["files"].items():
            p = self.work / rel
            if not p.is_file() or p.stat().st_size != info["bytes"] or sha256_file(p) != info["sha256"]:
                del self.done[name]
                self._save()
                return None
        self.verified.add(name)
        return step["result"]

    def record(self, name: str, files: list[Path], result: dict) -> None:
        self.done[name] = {
            "files": {
                p.relative_to(self.work).as_posix(): {"bytes": p.stat().st_size, "sha256": sha256_file(p)}
                for p in files
            },
            "result": result,
        }
        self._save()

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"key": self.key, "steps": self.done}, indent=1))
        os.replace(tmp, self.path)


class OutputLock:
    """One conversion per output directory at a time (an advisory lock beside it, released at exit)."""

    def __init__(self, out: Path) -> None:
        self.path = out.parent / f".{out.name}.lock"
        self.fd: int | None = None

    def __enter__(self) -> OutputLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(self.fd)
            self.fd = None
            raise ConversionError(
                "BUSY", f"Another conversion into {self.path.parent / self.path.name[1:-5]} is running; wait for it."
            ) from exc
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            # Removed while still held: a conversion starting meanwhile sees BUSY, one starting after creates it anew.
            self.path.unlink(missing_ok=True)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def with_data(paths: list[Path]) -> list[Path]:
    """Graph files plus their external-data files."""
    out = []
    for p in paths:
        out.append(p)
        d = p.with_name(p.name + "_data")
        if d.exists():
            out.append(d)
    return out
