/**
 * The Node reference decode of a file, teacher-forced onto another run's token ids: the app's pipeline on
 * onnxruntime-node (as `npm run transcribe`), except that at each decoder step the id the other run chose is made the
 * winner after the reference's own logits are read.  So every step is scored on the other run's prefix, and a
 * difference at one step does not make every later step incomparable.
 *
 * Run by `forcedDecode` (reference.ts) as `npx tsx e2e/helpers/forced-decode.ts`, with a JSON request on stdin:
 * `{model, variant, file, maxNewTokens, windows: number[][]}`; prints one JSON line: `ForcedStep[][]`, every decoder step
 * of every window.
 */
import { readFileSync } from 'node:fs';
import { decodeAudioFile } from '../../server/audio-file.ts';
import { directorySource } from '../../server/model-source.ts';
import { createNodeRuntime, nodeSessionOptions } from '../../server/ort/node.ts';
import { isVariant, T } from '../../src/core/asr/contract.ts';
import { GlmAsrPipeline } from '../../src/core/asr/pipeline.ts';
import { OrtRuntime, type Feeds, type OrtModule, type Outputs, type Tensor } from '../../src/core/ort/runtime.ts';

export interface ForcedRequest {
  model: string;
  variant: string;
  file: string;
  maxNewTokens: number;
  /** The other run's token ids per window (each window's EOS included when it stopped there). */
  windows: number[][];
}

/** One decoder step of the reference, on the forced prefix. */
export interface ForcedStep {
  /** The reference's own choice (the first id on ties, as the pipeline's argmax) and its logit. */
  top: number;
  topLogit: number;
  /**
   * The id forced at this step (the other run's) and its logit in the reference; null past the other run's last id
   * (the reference then decodes on by itself, so a window that ran longer than the other run's shows here).
   */
  forced: number | null;
  forcedLogit: number | null;
}

async function main(): Promise<void> {
  const req = JSON.parse(readFileSync(0, 'utf8')) as ForcedRequest;
  if (!isVariant(req.variant)) throw new Error(`unknown variant ${req.variant}`);
  // Every window of the request has its steps, in the job's window order (a window the reference does not decode, one
  // with no audio, stays empty); a window past the request's gets its own.
  const steps: ForcedStep[][] = req.windows.map(() => []);
  let window = -1;
  let step = -1;
  // The load's warm-up runs the decoder too; only the file's runs count.
  let armed = false;

  // The decoder session's logits are read, then rewritten so that the forced id is the argmax.
  const force = (out: Outputs) => {
    if (!armed) return;
    if (window < 0) throw new Error('a decoder run before the first window-start event');
    step++;
    const logits = (out[T.logits] as Tensor).data as Float32Array;
    const forced = req.windows[window]?.[step] ?? null;
    if (forced !== null && !(Number.isInteger(forced) && forced >= 0 && forced < logits.length))
      throw new Error(`window ${window} step ${step}: id ${forced} is not one of the ${logits.length} logits`);
    let top = 0;
    for (let v = 1; v < logits.length; v++) if ((logits[v] as number) > (logits[top] as number)) top = v;
    const topLogit = logits[top] as number;
    const forcedLogit = forced === null ? null : (logits[forced] as number);
    if (!Number.isFinite(topLogit) || (forcedLogit !== null && !Number.isFinite(forcedLogit)))
      throw new Error(`window ${window} step ${step}: a logit is not finite (${topLogit}, ${forcedLogit})`);
    (steps[window] ??= []).push({ top, topLogit, forced, forcedLogit });
    if (forced !== null) logits[forced] = Number.POSITIVE_INFINITY;
  };

  // onnxruntime-node as the server's runtime holds it, its decoder sessions wrapped.
  const ort = createNodeRuntime(0).ort;
  type Create = OrtModule['InferenceSession']['create'];
  const create = async (path: string | Uint8Array, options: Parameters<Create>[1]) => {
    const session = await ort.InferenceSession.create(path as string, options);
    if (typeof path !== 'string' || !path.includes('decoder_model_merged')) return session;
    const run = session.run.bind(session) as (...args: unknown[]) => Promise<Outputs>;
    (session as { run: unknown }).run = async (feeds: Feeds, ...rest: unknown[]) => {
      const out = await run(feeds, ...rest);
      force(out);
      return out;
    };
    return session;
  };
  const module = { Tensor: ort.Tensor, env: ort.env, InferenceSession: { create } } as unknown as OrtModule;
  // One intra-op thread, as the measurement the spec's bound comes from (the tiny model needs no more).
  const runtime = new OrtRuntime(module, 'cpu', nodeSessionOptions(1));
  const pipeline = await GlmAsrPipeline.load(runtime, directorySource(req.model), req.variant);
  armed = true;
  const pcm = await decodeAudioFile(new Uint8Array(readFileSync(req.file)), req.file);
  await pipeline.transcribe(pcm, {
    maxNewTokens: req.maxNewTokens,
    repetitionGuard: true,
    // The CPU feeds a window's prompt in one decoder run: each run after a window's start is its next step.
    onEvent: (e) => {
      if (e.type === 'window-start') [window, step] = [e.index, -1];
    },
  });
  await pipeline.release();
  process.stdout.write(JSON.stringify(steps) + '\n');
}

await main();
