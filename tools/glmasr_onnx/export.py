"""ONNX export of the three graphs (fp32 or fp16), driving the official transformers modules.

The wrappers below only adapt calling conventions (flat KV tensors in and out, an explicit 4-D mask, a logits
slice); every layer that computes something is the official `GlmAsrForConditionalGeneration`'s own module, so the
graphs inherit its partial RoPE, attention layout and projector exactly.

Graph contracts (transformers.js AudioTextToText naming; docs/model.md, The graphs):

audio_encoder   input_features f32 [W,128,3000], input_features_mask i64 [W,3000]
                -> audio_features f32 [N,H] (valid rows of all windows, in window order),
                   audio_feature_lengths i64 [W]
embed_tokens    input_ids i64 [B,S] -> inputs_embeds f32 [B,S,H]
decoder_model_merged
                inputs_embeds f32 [B,S,H], attention_mask i64 [B,P+S], position_ids i64 [B,S],
                num_logits_to_keep i64 [] , past_key_values.{i}.key/value f32 [B,KV,P,D]
                -> logits f32 [B,K,V], present.{i}.key/value f32 [B,KV,P+S,D]

fp16 graphs are exported from the model in float16 (not converted at the ONNX level), so they keep the float32
islands transformers itself computes in: rotary angles (`position_ids.float()`), RMSNorm variance and the attention
softmax.  Their float graph inputs and outputs stay float32 (keep_io_types), except the KV cache, which is float16 in
and out: it never leaves the device between steps, and a float32 cache would be cast every step.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
from torch import nn

from .manifest import ATTENTION_QUERY_ROWS_KEY
from .quantize import F16_CLAMP

OPSET = 18
N_MELS = 128
N_FRAMES = 3000


def _post_lengths(mask_sum: torch.Tensor) -> torch.Tensor:
    """Rows per window after conv1 (k3 s1 p1), conv2 (k3 s2 p1) and the 4-frame merge, as GlmAsrModel does."""
    lengths = mask_sum
    for padding, kernel_size, stride in ((1, 3, 1), (1, 3, 2)):
        lengths = (lengths + 2 * padding - (kernel_size - 1) - 1) // stride + 1
    return (lengths - 4) // 4 + 1


def _dtype(model) -> torch.dtype:
    return next(model.parameters()).dtype


class AudioEncoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.inner = model.model
        self.dtype = _dtype(model)

    def forward(self, input_features: torch.Tensor, input_features_mask: torch.Tensor):
        out = self.inner.get_audio_features(input_features.to(self.dtype), input_features_mask, return_dict=True)
        return out.pooler_output.float(), _post_lengths(input_features_mask.sum(-1))


class EmbedTokens(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.embed = model.model.language_model.embed_tokens

    def forward(self, input_ids: torch.Tensor):
        return self.embed(input_ids).float()


class Decoder(nn.Module):
    """LlamaModel + lm_head with an explicit cache.  The mask is built here as a 4-D additive mask, which
    transformers' `create_causal_mask` passes through unchanged; it equals the mask transformers builds itself for
    a 2-D padding mask plus causality."""

    def __init__(self, model):
        super().__init__()
        self.lm = model.model.language_model
        self.lm_head = model.lm_head
        self.num_layers = model.config.text_config.num_hidden_layers
        self.dtype = _dtype(model)

    def forward(self, inputs_embeds, attention_mask, position_ids, num_logits_to_keep, *past):
        from transformers import DynamicCache

        inputs_embeds = inputs_embeds.to(self.dtype)
        seq = inputs_embeds.shape[1]
        past_len = past[0].shape[2]
        cache = DynamicCache(ddp_cache_data=[(past[2 * i], past[2 * i + 1]) for i in range(self.num_layers)])
        q_pos = torch.arange(seq, device=inputs_embeds.device) + past_len
        k_pos = torch.arange(past_len + seq, device=inputs_embeds.device)
        causal = k_pos[None, :] <= q_pos[:, None]
        allowed = causal[None, None, :, :] & attention_mask[:, None, None, :].bool()
        min_value = torch.finfo(inputs_embeds.dtype).min
        mask = torch.where(allowed, torch.zeros((), dtype=inputs_embeds.dtype), torch.full((), min_value))
        out = self.lm(
            inputs_embeds=inputs_embeds,
            attention_mask=mask,
            position_ids=position_ids,
            past_key_values=cache,
            use_cache=True,
        )
        hidden = out.last_hidden_state
        index = torch.arange(seq - num_logits_to_keep, seq, device=hidden.device)
        logits = self.lm_head(hidden.index_select(1, index)).float()
        presents = []
        for layer in cache.layers:
            presents.extend([layer.keys, layer.values])
        return (logits, *presents)


def to_half(model):
    """The model in float16 for the fp16/q4f16 exports, with GLM-ASR's audio path made safe by construction.

    FunASR warns that fp16 "can produce degraded or garbage transcription for GLM-ASR (numerical overflow in the audio
    embedding path)".  So: the encoder's final LayerNorm and the projector (5120 -> 4096 -> 2048, whose sums are the
    largest) stay float32, fed by a cast; each encoder layer's output (the residual stream) is clamped to the largest
    finite float16, so an overflow can no longer become inf and then NaN downstream.  The clamp is a no-op for values
    in range, so the graph equals the plain fp16 one wherever fp16 is adequate.  The pipeline still checks every
    window's audio features and re-encodes a non-finite window with the float32 twin (pipeline.ts)."""
    model = model.half()
    tower = model.model.audio_tower
    tower.norm.float()
    tower.norm.register_forward_pre_hook(lambda _m, args: (args[0].float(), *args[1:]))
    model.model.multi_modal_projector.float()

    def clamp(_module, _args, output):
        if isinstance(output, tuple):
            return (output[0].clamp(-F16_CLAMP, F16_CLAMP), *output[1:])
        return output.clamp(-F16_CLAMP, F16_CLAMP)

    for layer in tower.layers:
        layer.register_forward_hook(clamp)
    return model


