/**
 * The low-memory mode (src/core/asr/one-graph.ts) on onnxruntime-node: one graph at a time gives the same token ids
 * as the normal mode on every golden clip of both tiny models, on the variants the parity tests use
 * (tests/unit/pipeline.test.ts): fp32 against transformers' goldens, q4 (with its own and with q8's audio encoder)
 * against onnxruntime-Python's decode of the same graphs from the same log-mel.  And the swaps really release: the
 * runtime holds the audio encoder alone between jobs, the embedding and the decoder alone while decoding; the phases
 * and window events arrive in order; a cancel during the encoding leaves a pipeline the next job runs on.
 *
 * Prints the wall time of the 2-window clip in both modes and the swap time (a measurement, not asserted).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolve } from 'node:path';
import { createNodeRuntime } from '../../server/ort/node.ts';
import { GlmAsrPipeline } from '../../src/core/asr/pipeline.ts';
import { OneGraphTranscriber, transcribeOneGraph } from '../../src/core/asr/one-graph.ts';
import { runJob } from '../../src/core/asr/job.ts';
import type { TranscribeEvent } from '../../src/core/asr/contract.ts';
import { directorySource } from '../../server/model-source.ts';
import { ARTIFACTS, GOLDENS_MISSING, SPEECH_MISSING } from '../helpers/data.ts';
import { LOW_MEMORY_ENCODER_PENDING_DISPATCHES } from '../../src/core/asr/residency.ts';
import type { GraphSource, OrtRuntime } from '../../src/core/ort/runtime.ts';
import {
  clipAudio,
  CPU_RUNS,
  cpuRunPipeline,
  goldens,
  modelDir,
  ortReference,
  TINY_MODELS,
} from '../helpers/goldens.ts';

const skip = () => Boolean(SPEECH_MISSING() || TINY_MODELS.some((m) => GOLDENS_MISSING(m)));

const ENCODER_ONLY = ['audio_encoder'];
const DECODER_ONLY = ['embed_tokens', 'decoder_model_merged'];

/** The events of a job as short strings ("phase:encoding:0", "window-start:1"), tokens left out. */
function kinds(events: TranscribeEvent[]): string[] {
  return events
    .filter((e) => e.type !== 'token')
    .map((e) =>
      e.type === 'phase' ? `phase:${e.phase}:${e.index}` : `${e.type}:${'index' in e ? e.index : e.result.index}`,
    );
}

/** The runtime's sessions as they are made: the graph and its `maxPendingDispatches` (the real createSession runs). */
function recordSessions(runtime: OrtRuntime): string[] {
  const made: string[] = [];
  const create = runtime.createSession.bind(runtime);
  runtime.createSession = (source: GraphSource, opts = {}) => {
    made.push(`${source.graph}:${opts.maxPendingDispatches ?? 'default'}`);
    return create(source, opts);
  };
  return made;
}

describe.skipIf(skip())('how the sessions are made', () => {
  const model = TINY_MODELS[0]!;
  test(`one graph at a time: the audio encoder's with ${LOW_MEMORY_ENCODER_PENDING_DISPATCHES} pending dispatches (its own WebGPU context), the others the default; the graphs together: all the default`, async () => {
    const one = createNodeRuntime(1);
    const oneMade = recordSessions(one);
    const pipeline = await GlmAsrPipeline.load(one, directorySource(modelDir(model)), 'fp32', {
      residency: 'one-at-a-time',
    });
    try {
      await pipeline.reside('decoder');
      await pipeline.reside('encoder');
    } finally {
      await pipeline.release();
    }
    const enc = `audio_encoder:${LOW_MEMORY_ENCODER_PENDING_DISPATCHES}`;
    const dec = ['embed_tokens:default', 'decoder_model_merged:default'];
    // The load: the decoder side (its warm-up), then the encoder; then one swap each way.
    expect(oneMade).toEqual([...dec, enc, ...dec, enc]);

    const both = createNodeRuntime(1);
    const bothMade = recordSessions(both);
    await (await GlmAsrPipeline.load(both, directorySource(modelDir(model)), 'fp32')).release();
    expect(bothMade).toEqual(['audio_encoder:default', ...dec]);
  });
});

