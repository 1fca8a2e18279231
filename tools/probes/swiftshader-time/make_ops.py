"""Single-op graphs with the shapes of the tiny encoder's costly steps, for ops.ts (SwiftShader's time per kernel).
tools/py tools/probes/swiftshader-time/make_ops.py OUT_DIR"""
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper as h, numpy_helper as nh

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(0)


def vi(name, shape):
    return h.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def save(name, nodes, inputs, inits=()):
    g = h.make_graph(nodes, name, inputs, [vi("y", None)], list(inits))
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, out / f"{name}.onnx")


def conv(cin, cout, stride):
    w = nh.from_array(rng.standard_normal((cout, cin, 3)).astype(np.float32), "w")
    b = nh.from_array(np.zeros(cout, np.float32), "b")
    return [h.make_node("Conv", ["a", "w", "b"], ["y"], pads=[1, 1], kernel_shape=[3], strides=[stride])], (w, b)


mm = [h.make_node("MatMul", ["a", "b"], ["y"])]
for heads in (4, 2):
    # one 250-row query block of the attention: scores, softmax, scores x V
    save(f"scores_{heads}h", mm, [vi("a", [1, heads, 250, 16]), vi("b", [1, heads, 16, 1500])])
    save(f"softmax_{heads}h", [h.make_node("Softmax", ["a"], ["y"], axis=-1)], [vi("a", [1, heads, 250, 1500])])
    save(f"av_{heads}h", mm, [vi("a", [1, heads, 250, 1500]), vi("b", [1, heads, 1500, 16])])
for width in (64, 32):
    nodes, inits = conv(128, width, 1)
    save(f"conv1_{width}", nodes, [vi("a", [1, 128, 3000])], inits)
print(sorted(p.name for p in out.glob("*.onnx")))
