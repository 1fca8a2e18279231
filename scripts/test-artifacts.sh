#!/usr/bin/env bash
# Build what the tests compare against, with the official implementation (tools/):
#   build/test-artifacts/ckpt/<tiny>      seeded tiny random GLM-ASR checkpoints (transformers format)
#   build/test-artifacts/models/<tiny>    their conversion, all variants (the converter under test)
#   build/test-artifacts/goldens/<tiny>   official goldens on real speech (needs ../shared/data/speech)
#   build/test-artifacts/goldens/mel      transformers' WhisperFeatureExtractor(128) log-mel of real speech
#   build/test-artifacts/goldens/<tiny>/ort-reference.json   onnxruntime-Python decodes per variant
# Skipped when nothing it depends on changed since the last build (stamp = hash of tools/ and this script).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=build/test-artifacts
speech="${SPEECH_DIR:-../shared/data/speech}"
stamp="$( (cat tools/requirements.txt tools/glmasr_onnx/*.py "$0"; [ -f "$speech/manifest.tsv" ] && echo speech) | sha256sum | cut -c1-16)"
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
  echo "test artifacts are up to date ($out)"
  exit 0
fi
rm -rf "$out"
mkdir -p "$out"
py=tools/py
have_speech() { [ -f "$speech/manifest.tsv" ]; }
model() { # checkpoint and conversion of one tiny model
  echo "== $1: checkpoint, conversion (fp32,fp16,q8,q4,q4f16)"
  "$py" -m glmasr_onnx tiny --out "$out/ckpt" --name "$1" >/dev/null
  "$py" -m glmasr_onnx convert --from "$out/ckpt/$1" --out "$out/models/$1" --model-id "glm-asr-$1" \
    --variants fp32,fp16,q8,q4,q4f16 --quiet
}
goldens() { # the official implementation's goldens of one tiny model on real speech, and onnxruntime-Python's decodes
  echo "== $1: goldens from the official implementation"
  "$py" -m glmasr_onnx goldens --checkpoint "$out/ckpt/$1" --speech "$speech" --out "$out/goldens/$1"
  "$py" -m glmasr_onnx ort-reference --model "$out/models/$1" --goldens "$out/goldens/$1" \
    --out "$out/goldens/$1/ort-reference.json"
}
tiny() {
  model tiny
  echo "== tiny-overflow: tiny with an audio path that overflows float16 (the f16 guard's test), q4 and q4f16"
  "$py" -m glmasr_onnx tiny --overflow-from "$out/ckpt/tiny" --out "$out/ckpt/tiny-overflow" >/dev/null
  "$py" -m glmasr_onnx convert --from "$out/ckpt/tiny-overflow" --out "$out/models/tiny-overflow" \
    --model-id glm-asr-tiny-overflow --variants q4,q4f16 --quiet
  if have_speech; then
    goldens tiny
    "$py" -m glmasr_onnx mel-goldens --speech "$speech" --out "$out/goldens/mel"
  fi
}
wide() {
  model tiny-wide
  if have_speech; then goldens tiny-wide; fi
}
# The two models' chains side by side (each mostly on one core), their output printed in order when both are done.
tiny >"$out/tiny.log" 2>&1 &
tiny_pid=$!
wide >"$out/tiny-wide.log" 2>&1 &
wide_pid=$!
status=0
wait "$tiny_pid" || status=$?
wait "$wide_pid" || {
  s=$?
  [ "$status" != 0 ] || status=$s
}
cat "$out/tiny.log" "$out/tiny-wide.log"
rm -f "$out/tiny.log" "$out/tiny-wide.log"
if [ "$status" != 0 ]; then
  echo "test artifacts: a build failed (exit $status), see above" >&2
  exit "$status"
fi
if ! have_speech; then
  echo "WARNING: $speech not found: goldens on real speech were not built; the parity tests will say so and skip." >&2
fi
echo "$stamp" > "$out/.stamp"
