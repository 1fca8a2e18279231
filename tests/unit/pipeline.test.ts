/**
 * Parity of the TypeScript pipeline (src/core/asr/pipeline.ts on onnxruntime-node) with the official implementation:
 * for every golden clip of both tiny models, the same windows, the same prompt ids, encoder rows within 1e-4 and
 * exactly the greedy token ids of transformers' `generate()`; on the q4 and q8 graphs (int8 activations), exactly what
 * onnxruntime-Python decodes from the same graphs and the same log-mel.  The goldens were computed by
 * tools/glmasr_onnx/goldens.py (PyPI transformers).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createNodeRuntime } from '../../server/ort/node.ts';
import { GlmAsrPipeline, joinWindowTexts, repeatsAtTail } from '../../src/core/asr/pipeline.ts';
import { audioTokenCount, planWindows } from '../../src/core/asr/windows.ts';
import { directorySource } from '../../server/model-source.ts';
import { ARTIFACTS, GOLDENS_MISSING, SPEECH_MISSING, loadSafetensors } from '../helpers/data.ts';
import {
  clipAudio,
  CPU_RUNS,
  cpuRunPipeline,
  goldens,
  modelDir,
  TINY_MODELS,
  ortReference,
} from '../helpers/goldens.ts';
import { resolve } from 'node:path';

const skip = () => Boolean(SPEECH_MISSING() || TINY_MODELS.some((m) => GOLDENS_MISSING(m)));

describe.skipIf(skip()).each(TINY_MODELS)('%s model, fp32, onnxruntime-node', (model) => {
  let pipeline: GlmAsrPipeline;
  beforeAll(async () => {
    pipeline = await GlmAsrPipeline.load(createNodeRuntime(1), directorySource(modelDir(model)), 'fp32');
  });
  afterAll(() => pipeline?.release());

  test('windows, prompts and encoder rows match the goldens', async () => {
    const g = goldens(model);
    const tensors = loadSafetensors(resolve(ARTIFACTS, 'goldens', model, 'goldens.safetensors'));
    let worst = 0;
    let scale = 0;
    for (const clip of g.clips) {
      const pcm = clipAudio(clip);
      expect(planWindows(pcm), clip.id).toEqual(clip.windows.map((w) => ({ start: w.start, end: w.end })));
      for (const [i, w] of clip.windows.entries()) {
        expect(audioTokenCount(w.end - w.start)).toBe(w.audio_tokens);
        expect(pipeline.tokenizer.prompt(w.audio_tokens), `${clip.id}/${i} prompt`).toEqual(w.prompt_ids);
        const rows = await pipeline.encode(pcm.subarray(w.start, w.end));
        const ref = tensors.get(`${clip.id}/${i}/audio_features`)!.data as Float32Array;
        expect(rows.length).toBe(ref.length);
        for (let k = 0; k < ref.length; k++) {
          worst = Math.max(worst, Math.abs(rows[k]! - ref[k]!));
          scale = Math.max(scale, Math.abs(ref[k]!));
        }
      }
    }
    // Relative to the rows' magnitude: the encoder amplifies the (≤ 3e-5) log-mel float differences.
    console.log(
      `[${model}] audio_features max |TS - official| = ${worst.toExponential(2)} (max |row value| ${scale.toFixed(2)})`,
    );
    expect(worst).toBeLessThanOrEqual(1e-4 * Math.max(1, scale));
  });

  test('greedy token ids equal transformers generate() on every golden clip', async () => {
    const g = goldens(model);
    console.log(`[${model}] smallest top-1 margin of the official decodes: ${g.min_margin.toExponential(2)}`);
    for (const clip of g.clips) {
      const result = await pipeline.transcribe(clipAudio(clip), { maxNewTokens: g.max_new_tokens });
      expect(
        result.windows.map((w) => w.tokenIds),
        clip.id,
      ).toEqual(clip.windows.map((w) => w.token_ids));
      expect(result.windows.map((w) => w.text)).toEqual(clip.windows.map((w) => w.text));
      expect(result.text).toBe(joinWindowTexts(clip.windows.map((w) => w.text)));
    }
  });
});

describe.skipIf(skip()).each(CPU_RUNS)('$model model, $variant with the $encoder encoder, node vs Python', (run) => {
  test('greedy token ids equal the Python decode of the same graphs from the same log-mel', async () => {
    const g = goldens(run.model);
    const ref = ortReference(run.model).variants[run.reference]!.windows;
    for (const clip of g.clips) {
      const pcm = clipAudio(clip);
      const pipeline = await cpuRunPipeline(run, clip, pcm);
      try {
        expect(pipeline.encoderVariant).toBe(run.encoder);
        const result = await pipeline.transcribe(pcm, { maxNewTokens: g.max_new_tokens });
        const expected = ref.filter((r) => r.clip === clip.id).map((r) => r.token_ids);
        expect(
          result.windows.map((w) => w.tokenIds),
          clip.id,
        ).toEqual(expected);
      } finally {
        await pipeline.release();
      }
    }
    const margin = Math.min(...ref.map((r) => r.first_margin));
    console.log(
      `[${run.model}] ${run.reference}: smallest first-step top-1 margin of the Python decodes ${margin.toExponential(2)}`,
    );
  });
});

test('the repetition guard stops loops and leaves ordinary repeats alone', () => {
  expect(repeatsAtTail(Array(24).fill(7))).toBe(true);
  expect(repeatsAtTail(Array(23).fill(7))).toBe(false);
  expect(repeatsAtTail([1, 2, 3, 4, 5, 6, ...Array(6).fill([1, 2, 3, 4]).flat()])).toBe(true);
  expect(repeatsAtTail([9, 9, 9, 1, 2, 1, 2, 1, 2])).toBe(false);
  expect(repeatsAtTail([5, 6, 7, 8, 9, 10, 11, 12, 5, 6, 7, 8, 9, 10, 11, 12, 5, 6, 7, 8, 9, 10, 11, 12])).toBe(false);
});

test('window texts join with spaces, but not next to CJK', () => {
  expect(joinWindowTexts(['Hello there.', 'How are you?'])).toBe('Hello there. How are you?');
  expect(joinWindowTexts(['我还能再搞一个', '就算是非常小的声音'])).toBe('我还能再搞一个就算是非常小的声音');
  expect(joinWindowTexts(['', 'x', ''])).toBe('x');
});
