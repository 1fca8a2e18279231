#!/usr/bin/env bash
# Create (once) the pinned Python environment for tools/ and print its path.
# The venv lives outside the clone, keyed by the hash of tools/requirements.txt, so CI runs and fresh clones on the
# same machine reuse it and a change of requirements builds a new one.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/requirements.txt"
root="${GLMASR_CACHE_DIR:-$HOME/.cache/glm-asr-web}"
hash="$(sha256sum "$req" | cut -c1-12)"
venv="$root/venv-$hash"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; assert sys.version_info >= (3, 10)' 2>/dev/null; then
    echo "tools/setup-venv.sh: needs Python >= 3.10 as '$python' (set PYTHON=...)" >&2
    exit 1
  fi
  echo "tools/setup-venv.sh: creating $venv (torch, transformers, onnx, onnxruntime; ~4 GB on first run)" >&2
  rm -rf "$venv"
  mkdir -p "$root"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req" >&2
  touch "$venv/.complete"
fi
echo "$venv"
