/**
 * How far q4f16's logits differ between onnxruntime-node (x64 kernels) and onnxruntime-web's WASM build (run in Node,
 * one thread) on the same prefix: for every golden clip of the tiny model, the WASM build decodes it, then both builds
 * decode it again forced onto the WASM run's ids, and the logits of each step are compared in float16 spacings.
 * Prints per clip: the steps, the largest difference at the five largest logits (in spacings) and over all logits
 * (absolute: a spacing near zero is tiny), and the steps
 * where the WASM run's id was not the Node build's choice (with the gap in spacings).
 *
 *   npx tsx tools/probes/onnxruntime-1.31/q4f16-builds/logits.ts [model dir, default build/test-artifacts/models/tiny]
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as node from 'onnxruntime-node';
import * as web from 'onnxruntime-web/wasm';
import { decodeAudioFile } from '../../../../server/audio-file.ts';
import { directorySource } from '../../../../server/model-source.ts';
import { GlmAsrPipeline } from '../../../../src/core/asr/pipeline.ts';
import { OrtRuntime, type OrtModule } from '../../../../src/core/ort/runtime.ts';

web.env.wasm.numThreads = 1;
const ROOT = resolve(import.meta.dirname, '../../../..');
const model = resolve(process.argv[2] ?? resolve(ROOT, 'build/test-artifacts/models/tiny'));
const speech = process.env.SPEECH_DIR ?? resolve(ROOT, '../shared/data/speech');
const goldens = JSON.parse(readFileSync(resolve(ROOT, 'build/test-artifacts/goldens/tiny/goldens.json'), 'utf8')) as {
  max_new_tokens: number;
  clips: { id: string; files: string[] }[];
};

/** A decode on one build; with `forced`, each step's id is forced after its logits are kept. */
async function decode(build: 'node' | 'wasm', pcm: Float32Array, forced?: number[][]) {
  const logits: Float32Array[][] = [];
  let armed = false;
  let w = -1;
  let step = 0;
  const wrap = (path: string, s: any) => {
    if (!path.includes('decoder_model_merged')) return s;
    const run = s.run.bind(s);
    s.run = async (feeds: any, ...rest: unknown[]) => {
      const out = await run(feeds, ...rest);
      if (!armed) return out;
      if (feeds.attention_mask.dims[1] === feeds.inputs_embeds.dims[1]) (w++, (step = 0), logits.push([]));
      else step++;
      const l = out.logits.data as Float32Array;
      logits[w]!.push(Float32Array.from(l));
      const f = forced?.[w]?.[step];
      if (f !== undefined) l[f] = Number.POSITIVE_INFINITY;
      return out;
    };
    return s;
  };
  const module = {
    Tensor: node.Tensor,
    env: node.env,
    InferenceSession: {
      create: async (path: string, options: any) => {
        if (build === 'node') return wrap(path, await node.InferenceSession.create(path, { ...options, intraOpNumThreads: 1 }));
        const data = path + '_data';
        const externalData = existsSync(data) ? [{ path: data.split('/').pop()!, data: readFileSync(data) }] : [];
        return wrap(path, await web.InferenceSession.create(readFileSync(path), { ...options, executionProviders: ['wasm'], externalData }));
      },
    },
  } as unknown as OrtModule;
  const runtime = new OrtRuntime(module, 'cpu', { interOpNumThreads: 1, executionMode: 'sequential' });
  const pipeline = await GlmAsrPipeline.load(runtime, directorySource(model), 'q4f16');
  armed = true;
  const r = await pipeline.transcribe(pcm, { maxNewTokens: goldens.max_new_tokens, repetitionGuard: true });
  await pipeline.release();
  return { ids: r.windows.map((x) => x.tokenIds), logits };
}

const spacing = (x: number) => 2 ** (Math.max(Math.floor(Math.log2(Math.abs(x))), -14) - 10);
let steps = 0;
const flips: string[] = [];
for (const clip of goldens.clips) {
  const file = clip.files.length === 1 ? resolve(speech, clip.files[0]!) : resolve(ROOT, 'build/e2e-fixtures', `${clip.id}.wav`);
  const pcm = await decodeAudioFile(new Uint8Array(readFileSync(file)), file);
  const wasmRun = await decode('wasm', pcm);
  const [a, b] = [await decode('node', pcm, wasmRun.ids), await decode('wasm', pcm, wasmRun.ids)];
  let top5 = 0;
  let all = 0;
  a.logits.forEach((win, wi) =>
    win.forEach((la, si) => {
      const lb = b.logits[wi]![si]!;
      steps++;
      const order = [...la.keys()].sort((x, y) => la[y]! - la[x]! || x - y);
      order.forEach((v, rank) => {
        const d = Math.abs(la[v]! - lb[v]!);
        all = Math.max(all, d);
        if (rank < 5) top5 = Math.max(top5, d / spacing(Math.max(Math.abs(la[v]!), Math.abs(lb[v]!))));
      });
      const forced = wasmRun.ids[wi]![si];
      const top = order[0]!;
      if (forced !== undefined && forced !== top)
        flips.push(`${clip.id} w${wi} s${si}: ${forced} for ${top}, ${(la[top]! - la[forced]!) / spacing(la[top]!)} spacings`);
    }),
  );
  console.log(`${clip.id}\tsteps ${a.logits.flat().length}\tlargest difference: ${top5} spacings at the top 5, ${all.toFixed(4)} over all logits`);
}
console.log(`${flips.length} of ${steps} steps took another id on WASM than on Node:\n  ${flips.join('\n  ')}`);
