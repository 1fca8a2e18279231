// Synthetic GroupQueryAttention with the full-size decoder's shape (16 heads, 4 KV heads, head 128, packed QKV,
// rotary): a prompt of P tokens in chunks of C on WebGPU (separate past/present) vs one CPU run of the whole prompt.
const path=require('path');
const ort=require(path.resolve(process.argv[2],'node_modules/onnxruntime-node'));
const dtype=process.argv[3]||'fp32'; const H=16,KV=4,D=128,W=(H+2*KV)*D;
function rng(seed){let s=seed>>>0;return()=>{s=(s*1664525+1013904223)>>>0;return (s/4294967296)-0.5;};}
const f2h=(f)=>{const b=new Float32Array(1),i=new Uint32Array(b.buffer);b[0]=f;const x=i[0];const s=(x>>>16)&0x8000;let e=((x>>>23)&0xff)-127+15;let m=x&0x7fffff;if(e<=0)return s;if(e>=31)return s|0x7c00;return s|(e<<10)|((m+0x1000)>>>13);};
const h2f=(h)=>{const s=h&0x8000?-1:1,e=(h>>>10)&0x1f,m=h&0x3ff;if(e===0)return s*m*Math.pow(2,-24);if(e===31)return m?NaN:s*Infinity;return s*(1+m/1024)*Math.pow(2,e-15);};
const T=(arr,dims)=>dtype==='fp32'?new ort.Tensor('float32',arr,dims):new ort.Tensor('float16',Uint16Array.from(arr,f2h),dims);
const F=(t)=>dtype==='fp32'?t.data:Float32Array.from(t.data,h2f);
(async()=>{
  const file=`/tmp/research/gqa/gqa_h16_kv4_d128_${dtype}.onnx`;
  const cpu=await ort.InferenceSession.create(file,{executionProviders:['cpu'],intraOpNumThreads:1});
  const gpu=await ort.InferenceSession.create(file,{executionProviders:['webgpu']});
  console.log('ort',ort.env.versions.node,dtype,'H16 KV4 D128');
  const P=+(process.argv[4]||160); const r=rng(7); const qkv=new Float32Array(P*W).map(()=>r()*2);
  const run=async(sess,C)=>{let pk=T(new Float32Array(0),[1,KV,0,D]),pv=T(new Float32Array(0),[1,KV,0,D]),pos=0,lastOut;const outs=[];
    while(pos<P){const n=Math.min(C,P-pos);const total=pos+n;
      const o=await sess.run({qkv:T(qkv.slice(pos*W,total*W),[1,n,W]),past_key:pk,past_value:pv,seqlens_k:new ort.Tensor('int32',Int32Array.of(total-1),[1]),total_seq:new ort.Tensor('int32',Int32Array.of(total),[])});
      outs.push(F(o.out)); pk=o.present_key; pv=o.present_value; pos=total;}
    const all=new Float32Array(P*H*D); let off=0; for(const o of outs){all.set(o,off);off+=o.length;} return all;};
  const ref=await run(cpu,P);
  for (const C of (process.argv[5]||'16,31,32,33,48,64,100,160').split(',').map(Number)) {
    const g=await run(gpu,C); let md=0,firstBad=-1;
    for(let i=0;i<ref.length;i++){const d=Math.abs(ref[i]-g[i]); if(d>md)md=d; if(firstBad<0&&d>(dtype==='fp32'?1e-3:2e-2)) firstBad=Math.floor(i/(H*D));}
    console.log(`prompt ${P} in chunks of ${String(C).padStart(3)}: max|cpu-webgpu| over all ${P} output rows ${md.toExponential(2)}${firstBad>=0?`, first wrong row ${firstBad}`:''}`);
  }
})().catch(e=>{console.error('ERR',e.message);process.exit(1);});
