/**
 * `npm run bench -- cpu`: the server's CPU path (onnxruntime-node, the full-size random model), side by side in one
 * run on the same weights:
 *  - "before": q4 with every matrix product at MatMulNBits accuracy level 0 (float32 activations);
 *  - q4 as the converter builds it now: the decoder at level 4 (int8 activations), the encoder at 0;
 *  - what the server runs for a q4 where the CPU has int8 dot products: that decoder with q8's audio encoder
 *    (src/core/asr/encoder-variant.ts);
 *  - q8, what the server runs by default there (server/api/models.ts): encoder and decoder on the int8 GEMM.
 * For each: audio encoder ms per 30 s window (it always attends the whole padded window: docs/model.md), prompt ms,
 * and decoder tokens/s over DECODE_TOKENS steps (repetition guard off: random weights never emit EOS) against the
 * copy-bandwidth bound (a step streams the decoder's weights once: tokens/s <= bandwidth / decoder bytes).  Then where
 * the encoders' time goes: onnxruntime's own profiler, summed by op type, for q4's (level 4) and q8's encoder.
 * The level-0 twin is the converter's build with only the `accuracy_level` attribute changed (graphs rewritten by
 * the converter's Python onnx, weights hard-linked, in `<full model>-level0`).  Last, one decode step of q8 (the
 * browsers' WASM variant) and of q4 on one thread in onnxruntime-node and in onnxruntime-web's WASM build (the app's
 * WASM backend, in Node's V8: bench/wasm-profile.ts), by op type: what makes WASM slower on the same graph.  Ends with
 * one JSON summary line.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { resolve } from 'node:path';
import { profileByOp, type OpTime } from '../server/ort/profile.ts';
import { type FilledInput, materialize, wasmProfileByOp } from './wasm-profile.ts';
import { directorySource } from '../server/model-source.ts';
import { createNodeRuntime, intraOpThreads } from '../server/ort/node.ts';
import { GlmAsrPipeline } from '../src/core/asr/pipeline.ts';
import { LogMel } from '../src/core/dsp/mel.ts';
import { type ModelManifest, T, type Variant } from '../src/core/asr/contract.ts';
import { copyBandwidth, FULL_MODEL, fullModelManifest, ROOT, speech, table } from './common.ts';

const VARIANT = 'q4';

const DECODE_TOKENS = Number(process.env['GLMASR_BENCH_CPU_TOKENS'] ?? 32);
/** Beside the full model, so that its weights can be hard links (onnxruntime refuses external data outside a graph's directory, symlinks resolved). */
const LEVEL0 = `${FULL_MODEL}-level0`;
const GRAPHS = ['audio_encoder_q4.onnx', 'decoder_model_merged_q4.onnx'];

/** The full model's directory with its q4 graphs at accuracy level 0 (weights hard-linked, or copied across file systems). */
function level0Twin(): string {
  const stamp = resolve(LEVEL0, '.from');
  const from = `${FULL_MODEL} ${statSync(resolve(FULL_MODEL, 'manifest.json')).mtimeMs}`;
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === from) return LEVEL0;
  rmSync(LEVEL0, { recursive: true, force: true });
  mkdirSync(resolve(LEVEL0, 'onnx'), { recursive: true });
  for (const f of readdirSync(FULL_MODEL)) if (f !== 'onnx') symlinkSync(resolve(FULL_MODEL, f), resolve(LEVEL0, f));
  for (const f of readdirSync(resolve(FULL_MODEL, 'onnx')))
    if (!GRAPHS.includes(f)) linkOrCopy(resolve(FULL_MODEL, 'onnx', f), resolve(LEVEL0, 'onnx', f));
  const script = `
import onnx, sys
src, dst = sys.argv[1], sys.argv[2]
for name in sys.argv[3:]:
    m = onnx.load(f"{src}/{name}", load_external_data=False)
    for n in m.graph.node:
        if n.op_type == "MatMulNBits":
            kept = [a for a in n.attribute if a.name != "accuracy_level"]
            del n.attribute[:]
            n.attribute.extend([*kept, onnx.helper.make_attribute("accuracy_level", 0)])
    onnx.save(m, f"{dst}/{name}")
`;
  execFileSync(
    resolve(ROOT, 'tools/py'),
    ['-c', script, resolve(FULL_MODEL, 'onnx'), resolve(LEVEL0, 'onnx'), ...GRAPHS],
    { stdio: 'inherit' },
  );
  execFileSync('sh', ['-c', `printf %s "$1" > "$2"`, 'sh', from, stamp]);
  return LEVEL0;
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

interface Config {
  label: string;
  dir: string;
  variant: Variant;
  encoder: Variant;
}

interface Row {
  label: string;
  variant: Variant;
  encoderMs: number;
  prefillMs: number;
  tokensPerSecond: number;
}

