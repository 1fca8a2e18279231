import onnx, numpy as np, json
from onnx import helper
for d in ('tiny','tiny-wide'):
    base=f'/work/main/build/test-artifacts/models/{d}'
    m=onnx.load(f'{base}/onnx/decoder_model_merged_q4.onnx')
    for n in m.graph.node:
        if n.op_type=='MatMulNBits':
            for a in list(n.attribute):
                if a.name=='accuracy_level': n.attribute.remove(a)
            n.attribute.append(helper.make_attribute('accuracy_level',4))
    onnx.save(m, f'{d}_dec_q4_acc4.onnx')
    man=json.load(open(f'{base}/manifest.json'))['model']
    rng=np.random.default_rng(1)
    H=man['hidden_size']; kvh=man['num_key_value_heads']; hd=man['head_dim']; L=man['num_layers']
    # prefill of 20 tokens, then 5 single-token steps (embeds fed back are random)
    emb=(rng.standard_normal((25,H))*0.5).astype(np.float32); emb.tofile(f'{d}_emb.bin')
    json.dump({'H':H,'kvh':kvh,'hd':hd,'L':L,'inputs':[i.name for i in m.graph.input],'outputs':[o.name for o in m.graph.output]}, open(f'{d}_meta.json','w'))
    print(d, [o.name for o in m.graph.output])
