"""DynamicQuantizeMatMul (q8: int8 activations) with int8 weights (U8S8 GEMM) vs uint8 weights (U8U8, what
quantize_dynamic's QUInt8 gives) vs a float32 MatMul, M = 1 and 1500 rows, onnxruntime (Python) CPU EP.  Best of N
interleaved runs.  Usage: tools/py int8_gemm.py [threads]  (output of one quiet run: int8_gemm.txt)"""
import numpy as np, onnx, onnxruntime as ort, time, sys
from onnx import helper, TensorProto, numpy_helper
U8 = False
def make_dq(K, N):
    rng = np.random.default_rng(0)
    B = rng.integers(0, 255, size=(K, N), dtype=np.uint8) if U8 else rng.integers(-127, 127, size=(K, N), dtype=np.int8)
    node = helper.make_node('DynamicQuantizeMatMul', ['A', 'B', 'bs', 'bz'], ['Y'], domain='com.microsoft')
    g = helper.make_graph([node], 'g', [helper.make_tensor_value_info('A', TensorProto.FLOAT, ['M', K])],
        [helper.make_tensor_value_info('Y', TensorProto.FLOAT, ['M', N])],
        [numpy_helper.from_array(B, 'B'), numpy_helper.from_array(np.array([0.01], np.float32), 'bs'), numpy_helper.from_array(np.array([128], np.uint8) if U8 else np.array([0], np.int8), 'bz')])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17), helper.make_opsetid('com.microsoft', 1)]); m.ir_version = 10
    return m.SerializeToString()
def make_f(K, N):
    B = np.random.default_rng(0).standard_normal((K, N)).astype(np.float32)
    node = helper.make_node('MatMul', ['A', 'B'], ['Y'])
    g = helper.make_graph([node], 'g', [helper.make_tensor_value_info('A', TensorProto.FLOAT, ['M', K])],
        [helper.make_tensor_value_info('Y', TensorProto.FLOAT, ['M', N])], [numpy_helper.from_array(B, 'B')])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)]); m.ir_version = 10
    return m.SerializeToString()
threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
for K, N in [(1280, 1280), (1280, 5120)]:
    o = ort.SessionOptions(); o.intra_op_num_threads = threads

    U8 = False; s8 = ort.InferenceSession(make_dq(K, N), o, providers=['CPUExecutionProvider'])
    U8 = True; u8 = ort.InferenceSession(make_dq(K, N), o, providers=['CPUExecutionProvider'])
    s = {'s8w': s8, 'u8w': u8, 'fp32': ort.InferenceSession(make_f(K, N), o, providers=['CPUExecutionProvider'])}
    for M in (1, 1500):
        A = np.random.default_rng(1).standard_normal((M, K)).astype(np.float32)
        best = {k: 1e9 for k in s}
        for r in (range(20) if M < 100 else range(5)):
            for k in s:
                t = time.perf_counter(); s[k].run(None, {'A': A}); best[k] = min(best[k], time.perf_counter() - t)
        gf = 2 * M * K * N / 1e9
        print(f"K={K} N={N} M={M}: " + "  ".join(f"{k} {best[k]*1e3:.2f} ms ({gf/best[k]:.0f} GF/s)" for k in s), flush=True)
