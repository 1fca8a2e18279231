"""One com.microsoft.MultiHeadAttention node with the audio encoder's shape (20 heads of 64, hidden 1280), float32,
written to the current directory: plain (mha32.onnx), with a key_padding_mask input (mha32_mask.onnx) and with an
attention_bias input (mha32_bias.onnx).  Run with the converter's venv: tools/py make_mha.py"""
import onnx
from onnx import TensorProto, helper

H, N = 1280, 20
qkv = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, "S", H]) for n in "qkv"]
out = helper.make_tensor_value_info("o", TensorProto.FLOAT, [1, "S", H])
extra = {
    "mha32.onnx": ([], ["q", "k", "v"]),
    "mha32_mask.onnx": ([helper.make_tensor_value_info("mask", TensorProto.INT32, [1, "S"])], ["q", "k", "v", "", "mask"]),
    "mha32_bias.onnx": ([helper.make_tensor_value_info("ab", TensorProto.FLOAT, [1, 1, "S", "S"])], ["q", "k", "v", "", "", "ab"]),
}
for name, (inputs, names) in extra.items():
    node = helper.make_node("MultiHeadAttention", names, ["o"], domain="com.microsoft", num_heads=N)
    graph = helper.make_graph([node], "mha", qkv + inputs, [out])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 9
    onnx.save(model, name)
