"""A plain onnxruntime (Python) greedy decoder over the converted graphs: the converter's own check against the
official goldens, and the reference the TypeScript pipeline is compared with on quantized graphs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .quantize import VARIANT_SUFFIX


class OrtGlmAsr:
    def __init__(self, model_dir: Path, variant: str = "fp32", threads: int = 0, encoder_variant: str | None = None):
        """`encoder_variant`: the audio encoder from that variant instead of `variant`'s (see SERVER_COMPOSITES)."""
        import onnxruntime as ort

        self.dir = Path(model_dir)
        manifest = json.loads((self.dir / "manifest.json").read_text())
        self.model = manifest["model"]
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if threads:
            opts.intra_op_num_threads = threads
        def session(graph: str, of: str = variant):
            return ort.InferenceSession(
                str(self.dir / "onnx" / f"{graph}{VARIANT_SUFFIX[of]}.onnx"), opts, providers=["CPUExecutionProvider"]
            )

        self.encoder = session("audio_encoder", encoder_variant or variant)
        self.embed = session("embed_tokens")
        self.decoder = session("decoder_model_merged")
        self.layers = self.model["num_layers"]
        past_type = next(i.type for i in self.decoder.get_inputs() if i.name.startswith("past_key_values."))
        self.kv_dtype = np.float16 if past_type == "tensor(float16)" else np.float32
        # The op-by-op export also takes position_ids and num_logits_to_keep; the fused graph derives positions from
        # the mask and computes the last position's logits only.
        self.decoder_inputs = {i.name for i in self.decoder.get_inputs()}
        self.decoder_outputs = [o.name for o in self.decoder.get_outputs()]

    def encode(self, mel: np.ndarray, valid_frames: list[int]) -> np.ndarray:
        """mel [W,128,3000] -> audio_features [N,H] (valid rows only)."""
        mask = np.zeros((mel.shape[0], mel.shape[2]), np.int64)
        for i, v in enumerate(valid_frames):
            mask[i, :v] = 1
        features, _lengths = self.encoder.run(None, {"input_features": mel.astype(np.float32), "input_features_mask": mask})
        return features

    def embed_prompt(self, prompt_ids: list[int], audio_features: np.ndarray) -> np.ndarray:
        ids = np.asarray([prompt_ids], np.int64)
        embeds = self.embed.run(None, {"input_ids": ids})[0]
        slots = np.flatnonzero(ids[0] == self.model["audio_token_id"])
        if len(slots) != audio_features.shape[0]:
            raise ValueError(f"{len(slots)} audio placeholders but {audio_features.shape[0]} audio feature rows")
        embeds[0, slots] = audio_features
        return embeds

    def greedy(self, embeds: np.ndarray, max_new_tokens: int, eos: list[int]) -> tuple[list[int], np.ndarray]:
        """Greedy decode; returns the generated ids (EOS included when reached) and the first step's logits."""
        kv, hd = self.model["num_key_value_heads"], self.model["head_dim"]
        past = {
            f"past_key_values.{i}.{k}": np.zeros((1, kv, 0, hd), self.kv_dtype)
            for i in range(self.layers)
            for k in ("key", "value")
        }
        ids: list[int] = []
        first = None
        cur, past_len = embeds, 0
        for _ in range(max_new_tokens):
            seq = cur.shape[1]
            feed = {
                "inputs_embeds": cur,
                "attention_mask": np.ones((1, past_len + seq), np.int64),
                "position_ids": np.arange(past_len, past_len + seq, dtype=np.int64)[None],
                "num_logits_to_keep": np.asarray(1, np.int64),
                **past,
            }
            feed = {k: v for k, v in feed.items() if k in self.decoder_inputs}
            outs = dict(zip(self.decoder_outputs, self.decoder.run(None, feed)))
            logits = outs["logits"][0, -1]
            if first is None:
                first = logits.copy()
            token = int(np.argmax(logits))
            ids.append(token)
            if token in eos:
                break
            past_len += seq
            past = {f"past_key_values.{i}.{k}": outs[f"present.{i}.{k}"] for i in range(self.layers) for k in ("key", "value")}
            cur = self.embed.run(None, {"input_ids": np.asarray([[token]], np.int64)})[0]
        return ids, first


# Decoders run with another variant's audio encoder, as the app's server composes them on the CPU for an explicit q4
# where the CPU has int8 dot products (q4's decoder with q8's encoder: int8 GEMMs for the encoder's 1500-row matrix
# products), named "<decoder>+<encoder>-encoder".
SERVER_COMPOSITES = {"q4+q8-encoder": ("q4", "q8")}


def reference_decodes(model_dir: Path, goldens_dir: Path, variants: list[str]) -> dict:
    """Greedy decodes of every golden window by onnxruntime (Python) per variant, with the drift from the official
    fp32 goldens: the reference for the TypeScript pipeline on quantized graphs, and the figures the converter
    reports for each variant."""
    from safetensors.numpy import load_file

    goldens = json.loads((goldens_dir / "goldens.json").read_text())
    tensors = load_file(str(goldens_dir / "goldens.safetensors"))
    result: dict = {"variants": {}}
    runs = [(v, v, None) for v in variants]
    runs += [(name, d, e) for name, (d, e) in SERVER_COMPOSITES.items() if d in variants and e in variants]
    for variant, decoder_variant, encoder_variant in runs:
        pipe = OrtGlmAsr(model_dir, decoder_variant, encoder_variant=encoder_variant)
        windows, agree, total, drift = [], 0, 0, 0.0
        for clip in goldens["clips"]:
            for w, win in enumerate(clip["windows"]):
                key = f"{clip['id']}/{w}"
                feats = pipe.encode(tensors[f"{key}/mel"][None], [win["valid_frames"]])
                ids, first = pipe.greedy(pipe.embed_prompt(win["prompt_ids"], feats), goldens["max_new_tokens"],
                                         goldens["eos_token_ids"])
                ref = win["token_ids"]
                same = next((i for i, (a, b) in enumerate(zip(ids, ref)) if a != b), min(len(ids), len(ref)))
                agree, total = agree + same, total + len(ref)
                drift = max(drift, float(np.abs(first - tensors[f"{key}/logits0"]).max()))
                top = np.sort(first)[-2:]
                windows.append({"clip": clip["id"], "window": w, "token_ids": ids, "first_margin": float(top[1] - top[0])})
        result["variants"][variant] = {
            "windows": windows,
            "prefix_agreement": agree / max(total, 1),
            "first_logits_max_drift": drift,
        }
    return result
