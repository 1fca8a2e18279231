/**
 * Memory on long audio: one hour of speech through the Node pipeline (tiny model: the graphs are small, so what is
 * measured is the pipeline's own memory).  Prints the RSS growth during transcription next to the PCM's size; the
 * goal is growth that does not scale with the audio beyond the decoded PCM itself.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { directorySource } from '../server/model-source.ts';
import { createNodeRuntime } from '../server/ort/node.ts';
import { GlmAsrPipeline } from '../src/core/asr/pipeline.ts';
import { ROOT, speech } from './common.ts';

const MODEL = resolve(ROOT, 'build/test-artifacts/models/tiny');

export async function benchLong(): Promise<void> {
  console.log('\n== Memory on long audio (tiny model, Node pipeline)');
  if (!existsSync(resolve(MODEL, 'manifest.json'))) {
    console.log(`SKIPPED: ${MODEL} is absent (scripts/test-artifacts.sh builds it)`);
    return;
  }
  const pipeline = await GlmAsrPipeline.load(createNodeRuntime(), directorySource(MODEL), 'fp32');
  const start = process.memoryUsage().rss;
  for (const minutes of [10, 60]) {
    const { samples } = speech(minutes * 60);
    (globalThis as { gc?: () => void }).gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const t0 = performance.now();
    const result = await pipeline.transcribe(samples, {
      maxNewTokens: 16,
      onEvent: () => {
        peak = Math.max(peak, process.memoryUsage().rss);
      },
    });
    const s = (performance.now() - t0) / 1000;
    console.log(
      `${String(minutes).padStart(3)} min: ${result.windows.length} windows in ${s.toFixed(1)} s; PCM ${(samples.byteLength / 1e6).toFixed(0)} MB; RSS growth during this transcription ${((peak - base) / 1e6).toFixed(0)} MB, peak RSS ${((peak - start) / 1e6).toFixed(0)} MB above the loaded model (PCM included)`,
    );
  }
  await pipeline.release();
}
