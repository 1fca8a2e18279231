// One prefill of S tokens (empty past) on WebGPU vs CPU; per-row max error; also with V = one-hot per key position
// to see which keys a row attends to.
const path=require('path');
const ort=require(path.resolve(process.argv[2],'node_modules/onnxruntime-node'));
const H=16,KV=4,D=128,W=(H+2*KV)*D; const S=+(process.argv[3]||40);
(async()=>{
  const file=`/tmp/research/gqa/gqa_h16_kv4_d128_fp32.onnx`;
  const cpu=await ort.InferenceSession.create(file,{executionProviders:['cpu'],intraOpNumThreads:1});
  const gpu=await ort.InferenceSession.create(file,{executionProviders:['webgpu']});
  // Q = K = 0 (uniform attention over the causal prefix), V of key j = j+1 in every dim: output row i = mean(1..i+1) = (i+2)/2.
  const qkv=new Float32Array(S*W);
  for(let t=0;t<S;t++) for(let h=0;h<KV;h++) for(let d=0;d<D;d++) qkv[t*W+(H+KV)*D+h*D+d]=t+1;
  const feeds=()=>({qkv:new ort.Tensor('float32',qkv,[1,S,W]),past_key:new ort.Tensor('float32',new Float32Array(0),[1,KV,0,D]),past_value:new ort.Tensor('float32',new Float32Array(0),[1,KV,0,D]),seqlens_k:new ort.Tensor('int32',Int32Array.of(S-1),[1]),total_seq:new ort.Tensor('int32',Int32Array.of(S),[])});
  const a=(await cpu.run(feeds())).out.data, b=(await gpu.run(feeds())).out.data;
  const rows=[]; for(let i=0;i<S;i++){ rows.push(`${i}:${a[i*H*D].toFixed(2)}/${b[i*H*D].toFixed(2)}`); }
  console.log(`S=${S}, uniform attention, V=key index+1; row: cpu/webgpu (expected (i+2)/2)`); console.log(rows.join('  '));
})().catch(e=>{console.error('ERR',e.message);process.exit(1);});