def load_model(checkpoint: Path, dtype: torch.dtype = torch.float32):
    from transformers import GlmAsrForConditionalGeneration

    model = GlmAsrForConditionalGeneration.from_pretrained(checkpoint, dtype=dtype, attn_implementation="eager")
    return model.eval()


def _export(module, args, path: Path, input_names, output_names, dynamic_axes):
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            args,
            str(path),
            input_names=input_names,
            output_names=output_names,
            dynamic_axes=dynamic_axes,
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


# The audio encoder's self-attention is computed ENCODER_QUERY_ROWS query rows at a time (see query_block_attention).
ENCODER_QUERY_ROWS = 250
QUERY_BLOCK_ATTENTION = "glmasr_query_blocks"


def query_block_attention(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
    """transformers' own eager attention for GLM-ASR, applied to blocks of ENCODER_QUERY_ROWS query rows against all
    keys, the blocks' outputs concatenated.  Each output row is the same computation as in one call (its scores row,
    softmax over all keys, weighted sum of all values): onnxruntime's CPU gives bit-equal features
    (tools/tests/test_encoder_blocks.py).  Why: in one call the full-size encoder makes three 180 MB scores tensors per
    layer, which onnxruntime's WebGPU buffer cache does not reuse; destroyed and made anew per layer they piled up on
    the GPU (docs/onnxruntime-1.31.md, 2.8).  In blocks of 250 rows they are 30 MB.  The encoder has no attention
    mask."""
    if attention_mask is not None:
        raise ValueError("query_block_attention: the audio encoder's attention has no mask")
    from transformers.models.glmasr.modeling_glmasr import eager_attention_forward

    rows = query.shape[2]
    blocks = []
    for start in range(0, rows, ENCODER_QUERY_ROWS):
        stop = min(start + ENCODER_QUERY_ROWS, rows)
        out, _ = eager_attention_forward(module, query[:, :, start:stop], key, value, None, scaling, dropout, **kwargs)
        blocks.append(out)  # [batch, rows, heads, head_dim]
    return torch.cat(blocks, dim=1), None


@contextmanager
def _encoder_attention_in_query_blocks(model):
    """The audio tower's attention as query_block_attention while exporting (its config only; restored after)."""
    from transformers import AttentionInterface

    AttentionInterface.register(QUERY_BLOCK_ATTENTION, query_block_attention)
    config = model.model.audio_tower.config
    before = config._attn_implementation
    config._attn_implementation = QUERY_BLOCK_ATTENTION
    try:
        yield
    finally:
        config._attn_implementation = before


def export_audio_encoder(model, path: Path, query_blocks: bool = True) -> None:
    """The audio encoder; its attention in query blocks unless `query_blocks` is False (the official module as it is:
    the reference tools/tests/test_encoder_blocks.py compares with).  A blocked graph says so in its metadata
    (ATTENTION_QUERY_ROWS_KEY), which the manifest passes on to the app: an encoder without it computes each layer's
    attention in one call, as every conversion before 2026-12-07 did."""
    feats = torch.zeros(2, N_MELS, N_FRAMES)
    mask = torch.ones(2, N_FRAMES, dtype=torch.int64)
    mask[1, 1234:] = 0
    with _encoder_attention_in_query_blocks(model) if query_blocks else nullcontext():
        _export(
            AudioEncoder(model),
            (feats, mask),
            path,
            ["input_features", "input_features_mask"],
            ["audio_features", "audio_feature_lengths"],
            {
                "input_features": {0: "num_windows"},
                "input_features_mask": {0: "num_windows"},
                "audio_features": {0: "num_audio_tokens"},
                "audio_feature_lengths": {0: "num_windows"},
            },
        )
    if query_blocks:
        import onnx

        proto = onnx.load(str(path), load_external_data=False)
        onnx.helper.set_model_props(proto, {ATTENTION_QUERY_ROWS_KEY: str(ENCODER_QUERY_ROWS)})
        onnx.save(proto, str(path))


def export_embed_tokens(model, path: Path) -> None:
    ids = torch.tensor([[1, 2, 3]], dtype=torch.int64)
    _export(
        EmbedTokens(model),
        (ids,),
        path,
        ["input_ids"],
        ["inputs_embeds"],
        {"input_ids": {0: "batch_size", 1: "sequence_length"}, "inputs_embeds": {0: "batch_size", 1: "sequence_length"}},
    )


def decoder_io_names(num_layers: int) -> tuple[list[str], list[str]]:
    past = [f"past_key_values.{i}.{kind}" for i in range(num_layers) for kind in ("key", "value")]
    present = [f"present.{i}.{kind}" for i in range(num_layers) for kind in ("key", "value")]
    return ["inputs_embeds", "attention_mask", "position_ids", "num_logits_to_keep", *past], ["logits", *present]


def export_decoder(model, path: Path) -> None:
    text = model.config.text_config
    layers, kv_heads = text.num_hidden_layers, text.num_key_value_heads
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // text.num_attention_heads
    # Trace with a non-empty past (P=3, S=2): the traced shape arithmetic then stays symbolic, and the same graph
    # serves the prefill (P=0) and every decode step (S=1).
    batch, seq, past_len = 1, 2, 3
    embeds = torch.randn(batch, seq, text.hidden_size)
    mask = torch.ones(batch, past_len + seq, dtype=torch.int64)
    pos = torch.arange(past_len, past_len + seq, dtype=torch.int64)[None, :]
    keep = torch.tensor(1, dtype=torch.int64)
    past = [torch.randn(batch, kv_heads, past_len, head_dim, dtype=_dtype(model)) for _ in range(2 * layers)]
    inputs, outputs = decoder_io_names(layers)
    axes = {
        "inputs_embeds": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "logits": {0: "batch_size", 1: "num_logits"},
    }
    for name in inputs[4:]:
        axes[name] = {0: "batch_size", 2: "past_sequence_length"}
    for name in outputs[1:]:
        axes[name] = {0: "batch_size", 2: "total_sequence_length"}
    _export(Decoder(model), (embeds, mask, pos, keep, *past), path, inputs, outputs, axes)
