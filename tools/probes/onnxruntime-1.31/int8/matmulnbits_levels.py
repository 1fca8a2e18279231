"""One MatMulNBits (4-bit, block 32) at accuracy level 0 vs 4, M = 1..1500 rows, onnxruntime (Python) CPU EP.
Best of N interleaved runs.  Usage: tools/py matmulnbits_levels.py [threads]  (output of one quiet run: matmulnbits_levels.txt)"""
import numpy as np, onnx, onnxruntime as ort, time
from onnx import helper, TensorProto, numpy_helper
def make(K, N, level):
    rng = np.random.default_rng(0)
    blocks = K // 32
    B = rng.integers(0, 255, size=(N, blocks, 16), dtype=np.uint8)
    S = (rng.random((N * blocks,), dtype=np.float32) * 0.01).astype(np.float32)
    node = helper.make_node('MatMulNBits', ['A', 'B', 'S'], ['Y'], domain='com.microsoft', K=K, N=N, bits=4, block_size=32, accuracy_level=level)
    g = helper.make_graph([node], 'g', [helper.make_tensor_value_info('A', TensorProto.FLOAT, ['M', K])],
        [helper.make_tensor_value_info('Y', TensorProto.FLOAT, ['M', N])],
        [numpy_helper.from_array(B, 'B'), numpy_helper.from_array(S, 'S')])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17), helper.make_opsetid('com.microsoft', 1)])
    m.ir_version = 10
    return m.SerializeToString()
import sys
threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
for K, N in [(1280, 1280), (1280, 5120), (2048, 2048)]:
    sess = {}
    for lv in (0, 4):
        o = ort.SessionOptions(); o.intra_op_num_threads = threads
        sess[lv] = ort.InferenceSession(make(K, N, lv), o, providers=['CPUExecutionProvider'])
    for M in (1, 16, 400, 1500):
        A = np.random.default_rng(1).standard_normal((M, K)).astype(np.float32)
        best = {0: 1e9, 4: 1e9}
        reps = 20 if M < 100 else 5
        for r in range(reps):
            for lv in (0, 4):
                t = time.perf_counter(); sess[lv].run(None, {'A': A}); best[lv] = min(best[lv], time.perf_counter() - t)
        gf = 2 * M * K * N / 1e9
        print(f"K={K} N={N} M={M}: level0 {best[0]*1e3:.2f} ms ({gf/best[0]:.1f} GF/s)  level4 {best[4]*1e3:.2f} ms ({gf/best[4]:.1f} GF/s)  ratio {best[0]/best[4]:.2f}", flush=True)
