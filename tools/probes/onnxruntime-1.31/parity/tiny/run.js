const path=require('path'),fs=require('fs');
const ort=require(path.resolve(process.argv[2],'node_modules/onnxruntime-node')); const who=process.argv[3];
(async()=>{
 for (const d of ['tiny','tiny-wide']) {
  const meta=JSON.parse(fs.readFileSync(`${d}_meta.json`)); const {H,kvh,hd,L}=meta;
  const b=fs.readFileSync(`${d}_emb.bin`); const emb=new Float32Array(b.buffer.slice(b.byteOffset,b.byteOffset+b.byteLength));
  for (const [tag,p] of [['acc4',`${d}_dec_q4_acc4.onnx`],['acc0',`/work/main/build/test-artifacts/models/${d}/onnx/decoder_model_merged_q4.onnx`]]) for (const t of [1,2]) {
   const s=await ort.InferenceSession.create(p,{intraOpNumThreads:t,interOpNumThreads:1});
   let past={}; for(let l=0;l<L;l++) for(const kv of ['key','value']) past[`past_key_values.${l}.${kv}`]=new ort.Tensor('float32',new Float32Array(0),[1,kvh,0,hd]);
   const outs=[]; let pos=0; const chunks=[[0,20]]; for(let i=20;i<25;i++) chunks.push([i,i+1]);
   for (const [a,z] of chunks) { const n=z-a; pos+=n;
     const feed={inputs_embeds:new ort.Tensor('float32',emb.slice(a*H,z*H),[1,n,H]),attention_mask:new ort.Tensor('int64',new BigInt64Array(pos).fill(1n),[1,pos]),...past};
     for (const k of Object.keys(feed)) if(!meta.inputs.includes(k)) delete feed[k];
     const r=await s.run(feed); outs.push(Buffer.from(r.logits.data.buffer,r.logits.data.byteOffset,r.logits.data.byteLength));
     past={}; for (const [k,v] of Object.entries(r)) if(k.startsWith('present')) past[k.replace('present','past_key_values')]=v; }
   fs.writeFileSync(`out_${who}_${d}_${tag}_t${t}.bin`,Buffer.concat(outs));
  }}
 console.log(who, ort.env.versions);
})();