describe.skipIf(skip()).each(TINY_MODELS)('%s model, fp32, one graph at a time', (model) => {
  let pipeline: GlmAsrPipeline;
  beforeAll(async () => {
    pipeline = await GlmAsrPipeline.load(createNodeRuntime(1), directorySource(modelDir(model)), 'fp32', {
      residency: 'one-at-a-time',
    });
  });
  afterAll(() => pipeline?.release());

  test('ready with the audio encoder alone, token-exact with the goldens on every clip, swaps that release', async () => {
    expect(pipeline.runtime.liveSessions).toEqual(ENCODER_ONLY);
    expect(pipeline.resident).toEqual({ encoder: true, decoder: false });
    const g = goldens(model);
    expect(g.clips.some((c) => c.windows.length > 1)).toBe(true);
    for (const clip of g.clips) {
      const events: TranscribeEvent[] = [];
      const whileDecoding: string[][] = [];
      const result = await transcribeOneGraph(pipeline, clipAudio(clip), {
        maxNewTokens: g.max_new_tokens,
        onEvent: (e) => {
          events.push(e);
          if (e.type === 'phase' && e.phase === 'decoding') whileDecoding.push(pipeline.runtime.liveSessions);
          if (e.type === 'phase' && e.phase === 'encoding') expect(pipeline.runtime.liveSessions).toEqual(ENCODER_ONLY);
        },
      });
      expect(
        result.windows.map((w) => w.tokenIds),
        clip.id,
      ).toEqual(clip.windows.map((w) => w.token_ids));
      expect(result.windows.map((w) => w.text)).toEqual(clip.windows.map((w) => w.text));
      // Every window decoded with the embedding and decoder alone; every window encoded before the decoder loaded.
      expect(whileDecoding).toEqual(clip.windows.map(() => DECODER_ONLY));
      const n = clip.windows.length;
      expect(kinds(events)).toEqual([
        ...clip.windows.map((_, i) => `phase:encoding:${i}`),
        'phase:loading-decoder:0',
        ...clip.windows.flatMap((_, i) => [`window-start:${i}`, `phase:decoding:${i}`, `window-end:${i}`]),
      ]);
      expect(events.filter((e) => e.type === 'phase').every((e) => e.count === n)).toBe(true);
      // After the job, in the background: back to the encoder alone.
      await pipeline.reside('encoder');
      expect(pipeline.runtime.liveSessions).toEqual(ENCODER_ONLY);
    }
  });

  test('a cancel while encoding ends the job, and the next job runs token-exact', async () => {
    const g = goldens(model);
    const clip = g.clips.find((c) => c.windows.length > 1)!;
    const abort = new AbortController();
    const cancelled = transcribeOneGraph(pipeline, clipAudio(clip), {
      maxNewTokens: g.max_new_tokens,
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'phase' && e.phase === 'encoding' && e.index === 1) abort.abort(new Error('cancelled'));
      },
    });
    await expect(cancelled).rejects.toThrow('cancelled');
    const result = await transcribeOneGraph(pipeline, clipAudio(clip), { maxNewTokens: g.max_new_tokens });
    expect(result.windows.map((w) => w.tokenIds)).toEqual(clip.windows.map((w) => w.token_ids));
  });
});

describe.skipIf(skip()).each(CPU_RUNS)(
  '$model model, $variant with the $encoder encoder, one graph at a time',
  (run) => {
    test('greedy token ids equal the Python decode of the same graphs from the same log-mel', async () => {
      const g = goldens(run.model);
      const ref = ortReference(run.model).variants[run.reference]!.windows;
      for (const clip of g.clips) {
        const pcm = clipAudio(clip);
        const pipeline = await cpuRunPipeline(run, clip, pcm, 'one-at-a-time');
        try {
          const result = await transcribeOneGraph(pipeline, pcm, { maxNewTokens: g.max_new_tokens });
          expect(
            result.windows.map((w) => w.tokenIds),
            clip.id,
          ).toEqual(ref.filter((r) => r.clip === clip.id).map((r) => r.token_ids));
        } finally {
          await pipeline.release();
        }
        expect(pipeline.runtime.liveSessions).toEqual([]);
      }
    });
  },
);