async function measure(c: Config, pcm: Float32Array): Promise<Row> {
  const pipeline = await GlmAsrPipeline.load(createNodeRuntime(), directorySource(c.dir), c.variant, {
    encoderVariant: c.encoder,
  });
  try {
    const r = await pipeline.transcribe(pcm, { maxNewTokens: DECODE_TOKENS, repetitionGuard: false });
    const w = r.windows[0]!;
    if (w.tokenIds.length !== DECODE_TOKENS) throw new Error(`decoded ${w.tokenIds.length} of ${DECODE_TOKENS} tokens`);
    return {
      label: c.label,
      variant: c.variant,
      encoderMs: w.encoderMs,
      prefillMs: w.prefillMs,
      tokensPerSecond: ((w.tokenIds.length - 1) * 1000) / w.decodeMs,
    };
  } finally {
    await pipeline.release();
  }
}

/** One 30 s window through an encoder graph (its path in the model directory) with onnxruntime's profiler: milliseconds per op type. */
function encoderProfile(file: string, pcm: Float32Array): Promise<OpTime[]> {
  const { features } = new LogMel().window30s(pcm);
  return profileByOp(resolve(FULL_MODEL, file), {
    input_features: { type: 'float32', data: features, dims: [1, 128, 3000] },
    input_features_mask: { type: 'int64', data: new BigInt64Array(3000).fill(1n), dims: [1, 3000] },
  });
}

/** The decoder's inputs for one step after `past` tokens (the middle of a 150-token window), filled with 0.01. */
function stepInputs(manifest: ModelManifest, past: number): Record<string, FilledInput> {
  const { hidden_size: hidden, num_layers: layers, num_key_value_heads: heads, head_dim: dim } = manifest.model;
  const inputs: Record<string, FilledInput> = {
    [T.inputsEmbeds]: { type: 'float32', dims: [1, 1, hidden], fill: 0.01 },
    [T.attentionMask]: { type: 'int64', dims: [1, past + 1], fill: 1 },
  };
  for (let i = 0; i < layers; i++)
    for (const name of [T.pastKey(i), T.pastValue(i)])
      inputs[name] = { type: 'float32', dims: [1, heads, past, dim], fill: 0.01 };
  return inputs;
}

/** One decode step of `variant`'s decoder after `past` tokens in onnxruntime-node: ms per op type (the third run). */
function decoderStepProfile(manifest: ModelManifest, variant: Variant, past: number, threads = 0): Promise<OpTime[]> {
  const file = manifest.variants[variant]!.graphs.decoder_model_merged.files[0]!;
  const inputs = Object.fromEntries(Object.entries(stepInputs(manifest, past)).map(([k, v]) => [k, materialize(v)]));
  return profileByOp(resolve(FULL_MODEL, file), inputs, 3, threads);
}

/** The same step in onnxruntime-web's WASM build (the app's WASM backend), one thread (bench/wasm-profile.ts). */
function wasmDecoderStepProfile(manifest: ModelManifest, variant: Variant, past: number): OpTime[] {
  const [file, ...data] = manifest.variants[variant]!.graphs.decoder_model_merged.files;
  return wasmProfileByOp(resolve(FULL_MODEL, file!), data, stepInputs(manifest, past), 3);
}

const kernelMs = (profile: readonly OpTime[]) => profile.reduce((n, p) => n + p.ms, 0);

function printProfile(title: string, profile: OpTime[]): void {
  const total = kernelMs(profile);
  console.log(`${title} by op type (onnxruntime profiler; kernels ${total.toFixed(1)} ms):`);
  console.log(
    table([
      ['op', 'nodes', 'ms', 'share'],
      ...profile
        .slice(0, 6)
        .map((p) => [p.op, String(p.nodes), p.ms.toFixed(1), `${((100 * p.ms) / total).toFixed(1)}%`]),
    ]),
  );
}

