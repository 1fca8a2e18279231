"""Parity goldens computed by the official implementation (transformers' GlmAsrProcessor, WhisperFeatureExtractor and
GlmAsrForConditionalGeneration.generate) on real speech from shared/data/speech.

Layout of `<out>/`:
  goldens.json          clips, windows, prompt ids, greedy ids, texts, top-1 margins per step (small, readable)
  goldens.safetensors   float32 tensors: `<clip>/<w>/mel` [128,3000], `<clip>/<w>/audio_features` [n,H],
                        `<clip>/<w>/logits0` [V]; for the multi-window HF prompt `<clip>/hf/...`

Per window the reference is the official single-window call (`apply_transcription_request` on the window's samples,
then `generate(do_sample=False, max_new_tokens=N)` with the checkpoint's EOS set).  Clips over 30 s are cut by
`windows.plan_windows` (the product's rule) and also run once through HF's own multi-window prompt, which the Python
parity test reproduces with onnxruntime.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .windows import audio_token_count, plan_windows

# (golden id, files concatenated in order).  >=5 clips: the GLM examples (float32 WAV and Mandarin), AISHELL Mandarin,
# LibriSpeech, LJSpeech, a 1.9 s clip, and a 40 s clip that needs two windows.
GOLDEN_CLIPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("glm-example-en", ("glm-asr-examples/example_en.wav",)),
    ("glm-example-zh", ("glm-asr-examples/example_zh.wav",)),
    ("aishell-0764-0121", ("zh/aishell-BAC009S0764W0121.wav",)),
    ("jfk", ("en/jfk.wav",)),
    ("ls-1272-128104-0000", ("en/ls-1272-128104-0000.wav",)),
    ("lj-LJ001-0002", ("en/lj-LJ001-0002.wav",)),
    ("long-8k-jfk", ("en/ls-1272-128104-0004-8k.wav", "en/jfk.wav")),
)

# Clips for the log-mel parity test of the app foundation (model independent): includes the 8 kHz-upsampled
# LibriSpeech clip and the float32 example_en.wav.
MEL_CLIPS: tuple[str, ...] = (
    "glm-asr-examples/example_en.wav",
    "en/ls-1272-128104-0004-8k.wav",
    "en/jfk.wav",
    "zh/aishell-BAC009S0764W0121.wav",
    "en/lj-LJ001-0001.wav",
    "en/ls-1089-134691-0000.wav",
)


def read_wav(path: Path) -> np.ndarray:
    import soundfile as sf

    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    if rate != 16000:
        raise ValueError(f"{path} is {rate} Hz; the goldens expect 16 kHz files")
    return np.ascontiguousarray(data[:, 0])


def load_clip(speech: Path, files: tuple[str, ...]) -> np.ndarray:
    return np.concatenate([read_wav(speech / f) for f in files])


def write_mel_goldens(speech: Path, out: Path) -> None:
    """Log-mel of whole clips (each <=30 s) by transformers' WhisperFeatureExtractor(feature_size=128)."""
    from safetensors.numpy import save_file
    from transformers import WhisperFeatureExtractor

    fe = WhisperFeatureExtractor(feature_size=128)
    tensors, meta = {}, []
    for rel in MEL_CLIPS:
        wav = read_wav(speech / rel)
        feats = fe(wav, sampling_rate=16000, return_tensors="np", return_attention_mask=True)
        tensors[rel] = np.ascontiguousarray(feats["input_features"][0].astype(np.float32))
        meta.append({"file": rel, "samples": int(wav.shape[0]), "valid_frames": int(feats["attention_mask"][0].sum())})
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / "mel.safetensors"))
    (out / "mel.json").write_text(json.dumps({"extractor": "transformers.WhisperFeatureExtractor(feature_size=128)",
                                              "clips": meta}, indent=2) + "\n")


