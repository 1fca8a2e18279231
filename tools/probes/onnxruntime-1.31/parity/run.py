import onnxruntime as ort, numpy as np
for acc in (0, 4):
  for t in (1, 2):
    so = ort.SessionOptions(); so.intra_op_num_threads = t; so.inter_op_num_threads = 1
    s = ort.InferenceSession(f'/tmp/research/parity/mnb_acc{acc}.onnx', so, providers=['CPUExecutionProvider'])
    for M in (1, 16, 150):
      x = np.fromfile(f'/tmp/research/parity/x{M}.bin', dtype=np.float32).reshape(M, 2048)
      s.run(None, {'x': x})[0].astype(np.float32).tofile(f'/tmp/research/parity/out_py1311_acc{acc}_t{t}_M{M}.bin')
print('py', ort.__version__)
