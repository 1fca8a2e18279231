import onnx, numpy as np, onnxruntime as ort, sys
from onnx import helper
for d in ('tiny','tiny-wide'):
    m=onnx.load(f'/work/main/build/test-artifacts/models/{d}/onnx/audio_encoder_q4.onnx')
    n4=0
    for n in m.graph.node:
        if n.op_type=='MatMulNBits':
            for a in list(n.attribute):
                if a.name=='accuracy_level': n.attribute.remove(a)
            n.attribute.append(helper.make_attribute('accuracy_level',4)); n4+=1
    onnx.save(m,f'{d}_enc_q4_acc4.onnx')
    print(d,'MatMulNBits set to acc4:',n4,[ (i.name,[x.dim_param or x.dim_value for x in i.type.tensor_type.shape.dim]) for i in m.graph.input])
    rng=np.random.default_rng(3); mel=(rng.standard_normal((1,128,3000))*0.5).astype(np.float32); mel.tofile(f'{d}_mel.bin')
    mask=np.zeros((1,3000),np.int64); mask[0,:2200]=1; mask.tofile(f'{d}_mask.bin')
    for t in (1,2):
        so=ort.SessionOptions(); so.intra_op_num_threads=t
        s=ort.InferenceSession(f'{d}_enc_q4_acc4.onnx',so,providers=['CPUExecutionProvider'])
        out=s.run(None,{'input_features':mel,'input_features_mask':mask})[0]
        out.astype(np.float32).tofile(f'encout_py_{d}_t{t}.bin')
    print(d, out.shape)
