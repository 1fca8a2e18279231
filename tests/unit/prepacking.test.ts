/**
 * q4f16 on the WASM backend is made without prepacked weights (src/core/asr/load.ts, PREPACK_FREE_ON_WASM): on the
 * real onnxruntime-web WASM build (the app's CPU path, here in Node's V8), every q4f16 graph's session gets
 * onnxruntime's `session.disable_prepacking`, q4's do not, and neither do onnxruntime-node's (whose 4-bit kernels use
 * the prepacked weights).  And the token ids are the same both ways on every golden clip of both tiny models: the same
 * graphs, made with and without prepacking, in one run.  (What it saves is measured on the full-size model:
 * tools/probes/wasm-heap/heap.mjs, docs/measurements.md; the tiny models' weights are too small to move the heap.)
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { readFile } from 'node:fs/promises';
import * as ortWeb from 'onnxruntime-web/wasm';
import type { InferenceSession } from 'onnxruntime-web';
import { createNodeRuntime, nodeSessionOptions } from '../../server/ort/node.ts';
import { directorySource } from '../../server/model-source.ts';
import { GlmAsrPipeline, type ModelSource } from '../../src/core/asr/pipeline.ts';
import { DISABLE_PREPACKING_KEY, OrtRuntime, type OrtModule } from '../../src/core/ort/runtime.ts';
import type { Variant } from '../../src/core/asr/contract.ts';
import { GOLDENS_MISSING, SPEECH_MISSING } from '../helpers/data.ts';
import { clipAudio, goldens, modelDir, TINY_MODELS } from '../helpers/goldens.ts';

const skip = () => Boolean(SPEECH_MISSING() || TINY_MODELS.some((m) => GOLDENS_MISSING(m)));

/**
 * The options each session of `ort` is asked for, the real create running behind (with `pass` applied to what it
 * gets).
 */
function recording(
  ort: OrtModule,
  pass: (o: InferenceSession.SessionOptions) => InferenceSession.SessionOptions = (o) => o,
): { ort: OrtModule; seen: InferenceSession.SessionOptions[] } {
  const seen: InferenceSession.SessionOptions[] = [];
  const create = ort.InferenceSession.create.bind(ort.InferenceSession) as (
    ...a: unknown[]
  ) => Promise<InferenceSession>;
  const InferenceSessionRecorded = {
    create: (model: unknown, options: InferenceSession.SessionOptions) => {
      seen.push(structuredClone(options));
      return create(model, pass(options));
    },
  };
  return { ort: { ...ort, InferenceSession: InferenceSessionRecorded } as unknown as OrtModule, seen };
}

/** `dir` with its graphs read as bytes (onnxruntime-web takes bytes; directorySource gives onnxruntime-node paths). */
function bytesSource(dir: string): ModelSource {
  const files = directorySource(dir);
  return { ...files, binary: async (p) => new Uint8Array(await readFile((await files.binary(p)) as string)) };
}

const prepackingOff = (o: InferenceSession.SessionOptions) =>
  (o.extra as Record<string, unknown> | undefined)?.[DISABLE_PREPACKING_KEY] === '1';

beforeAll(() => {
  ortWeb.env.wasm.numThreads = 1;
  ortWeb.env.logLevel = 'error';
});

describe.skipIf(skip())('prepacking on the WASM backend', () => {
  // onnxruntime takes an unknown config key silently, so a misspelled one would pass the tests below.
  test("the key is onnxruntime's own (kOrtSessionOptionsConfigDisablePrepacking)", () => {
    expect(DISABLE_PREPACKING_KEY).toBe('session.disable_prepacking');
  });

  test.each<[Variant, boolean]>([
    ['q4f16', true],
    ['q4', false],
  ])('%s: prepacking off is %s for every graph on WASM, and never on onnxruntime-node', async (variant, off) => {
    const web = recording(ortWeb as unknown as OrtModule);
    const p = await GlmAsrPipeline.load(new OrtRuntime(web.ort, 'wasm'), bytesSource(modelDir('tiny')), variant);
    await p.release();
    expect(web.seen.map(prepackingOff)).toEqual([off, off, off]);

    const node = createNodeRuntime(1);
    const nodeSeen = recording(node.ort);
    const q = await GlmAsrPipeline.load(
      new OrtRuntime(nodeSeen.ort, 'cpu', nodeSessionOptions(1)),
      directorySource(modelDir('tiny')),
      variant,
    );
    await q.release();
    expect(nodeSeen.seen.map(prepackingOff)).toEqual([false, false, false]);
  });

  test.each(TINY_MODELS)(
    '%s q4f16 on WASM: the same token ids with prepacking as without, every golden clip',
    async (model) => {
      // The same runtime with the option taken out on its way to onnxruntime: the default (prepacked weights).
      const prepacked = recording(ortWeb as unknown as OrtModule, (o) => {
        const { [DISABLE_PREPACKING_KEY]: _, ...extra } = (o.extra ?? {}) as Record<string, unknown>;
        return { ...o, extra };
      });
      const without = await GlmAsrPipeline.load(
        new OrtRuntime(ortWeb as unknown as OrtModule, 'wasm'),
        bytesSource(modelDir(model)),
        'q4f16',
      );
      const withPrepack = await GlmAsrPipeline.load(
        new OrtRuntime(prepacked.ort, 'wasm'),
        bytesSource(modelDir(model)),
        'q4f16',
      );
      expect(prepacked.seen.map(prepackingOff)).toEqual([true, true, true]); // asked for, and stripped on the way
      const g = goldens(model);
      let tokens = 0;
      for (const clip of g.clips) {
        const pcm = clipAudio(clip);
        const a = await without.transcribe(pcm, { maxNewTokens: g.max_new_tokens });
        const b = await withPrepack.transcribe(pcm, { maxNewTokens: g.max_new_tokens });
        const ids = (t: typeof a) => t.windows.map((w) => w.tokenIds);
        expect(ids(a), clip.id).toEqual(ids(b));
        tokens += ids(a).flat().length;
      }
      expect(tokens).toBeGreaterThan(g.clips.length); // every clip decoded something
      await without.release();
      await withPrepack.release();
    },
    120_000,
  );
});
