const path=require('path'),fs=require('fs');
const ort=require(path.resolve(process.argv[2],'node_modules/onnxruntime-node'));
(async()=>{for(const d of ['tiny','tiny-wide']) for (const t of [1,2]){
  const s=await ort.InferenceSession.create(`${d}_enc_q4_acc4.onnx`,{intraOpNumThreads:t});
  const mb=fs.readFileSync(`${d}_mel.bin`), kb=fs.readFileSync(`${d}_mask.bin`);
  const r=await s.run({input_features:new ort.Tensor('float32',new Float32Array(mb.buffer.slice(mb.byteOffset,mb.byteOffset+mb.byteLength)),[1,128,3000]),input_features_mask:new ort.Tensor('int64',new BigInt64Array(kb.buffer.slice(kb.byteOffset,kb.byteOffset+kb.byteLength)),[1,3000])});
  const o=r[s.outputNames[0]]; const py=new Float32Array(fs.readFileSync(`encout_py_${d}_t${t}.bin`).buffer.slice(0));
  let md=0,eq=o.data.length===py.length; for(let i=0;i<py.length;i++){const x=Math.abs(o.data[i]-py[i]); if(x>md)md=x; if(o.data[i]!==py[i]) eq=false;}
  console.log(`${process.argv[3]} ${d} encoder q4 acc4 threads${t} vs python 1.31.1: ${eq?'bit-equal':'maxdiff '+md}`);
}})();