def _generate(model, inputs, max_new_tokens: int):
    import torch

    with torch.no_grad():
        gen = model.generate(
            **inputs,
            do_sample=False,
            max_new_tokens=max_new_tokens,
            output_scores=True,
            return_dict_in_generate=True,
        )
        logits0 = model(**inputs).logits[0, -1].float().numpy()
    prompt_len = inputs["input_ids"].shape[1]
    ids = gen.sequences[0, prompt_len:].tolist()
    margins = []
    for score in gen.scores:
        top = np.sort(score[0].float().numpy())[-2:]
        margins.append(float(top[1] - top[0]))
    assert len(margins) == len(ids), (len(margins), len(ids))
    return ids, logits0, margins


def write_goldens(checkpoint: Path, speech: Path, out: Path, max_new_tokens: int = 48) -> None:
    import torch
    from safetensors.numpy import save_file
    from transformers import AutoProcessor, GlmAsrForConditionalGeneration

    torch.manual_seed(0)
    processor = AutoProcessor.from_pretrained(checkpoint)
    model = GlmAsrForConditionalGeneration.from_pretrained(checkpoint, dtype=torch.float32).eval()
    eos = model.generation_config.eos_token_id
    tensors: dict[str, np.ndarray] = {}
    clips = []
    for clip_id, files in GOLDEN_CLIPS:
        wav = load_clip(speech, files)
        windows = []
        for w, (start, end) in enumerate(plan_windows(wav)):
            chunk = wav[start:end]
            inputs = processor.apply_transcription_request(chunk)
            n_tok = int((inputs["input_ids"][0] == model.config.audio_token_id).sum())
            assert n_tok == audio_token_count(end - start), (clip_id, n_tok, audio_token_count(end - start))
            ids, logits0, margins = _generate(model, inputs, max_new_tokens)
            with torch.no_grad():
                af = model.get_audio_features(inputs["input_features"], inputs["input_features_mask"]).pooler_output
            key = f"{clip_id}/{w}"
            tensors[f"{key}/mel"] = inputs["input_features"][0].numpy().astype(np.float32)
            tensors[f"{key}/audio_features"] = af.numpy().astype(np.float32)
            tensors[f"{key}/logits0"] = logits0.astype(np.float32)
            windows.append(
                {
                    "start": start,
                    "end": end,
                    "valid_frames": int(inputs["input_features_mask"][0].sum()),
                    "audio_tokens": n_tok,
                    "prompt_ids": inputs["input_ids"][0].tolist(),
                    "token_ids": ids,
                    "text": processor.decode(ids, skip_special_tokens=True).strip(),
                    "min_margin": min(margins),
                    # Each step's top-1 margin (best logit minus the second): where a less exact variant may choose
                    # another token, so its tokens after that step may differ.
                    "margins": margins,
                }
            )
        entry = {"id": clip_id, "files": list(files), "samples": int(wav.shape[0]), "windows": windows}
        if len(windows) > 1:
            # HF's own multi-window prompt: all windows' audio tokens inside one begin/end pair.
            inputs = processor.apply_transcription_request(wav)
            ids, logits0, margins = _generate(model, inputs, max_new_tokens)
            with torch.no_grad():
                af = model.get_audio_features(inputs["input_features"], inputs["input_features_mask"]).pooler_output
            tensors[f"{clip_id}/hf/mel"] = inputs["input_features"].numpy().astype(np.float32)
            tensors[f"{clip_id}/hf/audio_features"] = af.numpy().astype(np.float32)
            tensors[f"{clip_id}/hf/logits0"] = logits0.astype(np.float32)
            entry["hf_multi_window"] = {
                "input_features_mask_sums": inputs["input_features_mask"].sum(-1).tolist(),
                "prompt_ids": inputs["input_ids"][0].tolist(),
                "token_ids": ids,
                "min_margin": min(margins),
                "margins": margins,
            }
        clips.append(entry)

    out.mkdir(parents=True, exist_ok=True)
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(out / "goldens.safetensors"))
    summary = {
        "checkpoint": str(checkpoint),
        "max_new_tokens": max_new_tokens,
        "eos_token_ids": list(eos) if isinstance(eos, (list, tuple)) else [eos],
        "audio_token_id": model.config.audio_token_id,
        "min_margin": min(w["min_margin"] for c in clips for w in c["windows"]),
        "clips": clips,
    }
    (out / "goldens.json").write_text(json.dumps(summary, indent=1) + "\n")
