"""Weight quantization of exported graphs (the transformers.js scripts/quantize.py modes).

- q8    : dynamic uint8 quantization of MatMul weights and of the embedding Gather ("_quantized"), from fp32; the
          encoder's and decoder's MatMulInteger weights then stored as int8 (`int8_weights`).
- q4    : MatMulNBits, 4 bits, block 32, symmetric, from the fp32 graphs.  Gathers (embedding) and Convs stay float.
- q4f16 : the same MatMulNBits quantization applied to the fp16 graphs.

fp16 itself is not an ONNX-level conversion: export.py exports the model in float16, which keeps the float32 islands
transformers computes in (rotary angles, whose fp16 spacing at position ~900 is 0.5 rad; RMSNorm variance, whose x**2
overflows fp16 above 256; softmax).  onnxruntime's convert_float_to_float16 would turn those into fp16 as well.
"""

from __future__ import annotations

import logging
from pathlib import Path

import onnx
from onnx import ModelProto

VARIANT_SUFFIX = {"fp32": "", "fp16": "_fp16", "q8": "_quantized", "q4": "_q4", "q4f16": "_q4f16"}
ALL_VARIANTS = tuple(VARIANT_SUFFIX)
# The float32 variant with the same weight quantization: where an f16 window's audio features are re-encoded.
F32_TWIN = {"fp16": "fp32", "q4f16": "q4"}
# The largest finite float16 minus a margin (transformers clamps fp16 Whisper/T5 hidden states the same way).
F16_CLAMP = 65504.0 - 1000.0
# What the f16 variants keep out of float16 in the audio path (export.to_half), recorded in manifest.json.
F16_AUDIO_PATH = {
    "float32": ["audio_tower.norm", "multi_modal_projector"],
    "clamp": {"audio_tower.layers.*": F16_CLAMP},
}


def inline_initializer_identities(model: ModelProto) -> ModelProto:
    """Drop `Identity(initializer)` nodes (torch's exporter emits them when two parameters hold equal values, e.g. the
    zero biases of a random model) by pointing their consumers at the initializer itself."""
    graph = model.graph
    inits = {t.name for t in graph.initializer}
    outputs = {o.name for o in graph.output}
    alias = {}
    keep = []
    for node in graph.node:
        if node.op_type == "Identity" and node.input[0] in inits and node.output[0] not in outputs:
            alias[node.output[0]] = node.input[0]
        else:
            keep.append(node)
    if not alias:
        return model
    for node in keep:
        for i, name in enumerate(node.input):
            if name in alias:
                node.input[i] = alias[name]
    del graph.node[:]
    graph.node.extend(keep)
    return model


def _name_nodes(model: ModelProto) -> None:
    for i, node in enumerate(model.graph.node):
        if not node.name:
            node.name = f"{node.op_type}_{i}"


# MatMulNBits `accuracy_level` of the 4-bit matrix products per variant and graph.  4 lets the CPU EP quantize the
# activations to int8 per block and run int8 dot products (MLAS SQNBIT_CompInt8: x86 AVX2/AVX-512 VNNI, ARM NEON):
# 2.4-2.6x level 0 for one row, a decode step, which is what the server's decoder runs (docs/measurements.md); but
# 0.8-0.9x for the audio encoder's 1500 rows, where level 0's float32 GEMM is faster (the full-size q4 encoder: 11.8 s
# at level 4, 10.9 s at 0; `npm run bench -- cpu`, tools/probes/onnxruntime-1.31/int8/), so q4's encoder stays at 0
# (the server runs q8 where the CPU has int8 dot products, and q8's int8-GEMM encoder with q4's decoder for a q4:
# server/api/models.ts, src/core/asr/encoder-variant.ts).  onnxruntime-node 1.31.1 and
# onnxruntime-Python 1.31.1 compute level 4 bit for bit alike (docs/onnxruntime-1.31.md §2.6), so the Node pipeline's
# q4 tokens are checked against Python's decode of the same graphs; the drift it adds is bounded in
# tools/tests/test_quantized.py.  The WASM build has no int8 kernel and computes in float32 whatever the level.
# q4f16 is the WebGPU variant: 0, the float16 kernels.
ACCURACY_LEVEL = {
    "q4": {"audio_encoder": 0, "decoder_model_merged": 4},
    "q4f16": {"audio_encoder": 0, "decoder_model_merged": 0},
}


def to_q4(model: ModelProto, accuracy_level: int = 0) -> ModelProto:
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    _name_nodes(model)
    logging.getLogger("onnxruntime.quantization").setLevel(logging.WARNING)
    quantizer = MatMulNBitsQuantizer(
        model, bits=4, block_size=32, is_symmetric=True, accuracy_level=accuracy_level or None
    )
    quantizer.process()
    return quantizer.model.model


