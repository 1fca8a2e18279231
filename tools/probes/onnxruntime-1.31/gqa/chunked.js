// Prompt of P tokens run in chunks of C on the WebGPU EP (past from the previous chunk, separate past/present buffers),
// compared with a single CPU run of the whole prompt.  Empty-past runs repeated to see run-to-run variation.
const path=require('path'),fs=require('fs');
const ort=require(path.resolve(process.argv[2],'node_modules/onnxruntime-node'));
function rng(seed){let s=seed>>>0;return()=>{s=(s*1664525+1013904223)>>>0;return (s/4294967296)-0.5;};}
(async()=>{
 console.log('ort', ort.env.versions);
 for (const d of ['tiny','tiny-wide']) {
  const base=`/work/main/build/test-artifacts/models/${d}`; const man=JSON.parse(fs.readFileSync(`${base}/manifest.json`));
  const {hidden_size:H,num_key_value_heads:kvh,head_dim:hd,num_layers:L}=man.model;
  const file=`${base}/${man.variants.fp32.graphs.decoder_model_merged.files[0]}`;
  const cpu=await ort.InferenceSession.create(file,{executionProviders:['cpu'],intraOpNumThreads:1});
  const gpu=await ort.InferenceSession.create(file,{executionProviders:['webgpu']});
  const P=96; const r=rng(99); const emb=new Float32Array(P*H).map(()=>r());
  const empty=()=>{const p={};for(let l=0;l<L;l++) for(const kv of ['key','value']) p[`past_key_values.${l}.${kv}`]=new ort.Tensor('float32',new Float32Array(0),[1,kvh,0,hd]);return p;};
  const runChunks=async(sess,C)=>{let past=empty(),pos=0,out;
    while(pos<P){const n=Math.min(C,P-pos); const total=pos+n;
      const res=await sess.run({inputs_embeds:new ort.Tensor('float32',emb.slice(pos*H,total*H),[1,n,H]),attention_mask:new ort.Tensor('int64',new BigInt64Array(total).fill(1n),[1,total]),...past});
      past={}; for(const [k,v] of Object.entries(res)) if(k.startsWith('present')) past[k.replace('present','past_key_values')]=v; out=res.logits.data; pos=total;}
    return out;};
  const ref=await runChunks(cpu,P);
  for (const C of [16,24,31,32,48,96]) { const rows=[];
    for (let rep=0;rep<3;rep++){ const g=await runChunks(gpu,C); let md=0; for(let i=0;i<ref.length;i++) md=Math.max(md,Math.abs(ref[i]-g[i])); rows.push(md.toExponential(1)); }
    console.log(`${d}: 96-token prompt in chunks of ${String(C).padStart(2)} on WebGPU vs one CPU run, max|diff| of last logits, 3 runs: ${rows.join(' ')}`);
  }
 }
})().catch(e=>{console.error('ERR',e.message);process.exit(1);});
