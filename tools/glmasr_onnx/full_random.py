"""The real GLM-ASR-Nano-2512 configuration (docs/model.md, Architecture) with random weights, converted like the real
checkpoint.  Same graphs, same tensor shapes, same bytes per variant: the model the speed and memory benchmarks run.

The weights are random, so the text is meaningless; the tokenizer is the tiny test BPE padded with unreachable
entries to the real base-vocabulary size (59246), so the special tokens land on their real ids (<|endoftext|> 59246,
<|user|> 59253, <|pad|> 59260, ...) and the prompt has the real length.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

from .tiny import CHAT_TEMPLATE, EOS_TOKENS, SPECIAL_TOKENS, AUDIO_TOKEN, train_tokenizer

REAL_BASE_VOCAB = 59246
REAL_VOCAB = 59264

AUDIO_CONFIG = dict(
    model_type="glmasr_encoder",
    hidden_size=1280,
    intermediate_size=5120,
    num_hidden_layers=32,
    num_attention_heads=20,
    num_key_value_heads=20,
    head_dim=64,
    hidden_act="gelu",
    max_position_embeddings=1500,
    num_mel_bins=128,
    partial_rotary_factor=0.5,
    rope_parameters={"rope_theta": 10000.0, "rope_type": "default", "partial_rotary_factor": 0.5},
)
TEXT_CONFIG = dict(
    model_type="llama",
    hidden_size=2048,
    intermediate_size=6144,
    num_hidden_layers=28,
    num_attention_heads=16,
    num_key_value_heads=4,
    head_dim=128,
    hidden_act="silu",
    max_position_embeddings=8192,
    rms_norm_eps=1e-5,
    rope_parameters={"rope_theta": 10000.0, "rope_type": "default"},
    attention_bias=False,
    mlp_bias=False,
    vocab_size=REAL_VOCAB,
)


def padded_tokenizer():
    """The tiny byte-level BPE, its vocabulary padded to 59246 entries, then the 18 special tokens (59246..59263)."""
    from tokenizers import Tokenizer

    small = train_tokenizer(800)
    data = json.loads(small.to_str())
    data["added_tokens"] = []
    vocab = {k: v for k, v in data["model"]["vocab"].items() if v < small.get_vocab_size() - len(SPECIAL_TOKENS)}
    for i in range(len(vocab), REAL_BASE_VOCAB):
        vocab[f"<|unused_{i}|>"] = i  # never produced: no merge builds it
    data["model"]["vocab"] = vocab
    tok = Tokenizer.from_str(json.dumps(data))
    tok.add_special_tokens(list(SPECIAL_TOKENS))
    for i, name in enumerate(SPECIAL_TOKENS):
        assert tok.token_to_id(name) == REAL_BASE_VOCAB + i, name
    return tok


def build_full_random_checkpoint(out_dir: Path, seed: int = 0) -> Path:
    import torch
    from transformers import (
        GenerationConfig,
        GlmAsrConfig,
        GlmAsrForConditionalGeneration,
        GlmAsrProcessor,
        PreTrainedTokenizerFast,
        WhisperFeatureExtractor,
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    tok = padded_tokenizer()
    ids = {name: tok.token_to_id(name) for name in SPECIAL_TOKENS}
    eos = [ids[name] for name in EOS_TOKENS]
    config = GlmAsrConfig(
        audio_config=AUDIO_CONFIG,
        text_config=dict(TEXT_CONFIG, eos_token_id=eos),
        audio_token_id=ids[AUDIO_TOKEN],
        projector_hidden_act="gelu",
    )
    torch.manual_seed(seed)
    # bf16 like the published checkpoint (and half the memory of building it in fp32).
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)
    try:
        model = GlmAsrForConditionalGeneration(config).eval()
    finally:
        torch.set_default_dtype(previous)
    model.generation_config = GenerationConfig(
        eos_token_id=eos, pad_token_id=ids["<|endoftext|>"], do_sample=False, max_new_tokens=500
    )
    params = sum(p.numel() for p in model.parameters())
    print(f"[full-random] {params / 1e9:.3f} B parameters (tied lm_head counted once)", flush=True)
    model.save_pretrained(out_dir)
    del model
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>", model_max_length=8192
    )
    processor = GlmAsrProcessor(
        feature_extractor=WhisperFeatureExtractor(feature_size=128), tokenizer=fast, chat_template=CHAT_TEMPLATE
    )
    processor.save_pretrained(out_dir)
    return out_dir


# The per-graph sizes computed from the architecture (docs/model.md, Sizes), in bytes (GB = 1e9).
SPEC_SIZES = {
    "q4f16": {"audio_encoder": 0.38e9, "decoder_model_merged": 0.83e9, "embed_tokens": 243e6},
    "q4": {"audio_encoder": 0.44e9, "decoder_model_merged": 0.92e9, "embed_tokens": 485e6},
}


def size_report(manifest: dict) -> str:
    rows = [f"{'variant':<7} {'graph':<22} {'ours MB':>9} {'spec MB':>9} {'diff':>7}"]
    for variant, info in manifest["variants"].items():
        for graph, g in info["graphs"].items():
            spec = SPEC_SIZES.get(variant, {}).get(graph)
            diff = f"{(g['bytes'] / spec - 1) * 100:+.1f}%" if spec else "-"
            rows.append(
                f"{variant:<7} {graph:<22} {g['bytes'] / 1e6:>9.1f} {(spec or 0) / 1e6:>9.1f} {diff:>7}"
            )
    return "\n".join(rows)


def build_full_random(out: Path, variants: tuple[str, ...], keep_checkpoint: bool = False, fused: bool = True) -> dict:
    from .convert import Reporter, convert, summary_table

    out = Path(out).resolve()
    ckpt = out.parent / f".{out.name}.checkpoint"
    t0 = time.time()
    if not (ckpt / "config.json").exists():
        if ckpt.exists():
            shutil.rmtree(ckpt)
        print(f"[full-random] building the random-weight checkpoint in {ckpt}", flush=True)
        build_full_random_checkpoint(ckpt)
    print(f"[full-random] checkpoint ready after {time.time() - t0:.0f} s", flush=True)
    manifest = convert(
        str(ckpt), out, variants, model_id="glm-asr-nano-2512-random", overwrite=True, fused=fused, report=Reporter()
    )
    print(summary_table(manifest))
    print("\nper-graph sizes against docs/model.md (Sizes):")
    print(size_report(manifest))
    if not keep_checkpoint:
        shutil.rmtree(ckpt, ignore_errors=True)
    print(f"[full-random] done in {time.time() - t0:.0f} s", flush=True)
    return manifest
