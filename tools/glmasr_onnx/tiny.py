"""Seeded tiny GLM-ASR checkpoints built with the official transformers classes.

They have the real model's *structure* (Whisper-style encoder with partial RoPE and no k bias, 4-frame merge
projector, Llama decoder with GQA, 128 mel bins, tied lm_head) at widths small enough for unit tests, plus a
byte-level BPE tokenizer trained here whose special tokens sit in the same order, directly after the base vocabulary,
as in GLM-ASR-Nano (`<|endoftext|>` first, `<|pad|>` 14th, ...).  The result is a normal transformers-v5 checkpoint
directory: the converter treats it exactly like the real one.

Random weights at the default scale (0.02) give flat logits and a decoder that copies its last token forever; a greedy
decode over flat logits also flips on float noise.  The tiny specs therefore initialise the decoder at 0.3 and the
encoder at 0.1 (layers then dominate the residual stream, the output depends on the audio, and top-1 margins are
two to three orders of magnitude above fp32 error), and `logit_scale` multiplies the final RMSNorm weight.  The
goldens record every step's top-1 margin and each decode's smallest, so tests can weigh them against numeric error.
The seeds were picked, among the first eight, for the largest smallest-margin on the golden clips (about 1e-3 at
logits of magnitude ~7, i.e. 100x the fp32 difference between onnxruntime and PyTorch).  Since tiny's encoder became
2 heads wide (2026-12-07) its seed 1 has 3.9e-4, 76x the 5.1e-6 by which onnxruntime's first-step logits differ
from PyTorch's; seed 6 would have 1.05e-3, but none of its golden clips ends before the 48-token cap, and the tests
need one that ends at EOS (seeds 2-8: 9e-5 to 1.05e-3).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

# The special tokens of GLM-ASR-Nano / GLM-Edge in id order, starting right after the base vocabulary (59246 in the
# real tokenizer).  Positions 0, 7, 8, 9 and 14 are documented (endoftext, user, assistant, observation, pad); the
# audio markers' ids are not published, so they take the next free slots.  Nothing in the product hard-codes these
# ids: every consumer reads them from tokenizer.json.
SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "[MASK]",
    "[gMASK]",
    "[sMASK]",
    "<sop>",
    "<eop>",
    "<|system|>",
    "<|user|>",
    "<|assistant|>",
    "<|observation|>",
    "<|begin_of_image|>",
    "<|end_of_image|>",
    "<|begin_of_video|>",
    "<|end_of_video|>",
    "<|pad|>",
    "<|begin_of_audio|>",
    "<|end_of_audio|>",
    "<|begin_of_transcription|>",
)
EOS_TOKENS: tuple[str, ...] = ("<|endoftext|>", "<|user|>", "<|observation|>")
AUDIO_TOKEN = "<|pad|>"

# The chat template of the converted checkpoint (transformers' convert_glmasr_weights_to_hf.py writes this one).
CHAT_TEMPLATE = (
    "{%- macro to_text(content) -%}\n"
    "{%- if content is string -%}\n"
    "{{- content -}}\n"
    "{%- elif content is iterable and content is not mapping -%}\n"
    "{%- for item in content -%}\n"
    "{%- if item is mapping and item.type == 'text' and item.text is defined -%}\n"
    "{{- item.text -}}\n"
    "{%- elif item is mapping and (item.type == 'audio' or 'audio' in item) -%}\n"
    "<|begin_of_audio|><|pad|><|end_of_audio|><|user|>\n"
    "{% elif item is string -%}\n"
    "{{- item -}}\n"
    "{%- endif -%}\n"
    "{%- endfor -%}\n"
    "{%- else -%}\n"
    "{{- content -}}\n"
    "{%- endif -%}\n"
    "{%- endmacro -%}\n"
    "{%- for m in messages -%}\n"
    "{%- if m.role == 'system' -%}\n"
    "<|system|>\n"
    "{{ to_text(m.content) | trim }}\n"
    "{%- elif m.role == 'user' -%}\n"
    "<|user|>\n"
    "{{ to_text(m.content) | trim }}\n"
    "{%- elif m.role == 'assistant' -%}\n"
    "<|assistant|>\n"
    "{{ to_text(m.content) | trim }}\n"
    "{%- endif -%}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}\n"
    "<|assistant|>\n"
    "{% endif -%}"
)

# GLM-4's pre-tokenizer split (the cl100k-style pattern, with its inline case-insensitive group) followed by a
# byte-level mapping without its own regex.  The JS tokenizer must cope with exactly this structure.
SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# Training text for the tiny tokenizer: self-written, so the tokenizer does not depend on shared/ being present.
_CORPUS = """
Please transcribe this audio into text.
The quick brown fox jumps over the lazy dog while the children watch from the window.
She said that the weather would change tomorrow, and that the river might rise again.
Numbers like 12, 345 and 2026 appear in dates, prices and phone numbers: call 555 0199 today!
It's the people's choice; they'll decide what we've built and why we're here.
A transcript should keep punctuation, capital letters, and the words exactly as spoken.
In the middle of the night the old house was quiet except for the ticking of a clock.
He hoped there would be stew for dinner, with turnips, carrots and bruised potatoes.
Printing, in the only sense with which we are at present concerned, differs from most arts.
我们今天去公园散步，天气非常好。你好，世界！这是一个语音识别的测试。
就算是非常小的声音也能识别准确，我还能再搞一个。
北京的秋天很美，上海的夜晚很热闹，广州的早茶很好吃。
Ça va très bien, merci. Das Wetter ist schön. ¿Dónde está la estación?
"""


@dataclass(frozen=True)
class TinySpec:
    """Widths of one tiny model.  The encoder's intermediate size must be 4x its hidden size, because the
    projector reshapes 4 encoder frames into one row of `intermediate_size` (as in the real 1280 -> 5120)."""

    name: str
    seed: int
    audio: dict = field(default_factory=dict)
    text: dict = field(default_factory=dict)
    tokenizer_vocab: int = 1000
    logit_scale: float = 0.25


TINY_SPECS: dict[str, TinySpec] = {
    # Default test model: 2+2 layers, GQA 4:1 like the real 16:4, head_dim 16 so the encoder's partial RoPE
    # rotates 8 of 16 dims.  The encoder is 2 heads wide: every window is 1500 positions whatever the model, and
    # SwiftShader (the test rig's WebGPU) spends its time on the attention's width (4 heads: 15 s a window).
    "tiny": TinySpec(
        name="tiny",
        seed=1,
        audio=dict(
            hidden_size=32, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2, initializer_range=0.1
        ),
        text=dict(
            initializer_range=0.3,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=1,
            head_dim=16,
        ),
    ),
    # A second shape: odd layer counts, GQA 2:1, wider heads, to catch code that only works for one layout.
    "tiny-wide": TinySpec(
        name="tiny-wide",
        seed=1,
        audio=dict(
            hidden_size=96, intermediate_size=384, num_hidden_layers=3, num_attention_heads=3, initializer_range=0.1
        ),
        text=dict(
            initializer_range=0.3,
            hidden_size=96,
            intermediate_size=160,
            num_hidden_layers=3,
            num_attention_heads=6,
            num_key_value_heads=3,
            head_dim=16,
        ),
    ),
}


def train_tokenizer(vocab_size: int):
    """A byte-level BPE with GLM-4's pre-tokenizer layout and the GLM-ASR special tokens appended in order."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(byte_fallback=False, ignore_merges=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
        special_tokens=[],
    )
    lines = [line for line in _CORPUS.strip().splitlines() if line.strip()]
    tok.train_from_iterator(lines * 4, trainer=trainer)
    base = tok.get_vocab_size()
    tok.add_special_tokens(list(SPECIAL_TOKENS))
    for i, name in enumerate(SPECIAL_TOKENS):
        assert tok.token_to_id(name) == base + i, (name, tok.token_to_id(name), base + i)
    return tok


