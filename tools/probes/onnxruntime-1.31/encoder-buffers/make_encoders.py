"""Full-width GLM-ASR audio encoders with few layers (random weights; the full-size encoder's activation sizes per layer,
run in minutes instead of hours on SwiftShader), exported with the attention in query blocks and in one call.

    tools/py tools/probes/onnxruntime-1.31/encoder-buffers/make_encoders.py OUT_DIR LAYERS [ROWS ...]
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, "tools")
import glmasr_onnx.export as ex  # noqa: E402
from glmasr_onnx.full_random import AUDIO_CONFIG, TEXT_CONFIG  # noqa: E402
from transformers import GlmAsrConfig, GlmAsrForConditionalGeneration  # noqa: E402

out, layers, rows = Path(sys.argv[1]), int(sys.argv[2]), [int(r) for r in sys.argv[3:]] or [ex.ENCODER_QUERY_ROWS]
torch.manual_seed(0)
text = dict(TEXT_CONFIG, num_hidden_layers=1, vocab_size=64, intermediate_size=64)
config = GlmAsrConfig(audio_config=dict(AUDIO_CONFIG, num_hidden_layers=layers), text_config=text, audio_token_id=5)
config._attn_implementation = "eager"
model = GlmAsrForConditionalGeneration(config).eval()
for p in model.parameters():
    torch.nn.init.normal_(p, std=0.02)
ex.export_audio_encoder(model, out / "onecall.onnx", query_blocks=False)
for r in rows:
    ex.ENCODER_QUERY_ROWS = r
    ex.export_audio_encoder(model, out / f"blocks{r}.onnx")
