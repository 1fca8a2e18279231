import numpy as np, onnx, sys, logging
from onnx import helper, TensorProto, numpy_helper
from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
rng = np.random.default_rng(0)
K, N = 2048, 2048
W = (rng.standard_normal((K, N)) * 0.02).astype(np.float32)
for acc in (0, 4):
    x = helper.make_tensor_value_info('x', TensorProto.FLOAT, ['M', K])
    y = helper.make_tensor_value_info('y', TensorProto.FLOAT, ['M', N])
    g = helper.make_graph([helper.make_node('MatMul', ['x', 'W'], ['y'], name='mm')], 'g', [x], [y], [numpy_helper.from_array(W, 'W')])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)]); m.ir_version = 9
    q = MatMulNBitsQuantizer(m, bits=4, block_size=32, is_symmetric=True, accuracy_level=acc or None)
    q.process()
    mm = q.model.model
    print(acc, [ (n.op_type, [(a.name, helper.get_attribute_value(a)) for a in n.attribute]) for n in mm.graph.node])
    onnx.save(mm, f'/tmp/research/parity/mnb_acc{acc}.onnx')
for Mv in (1, 16, 150):
    X = (rng.standard_normal((Mv, K))).astype(np.float32)
    X.tofile(f'/tmp/research/parity/x{Mv}.bin')
