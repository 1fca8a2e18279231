/**
 * The job runner's failover (src/core/asr/job.ts) with real window transcribers: the tiny model on onnxruntime-node,
 * fp32 and q4.  A transcriber that becomes unavailable after its first window (as a lost GPU does) hands the failed
 * window and the rest to the next one: the finished windows stay, the switch is announced once, and the token ids
 * equal the official goldens.  A cancel or bad audio ends the job without a switch.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TranscribeEvent } from '../../src/core/asr/contract.ts';
import { runJob } from '../../src/core/asr/job.ts';
import { createNodeRuntime } from '../../server/ort/node.ts';
import { GlmAsrPipeline } from '../../src/core/asr/pipeline.ts';
import { BackendUnavailable, type WindowTranscriber } from '../../src/core/asr/window-transcriber.ts';
import { directorySource } from '../../server/model-source.ts';
import { GOLDENS_MISSING, SPEECH_MISSING } from '../helpers/data.ts';
import { clipAudio, goldens, modelDir } from '../helpers/goldens.ts';

const skip = () => Boolean(SPEECH_MISSING() || GOLDENS_MISSING('tiny'));

/** `transcriber`, failing with BackendUnavailable from its `failAt`-th window on (0-based count of calls). */
function failingAfter(transcriber: WindowTranscriber, failAt: number): WindowTranscriber & { calls: number } {
  const wrapped = {
    backend: 'webgpu' as const,
    label: 'first engine',
    calls: 0,
    transcribeWindow: async (...args: Parameters<WindowTranscriber['transcribeWindow']>) => {
      if (wrapped.calls++ >= failAt) throw new BackendUnavailable('webgpu', 'device-lost', 'the GPU device was lost');
      return transcriber.transcribeWindow(...args);
    },
  };
  return wrapped;
}

describe.skipIf(skip())('job failover with the tiny model on onnxruntime-node', () => {
  let fp32: GlmAsrPipeline;
  beforeAll(async () => {
    fp32 = await GlmAsrPipeline.load(createNodeRuntime(1), directorySource(modelDir('tiny')), 'fp32');
  });
  afterAll(() => fp32?.release());

  test('a backend lost after window 1 of the 40 s clip: window 2 on the next one, ids equal the goldens', async () => {
    const g = goldens('tiny');
    const clip = g.clips.find((c) => c.windows.length === 2)!;
    const first = failingAfter(fp32.asTranscriber('unused'), 1);
    const second = { ...fp32.asTranscriber('second engine'), backend: 'wasm' as const };
    const events: TranscribeEvent[] = [];
    const asked: number[] = [];
    const result = await runJob(clipAudio(clip), first, {
      maxNewTokens: g.max_new_tokens,
      onEvent: (e) => events.push(e),
      next: async (failure, index) => {
        asked.push(index);
        expect(failure.reason).toBe('device-lost');
        return second;
      },
    });
    expect(result.windows.map((w) => w.tokenIds)).toEqual(clip.windows.map((w) => w.token_ids));
    expect(result.windows.map((w) => w.engine)).toEqual(['webgpu', 'wasm']);
    expect(asked).toEqual([1]);
    expect(result.switches).toEqual([
      { index: 1, from: 'first engine', to: 'second engine', reason: 'the GPU device was lost' },
    ]);
    const kinds = events
      .filter((e) => e.type !== 'token')
      .map((e) => `${e.type}:${'index' in e ? e.index : e.result.index}`);
    expect(kinds).toEqual([
      'window-start:0',
      'window-end:0',
      'window-start:1',
      'engine-failed:1',
      'engine-switch:1',
      'window-end:1',
    ]);
  });

  test('no next transcriber: the failure ends the job; a cancel is never failed over', async () => {
    const clip = goldens('tiny').clips[0]!;
    const lost = failingAfter(fp32.asTranscriber('x'), 0);
    await expect(runJob(clipAudio(clip), lost, { next: async () => null })).rejects.toBeInstanceOf(BackendUnavailable);
    const controller = new AbortController();
    controller.abort(new DOMException('cancelled by the user', 'AbortError'));
    let asked = 0;
    await expect(
      runJob(clipAudio(clip), fp32.asTranscriber('x'), {
        signal: controller.signal,
        next: async () => (asked++, null),
      }),
    ).rejects.toThrow('cancelled by the user');
    expect(asked).toBe(0);
    await expect(runJob(new Float32Array(0), fp32.asTranscriber('x'))).rejects.toThrow('the audio is empty');
  });
});