export async function benchCpu(): Promise<void> {
  console.log(
    `\n== cpu: onnxruntime-node, full-size ${VARIANT}: accuracy level 0 vs the decoder at 4 vs q8's encoder, and q8`,
  );
  const manifest = fullModelManifest(false);
  if (!manifest) return;
  if (!manifest.variants.q8) {
    console.log('SKIPPED: the full model has no q8 variant (npm run model:full-random builds it).');
    return;
  }
  const configs: Config[] = [
    { label: 'q4, level 0 (before)', dir: level0Twin(), variant: 'q4', encoder: 'q4' },
    { label: 'q4, decoder at level 4', dir: FULL_MODEL, variant: 'q4', encoder: 'q4' },
    { label: 'q4 + q8 encoder (server, q4)', dir: FULL_MODEL, variant: 'q4', encoder: 'q8' },
    { label: 'q8 (server, int8 dot products)', dir: FULL_MODEL, variant: 'q8', encoder: 'q8' },
  ];
  const { samples: pcm, source } = speech(30);
  console.log(`audio: 30 s (${source}); ${DECODE_TOKENS} decoded tokens; ${intraOpThreads(0)} intra-op threads`);
  // Interleaved, each loaded fresh, twice; the better of two per configuration.
  const runs: Row[] = [];
  for (let i = 0; i < 2; i++) for (const c of configs) runs.push(await measure(c, pcm));
  const rows = configs.map(({ label, variant }): Row => {
    const mine = runs.filter((r) => r.label === label);
    return {
      label,
      variant,
      encoderMs: Math.min(...mine.map((r) => r.encoderMs)),
      prefillMs: Math.min(...mine.map((r) => r.prefillMs)),
      tokensPerSecond: Math.max(...mine.map((r) => r.tokensPerSecond)),
    };
  });
  const bandwidth = copyBandwidth();
  // Each configuration against the bound of its own decoder's bytes (q8's is 1.6x q4's).
  const decoderBytesOf = (variant: Variant) => manifest.variants[variant]!.graphs.decoder_model_merged.bytes;
  const boundOf = (variant: Variant) => (bandwidth * 1e9) / decoderBytesOf(variant);
  const decoderBytes = decoderBytesOf(VARIANT);
  const bound = boundOf(VARIANT);
  console.log(
    table([
      ['configuration', 'encoder ms / 30 s window', 'prompt ms', 'decode tok/s', 'of the bandwidth bound'],
      ...rows.map((r) => [
        r.label,
        r.encoderMs.toFixed(0),
        r.prefillMs.toFixed(0),
        r.tokensPerSecond.toFixed(2),
        `${((100 * r.tokensPerSecond) / boundOf(r.variant)).toFixed(0)}%`,
      ]),
    ]),
  );
  const [before, , , server] = rows as [Row, Row, Row, Row];
  console.log(
    `copy bandwidth ${bandwidth.toFixed(1)} GB/s (read+write); q4 decoder ${(decoderBytes / 1e9).toFixed(2)} GB: bound ` +
      `${bound.toFixed(2)} tok/s.  The server (q8) vs before: encoder ${(before.encoderMs / server.encoderMs).toFixed(2)}x ` +
      `faster, prompt ${(before.prefillMs / server.prefillMs).toFixed(2)}x faster, decode ` +
      `${(server.tokensPerSecond / before.tokensPerSecond).toFixed(2)}x`,
  );
  const profiles = {
    q4: await encoderProfile(manifest.variants.q4!.graphs.audio_encoder.files[0]!, pcm),
    q8: await encoderProfile(manifest.variants.q8.graphs.audio_encoder.files[0]!, pcm),
  };
  printProfile('q4 encoder, one 30 s window,', profiles.q4);
  printProfile('q8 encoder, one 30 s window,', profiles.q8);
  // Where a decode step's time goes (against the bandwidth bound above): one step after 465 tokens, the middle of a
  // 30 s window decoding 150.
  const step = await decoderStepProfile(manifest, VARIANT, 465);
  printProfile('q4 decoder, one step after 465 tokens (the third run),', step);
  // WASM against Node on the same graphs, kernel by kernel: one step of q8 (WASM's variant) and of q4, one thread each
  // (onnxruntime-web's threads need a browser's workers; `npm run bench -- asr` has Chromium's end to end).
  const oneThread: { variant: Variant; node: OpTime[]; wasm: OpTime[] }[] = [];
  for (const variant of ['q8', 'q4'] as const)
    oneThread.push({
      variant,
      node: await decoderStepProfile(manifest, variant, 465, 1),
      wasm: wasmDecoderStepProfile(manifest, variant, 465),
    });
  console.log('one decoder step after 465 tokens, one thread: onnxruntime-node vs onnxruntime-web WASM (same graph):');
  console.log(
    table([
      ['variant', 'node kernels ms', 'WASM kernels ms', 'WASM / node', 'largest op: node ms', 'WASM ms'],
      ...oneThread.map(({ variant, node, wasm }) => {
        const top = node[0]!;
        const same = wasm.find((p) => p.op === top.op);
        return [
          variant,
          kernelMs(node).toFixed(0),
          kernelMs(wasm).toFixed(0),
          `${(kernelMs(wasm) / kernelMs(node)).toFixed(2)}x the time`,
          `${top.op} ${top.ms.toFixed(0)}`,
          same ? same.ms.toFixed(0) : 'n/a',
        ];
      }),
    ]),
  );
  for (const { variant, wasm } of oneThread) printProfile(`${variant} decoder step in WASM, one thread,`, wasm);
  console.log(
    JSON.stringify({
      section: 'cpu',
      variant: VARIANT,
      threads: intraOpThreads(0),
      tokens: DECODE_TOKENS,
      bandwidthGBps: bandwidth,
      boundTokensPerSecond: bound,
      rows,
      encoderProfiles: profiles,
      decoderStepProfile: step,
      oneThreadStepProfiles: oneThread,
    }),
  );
}