def build_tiny_checkpoint(spec: TinySpec, out_dir: Path) -> Path:
    """Write a transformers-v5 GLM-ASR checkpoint (config, safetensors, tokenizer, processor) for `spec`."""
    import torch
    from transformers import (
        GenerationConfig,
        GlmAsrConfig,
        GlmAsrForConditionalGeneration,
        GlmAsrProcessor,
        PreTrainedTokenizerFast,
        WhisperFeatureExtractor,
    )

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tok = train_tokenizer(spec.tokenizer_vocab)
    vocab = tok.get_vocab_size()
    ids = {name: tok.token_to_id(name) for name in SPECIAL_TOKENS}
    eos = [ids[name] for name in EOS_TOKENS]

    config = GlmAsrConfig(
        audio_config=dict(model_type="glmasr_encoder", **spec.audio),
        text_config=dict(
            model_type="llama",
            vocab_size=vocab,
            eos_token_id=eos,
            max_position_embeddings=8192,
            **spec.text,
        ),
        audio_token_id=ids[AUDIO_TOKEN],
    )
    torch.manual_seed(spec.seed)
    model = GlmAsrForConditionalGeneration(config).eval()
    with torch.no_grad():
        model.model.language_model.norm.weight.mul_(spec.logit_scale)
    model.generation_config = GenerationConfig(
        eos_token_id=eos, pad_token_id=ids["<|endoftext|>"], do_sample=False, max_new_tokens=500
    )
    model.save_pretrained(out_dir)

    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>", model_max_length=8192
    )
    feature_extractor = WhisperFeatureExtractor(feature_size=128)
    processor = GlmAsrProcessor(feature_extractor=feature_extractor, tokenizer=fast, chat_template=CHAT_TEMPLATE)
    processor.save_pretrained(out_dir)
    (out_dir / "tiny_spec.json").write_text(
        json.dumps({"name": spec.name, "seed": spec.seed, "logit_scale": spec.logit_scale}, indent=2) + "\n"
    )
    return out_dir


# conv1's weights scaled so its outputs (~1e6 on log-mel input) exceed float16's 65504 but not float32's range.
OVERFLOW_SCALE = 1e5


def build_overflow_checkpoint(src: Path, out_dir: Path) -> Path:
    """A copy of a tiny checkpoint whose audio path overflows in float16 and not in float32: the case FunASR warns
    about, made certain, for the pipeline's f16 guard (an f16 window's inf/NaN features re-encoded by the twin)."""
    from safetensors.torch import load_file, save_file

    if out_dir.exists():
        shutil.rmtree(out_dir)
    shutil.copytree(src, out_dir)
    weights = out_dir / "model.safetensors"
    tensors = load_file(str(weights))
    key = next(k for k in tensors if k.endswith("audio_tower.conv1.weight"))
    tensors[key] = tensors[key] * OVERFLOW_SCALE
    save_file(tensors, str(weights), metadata={"format": "pt"})
    return out_dir