def to_q4_embedding(model: ModelProto) -> ModelProto:
    """The embedding Gather as GatherBlockQuantized: int4, block 32 along the hidden axis, symmetric (what
    onnxruntime-genai's builder emits for shared embeddings).  The q4f16 table drops from 243 MB (fp16) to 68 MB.
    onnxruntime-web's WebGPU EP and onnxruntime-node run it; the WASM build the app loads has no kernel for it, so
    the planner does not put a variant containing it on WASM (manifest op_types)."""
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    _name_nodes(model)
    logging.getLogger("onnxruntime.quantization").setLevel(logging.ERROR)
    quantizer = MatMulNBitsQuantizer(
        model,
        bits=4,
        block_size=32,
        is_symmetric=True,
        op_types_to_quantize=("Gather",),
        quant_axes=(("Gather", 1),),
    )
    quantizer.process()
    return quantizer.model.model


def to_q8(src: Path, dst: Path, external: bool) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger("onnxruntime.quantization").setLevel(logging.WARNING)
    quantize_dynamic(
        str(src),
        str(dst),
        weight_type=QuantType.QUInt8,
        op_types_to_quantize=["MatMul", "Gather"],
        use_external_data_format=external,
        extra_options={"EnableSubgraph": False},
    )


def int8_weights(model: ModelProto) -> int:
    """Every MatMulInteger weight stored as uint8 (quantize_dynamic's QUInt8) with its zero point, stored as int8 instead:
    both shifted down by 128, so (w - zero point) and every product, sum and output stay exactly the same.  What changes
    is the kernel: onnxruntime's CPU EP then multiplies uint8 activations by int8 weights (its U8S8 GEMM: AVX-512 VNNI /
    AVX-VNNI `vpdpbusd`, ARM dot products), measured 4.3-6.4x faster than the U8U8 GEMM for the audio encoder's 1500-row
    products, which is hardly faster than float32 (tools/probes/onnxruntime-1.31/int8/int8_gemm.py).  On x86 without
    VNNI the U8S8 kernel multiplies pairs with `vpmaddubsw`, whose int16 sums can saturate: the server prefers q8, and
    pairs q4 with q8's encoder, only where the CPU has VNNI or ARM dot products (server/api/models.ts, encoder-variant.ts).
    Returns how many weights it changed."""
    from onnx import numpy_helper

    inits = {t.name: t for t in model.graph.initializer}
    readers: dict[str, int] = {}
    for node in model.graph.node:
        for name in node.input:
            readers[name] = readers.get(name, 0) + 1
    changed = 0
    for node in model.graph.node:
        if node.op_type != "MatMulInteger":
            continue
        pair = [node.input[i] if len(node.input) > i else "" for i in (1, 3)]
        tensors = [inits.get(name) for name in pair]
        if all(t is not None and t.data_type == onnx.TensorProto.INT8 for t in tensors):
            continue  # already signed
        # Both the weight and its zero point must be uint8 initializers read by this node alone, or the shift would
        # change what another reader (or an implicit zero point of 0) computes.
        if not all(t is not None and t.data_type == onnx.TensorProto.UINT8 for t in tensors) or any(
            readers[name] != 1 for name in pair
        ):
            raise ValueError(f"{node.name}: weight or zero point not a uint8 initializer of its own: {pair}")
        for name, t in zip(pair, tensors):
            shifted = (numpy_helper.to_array(t).astype("int16") - 128).astype("int8")
            t.CopyFrom(numpy_helper.from_array(shifted, name))
        changed += 1
    return changed


def initializer_bytes(model: ModelProto) -> int:
    total = 0
    for t in model.graph.initializer:
        total += _tensor_bytes(t)
    return total


def _tensor_bytes(t: onnx.TensorProto) -> int:
    n = 1
    for d in t.dims:
        n *= d
    if t.data_type in (onnx.TensorProto.INT4, onnx.TensorProto.UINT4):
        return (n + 1) // 2  # two 4-bit values per byte (numpy's int4 stand-in is a whole byte)
    itemsize = onnx.helper.tensor_dtype_to_np_dtype(t.data_type).itemsize
    return n * itemsize


def largest_initializer(model: ModelProto) -> tuple[str, int, list[int]]:
    best = ("", 0, [])
    for t in model.graph.initializer:
        size = _tensor_bytes(t)
        if size > best[1]:
            best = (t.name, size, list(t.dims))
    return best
