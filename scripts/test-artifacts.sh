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
for name in tiny tiny-wide; do
  echo "== $name: checkpoint, conversion (fp32,fp16,q8,q4,q4f16)"
  "$py" -m glmasr_onnx tiny --out "$out/ckpt" --name "$name" >/dev/null
  "$py" -m glmasr_onnx convert --from "$out/ckpt/$name" --out "$out/models/$name" --model-id "glm-asr-$name" \
    --variants fp32,fp16,q8,q4,q4f16 --quiet
done
echo "== tiny-overflow: tiny with an audio path that overflows float16 (the f16 guard's test), q4 and q4f16"
"$py" -m glmasr_onnx tiny --overflow-from "$out/ckpt/tiny" --out "$out/ckpt/tiny-overflow" >/dev/null
"$py" -m glmasr_onnx convert --from "$out/ckpt/tiny-overflow" --out "$out/models/tiny-overflow" \
  --model-id glm-asr-tiny-overflow --variants q4,q4f16 --quiet
if [ -f "$speech/manifest.tsv" ]; then
  for name in tiny tiny-wide; do
    echo "== $name: goldens from the official implementation"
    "$py" -m glmasr_onnx goldens --checkpoint "$out/ckpt/$name" --speech "$speech" --out "$out/goldens/$name"
    "$py" -m glmasr_onnx ort-reference --model "$out/models/$name" --goldens "$out/goldens/$name" \
      --out "$out/goldens/$name/ort-reference.json"
  done
  "$py" -m glmasr_onnx mel-goldens --speech "$speech" --out "$out/goldens/mel"
else
  echo "WARNING: $speech not found: goldens on real speech were not built; the parity tests will say so and skip." >&2
fi
echo "$stamp" > "$out/.stamp"
