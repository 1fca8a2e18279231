// GQA prefill on onnxruntime-node's WebGPU EP vs its CPU EP, tiny fused decoders, empty past.
const path=require('path'),fs=require('fs');
const ort=require(path.resolve(process.argv[2],'node_modules/onnxruntime-node'));
const models=['tiny','tiny-wide']; const variants=(process.argv[3]||'fp32').split(',');
const lens=[8,16,31,32,33,48,64,100];
function rng(seed){let s=seed>>>0;return()=>{s=(s*1664525+1013904223)>>>0;return (s/4294967296)-0.5;};}
(async()=>{
 console.log('ort', ort.env.versions, 'VK_ICD_FILENAMES', process.env.VK_ICD_FILENAMES||'(default)');
 for (const d of models) for (const v of variants) {
  const base=`/work/main/build/test-artifacts/models/${d}`; const man=JSON.parse(fs.readFileSync(`${base}/manifest.json`));
  const {hidden_size:H,num_key_value_heads:kvh,head_dim:hd,num_layers:L}=man.model;
  const file=`${base}/${man.variants[v].graphs.decoder_model_merged.files[0]}`;
  const cpu=await ort.InferenceSession.create(file,{executionProviders:['cpu'],intraOpNumThreads:1});
  let gpu; try { gpu=await ort.InferenceSession.create(file,{executionProviders:['webgpu']}); } catch(e){ console.log('webgpu session failed:', e.message); return; }
  const kvType=cpu.inputMetadata? undefined:undefined;
  const f16 = v.includes('f16') || v==='fp16';
  for (const n of lens) {
   const r=rng(n*7+1); const emb=new Float32Array(n*H).map(()=>r());
   const feed=(T)=>{const f={inputs_embeds:new ort.Tensor('float32',emb,[1,n,H]),attention_mask:new ort.Tensor('int64',new BigInt64Array(n).fill(1n),[1,n])};
     for(let l=0;l<L;l++) for(const kv of ['key','value']) f[`past_key_values.${l}.${kv}`]=new ort.Tensor('float32',new Float32Array(0),[1,kvh,0,hd]); return f;};
   if (f16) { console.log('skip f16 feed'); continue; }
   const a=(await cpu.run(feed())).logits.data, b=(await gpu.run(feed())).logits.data;
   let md=0, mx=0; for(let i=0;i<a.length;i++){md=Math.max(md,Math.abs(a[i]-b[i])); mx=Math.max(mx,Math.abs(a[i]));}
   const am=x=>{let k=0;for(let i=1;i<x.length;i++) if(x[i]>x[k]) k=i; return k;};
   console.log(`${d} ${v} prefill ${String(n).padStart(3)}: max|cpu-webgpu| ${md.toExponential(2)} (max|logit| ${mx.toFixed(2)}) argmax cpu ${am(a)} webgpu ${am(b)}`);
  }
 }
})().catch(e=>{console.error('ERR',e.message);process.exit(1);});
