/**
 * Log-mel front end: ours (src/core/dsp/mel.ts) vs @huggingface/transformers' WhisperFeatureExtractor, side by side
 * on the same real speech, with the output difference so "faster" always means "equal output".
 */
import { WINDOW_SAMPLES } from '../src/core/constants.ts';
import { LogMel } from '../src/core/dsp/mel.ts';
import { libraryFeatureExtractor } from '../tests/helpers/oracles.ts';
import { speech, table, time } from './common.ts';

function windows(samples: Float32Array): Float32Array[] {
  const out: Float32Array[] = [];
  for (let s = 0; s < samples.length; s += WINDOW_SAMPLES) out.push(samples.subarray(s, s + WINDOW_SAMPLES));
  return out;
}

export async function benchMel(): Promise<void> {
  const lib = libraryFeatureExtractor();
  const ours = new LogMel();
  const rows: (string | number)[][] = [['audio', 'windows', 'ours (ms)', 'library (ms)', 'speed-up', 'max |diff|']];
  let source = '';
  for (const [label, seconds, runs] of [
    ['30 s', 30, 7],
    ['10 min', 600, 2],
  ] as const) {
    const audio = speech(seconds);
    source = audio.source;
    const parts = windows(audio.samples);
    const oursMs = await time(() => parts.map((w) => ours.window30s(w)), runs);
    const libMs = await time(async () => {
      for (const w of parts) await lib(w);
    }, runs);
    let diff = 0;
    for (const w of parts.slice(0, 3)) {
      const a = ours.window30s(w).features;
      const b = (await lib(w)).input_features.data as Float32Array;
      for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
    }
    rows.push([
      label,
      parts.length,
      oursMs.toFixed(1),
      libMs.toFixed(1),
      `${(libMs / oursMs).toFixed(2)}x`,
      diff.toExponential(1),
    ]);
  }
  console.log(`\n## Log-mel (128 bins, 30 s windows), Node ${process.version}, median of runs; audio: ${source}`);
  console.log(table(rows));
}
