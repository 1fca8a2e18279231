import onnxruntime as ort, numpy as np, json, sys
for d in ('tiny','tiny-wide'):
  meta=json.load(open(f'{d}_meta.json')); H,kvh,hd,L=meta['H'],meta['kvh'],meta['hd'],meta['L']
  emb=np.fromfile(f'{d}_emb.bin',dtype=np.float32).reshape(25,H)
  for tag,path in (('acc4',f'{d}_dec_q4_acc4.onnx'),('acc0',f'/work/main/build/test-artifacts/models/{d}/onnx/decoder_model_merged_q4.onnx')):
    for t in (1,2):
      so=ort.SessionOptions(); so.intra_op_num_threads=t; so.inter_op_num_threads=1
      s=ort.InferenceSession(path,so,providers=['CPUExecutionProvider'])
      past={f'past_key_values.{l}.{kv}':np.zeros((1,kvh,0,hd),np.float32) for l in range(L) for kv in ('key','value')}
      outs=[]; pos=0
      for chunk in [emb[:20]]+[emb[i:i+1] for i in range(20,25)]:
        n=chunk.shape[0]; pos+=n
        feed={'inputs_embeds':chunk[None],'attention_mask':np.ones((1,pos),np.int64),**past}
        feed={k:v for k,v in feed.items() if k in meta['inputs']}
        r=dict(zip(meta['outputs'],s.run(meta['outputs'],feed)))
        outs.append(r['logits'].reshape(-1))
        past={k.replace('present','past_key_values'):v for k,v in r.items() if k.startswith('present')}
      np.concatenate(outs).astype(np.float32).tofile(f'out_py1311_{d}_{tag}_t{t}.bin')
print('py',ort.__version__)