test.skipIf(skip())('the 2-window clip: wall time in both modes and the swap (printed, not asserted)', async () => {
  const model = 'tiny';
  const g = goldens(model);
  const clip = g.clips.find((c) => c.windows.length > 1)!;
  const pcm = clipAudio(clip);
  const opts = { maxNewTokens: g.max_new_tokens };
  const both = await GlmAsrPipeline.load(createNodeRuntime(1), directorySource(modelDir(model)), 'fp32');
  const one = await GlmAsrPipeline.load(createNodeRuntime(1), directorySource(modelDir(model)), 'fp32', {
    residency: 'one-at-a-time',
  });
  try {
    const transcriber = new OneGraphTranscriber(one, 'one graph', opts);
    const times = { both: [] as number[], one: [] as number[], swap: [] as number[], back: [] as number[] };
    for (let i = 0; i < 3; i++) {
      let t = performance.now();
      const a = await both.transcribe(pcm, opts);
      times.both.push(performance.now() - t);
      t = performance.now();
      const b = await runJob(pcm, transcriber, opts);
      times.one.push(performance.now() - t);
      times.swap.push(transcriber.lastSwapMs);
      t = performance.now();
      await one.reside('encoder');
      times.back.push(performance.now() - t);
      expect(b.windows.map((w) => w.tokenIds)).toEqual(a.windows.map((w) => w.tokenIds));
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!.toFixed(0);
    console.log(
      `[${model} fp32, ${clip.id}, 2 windows, onnxruntime-node 1 thread] medians of 3: both resident ${median(times.both)} ms, ` +
        `one graph at a time ${median(times.one)} ms (swap encoder → decoder ${median(times.swap)} ms; ` +
        `decoder → encoder after the job ${median(times.back)} ms)`,
    );
  } finally {
    await both.release();
    await one.release();
  }
});

const OVERFLOW = resolve(ARTIFACTS, 'models', 'tiny-overflow');

test.skipIf(skip())(
  'an f16 overflow: the float32 twin encodes the window and is released with the encoder',
  async () => {
    // 3 s of a rising tone: the tiny-overflow model's q4f16 encoder overflows on it (tests/unit/f16-guard.test.ts).
    const pcm = Float32Array.from(
      { length: 48_000 },
      (_, i) => 0.3 * Math.sin(2 * Math.PI * (200 + i / 200) * (i / 16_000)),
    );
    const normal = await GlmAsrPipeline.load(createNodeRuntime(1), directorySource(OVERFLOW), 'q4f16');
    const one = await GlmAsrPipeline.load(createNodeRuntime(1), directorySource(OVERFLOW), 'q4f16', {
      residency: 'one-at-a-time',
    });
    try {
      const expected = await normal.transcribe(pcm, { maxNewTokens: 4 });
      expect(expected.windows.map((w) => w.encoderVariant)).toEqual(['q4']);
      const whileDecoding: string[][] = [];
      const result = await transcribeOneGraph(one, pcm, {
        maxNewTokens: 4,
        onEvent: (e) => {
          if (e.type === 'phase' && e.phase === 'loading-decoder')
            // The q4f16 encoder and its q4 twin's, both sessions of the audio encoder.
            expect(one.runtime.liveSessions).toEqual(['audio_encoder', 'audio_encoder']);
          if (e.type === 'phase' && e.phase === 'decoding') whileDecoding.push(one.runtime.liveSessions);
        },
      });
      expect(whileDecoding).toEqual([DECODER_ONLY]);
      expect(result.windows.map((w) => w.encoderVariant)).toEqual(['q4']);
      expect(result.windows.map((w) => w.tokenIds)).toEqual(expected.windows.map((w) => w.tokenIds));
    } finally {
      await normal.release();
      await one.release();
    }
  },
);
