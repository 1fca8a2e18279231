const path = require('path'); const fs = require('fs');
const ort = require(path.resolve(process.argv[2], 'node_modules/onnxruntime-node'));
(async () => {
  const out = {};
  for (const acc of [0, 4]) for (const threads of [1, 2]) {
    const s = await ort.InferenceSession.create(`/tmp/research/parity/mnb_acc${acc}.onnx`, { intraOpNumThreads: threads, interOpNumThreads: 1 });
    for (const M of [1, 16, 150]) {
      const buf = fs.readFileSync(`/tmp/research/parity/x${M}.bin`);
      const x = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
      const r = await s.run({ x: new ort.Tensor('float32', x, [M, 2048]) });
      fs.writeFileSync(`/tmp/research/parity/out_${process.argv[3]}_acc${acc}_t${threads}_M${M}.bin`, Buffer.from(r.y.data.buffer, r.y.data.byteOffset, r.y.data.byteLength));
    }
  }
  console.log(process.argv[3], ort.env.versions);
})();
