"""Errors the converter reports to its user.  Each carries a stable code (for scripts and tests) and a message that
names the problem and, where there is one, the fix.  Anything else escaping the converter is a bug."""

from __future__ import annotations


class ConversionError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:  # pragma: no cover - trivial
        return f"[{self.code}] {self.message}"
