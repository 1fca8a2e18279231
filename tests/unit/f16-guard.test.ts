/**
 * The f16 guard (pipeline.encodeChecked): a window whose half-precision audio features hold inf/NaN is encoded again
 * by the float32 twin's encoder, and the result says so.  The model is the tiny checkpoint with conv1 scaled ×1e5
 * (tools: `tiny --overflow-from`): its q4f16 encoder really overflows, its q4 twin does not.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { directorySource } from '../../server/model-source.ts';
import type { TranscribeEvent } from '../../src/core/asr/contract.ts';
import { PipelineError } from '../../src/core/asr/errors.ts';
import { createNodeRuntime } from '../../server/ort/node.ts';
import { GlmAsrPipeline } from '../../src/core/asr/pipeline.ts';
import { ARTIFACTS, missing } from '../helpers/data.ts';

const DIR = resolve(ARTIFACTS, 'models', 'tiny-overflow');
const skip = () => Boolean(missing(resolve(DIR, 'manifest.json'), 'built by scripts/test-artifacts.sh'));

/** 3 s of a rising tone with a little deterministic noise. */
function audio(): Float32Array {
  const pcm = new Float32Array(48_000);
  let seed = 1;
  for (let i = 0; i < pcm.length; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    pcm[i] = 0.3 * Math.sin(2 * Math.PI * (200 + i / 200) * (i / 16_000)) + 0.01 * (seed / 2 ** 31 - 0.5);
  }
  return pcm;
}

const finite = (a: Float32Array) => a.every((x) => Number.isFinite(x));

describe.skipIf(skip())('f16 guard on a model whose audio path overflows float16', () => {
  let f16: GlmAsrPipeline;
  let f32: GlmAsrPipeline;
  beforeAll(async () => {
    f16 = await GlmAsrPipeline.load(createNodeRuntime(1), directorySource(DIR), 'q4f16');
    f32 = await GlmAsrPipeline.load(createNodeRuntime(1), directorySource(DIR), 'q4');
  });
  afterAll(async () => {
    await f16?.release();
    await f32?.release();
  });

  test('the q4f16 encoder overflows; the window is encoded by the q4 twin, exactly as the q4 pipeline does', async () => {
    const pcm = audio();
    expect(finite(await f16.encode(pcm))).toBe(false); // the case is real, not assumed
    const checked = await f16.encodeChecked(pcm);
    expect(checked.variant).toBe('q4');
    expect(finite(checked.features)).toBe(true);
    expect(checked.features).toEqual(await f32.encode(pcm));
  });

  test('a transcription says which windows were re-encoded', async () => {
    const events: TranscribeEvent[] = [];
    const result = await f16.transcribe(audio(), { maxNewTokens: 4, onEvent: (e) => events.push(e) });
    expect(result.windows.map((w) => w.encoderVariant)).toEqual(['q4']);
    expect(events.filter((e) => e.type === 'precision-fallback')).toEqual([
      { type: 'precision-fallback', index: 0, from: 'q4f16', to: 'q4' },
    ]);
  });

  test('without a reachable twin the window fails with its own error, not NaN text', async () => {
    const base = directorySource(DIR);
    const offline = {
      ...base,
      binary: async (p: string) => {
        if (p.includes('_q4.')) throw new Error('network unreachable');
        return base.binary(p);
      },
    };
    const p = await GlmAsrPipeline.load(createNodeRuntime(1), base, 'q4f16', { twinSource: offline });
    try {
      const err = await p.encodeChecked(audio()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PipelineError);
      expect((err as PipelineError).code).toBe('NON_FINITE');
      expect((err as PipelineError).message).toMatch(/float32 twin \(q4\) could not be loaded: .*network unreachable/);
    } finally {
      await p.release();
    }
  });
});
