import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { LogMel, melFilterBank } from '../../src/core/dsp/mel.ts';
import { decodeWav } from '../../src/core/dsp/wav.ts';
import { libraryFeatureExtractor } from '../helpers/oracles.ts';
import { ARTIFACTS, GOLDENS_MISSING, SPEECH_MISSING, loadSafetensors, speechPath } from '../helpers/data.ts';

const TOLERANCE = 1e-4; // max |difference| over all 128 x 3000 values (the log-mel's acceptance bound)

function maxAbsDiff(a: Float32Array, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

test('the filterbank equals the library filterbank (Slaney scale, Slaney norm)', () => {
  const ours = melFilterBank(201, 128, 0, 8000, 16000);
  const lib = (libraryFeatureExtractor() as unknown as { config: { mel_filters: number[][] } }).config.mel_filters;
  expect(lib.length).toBe(128);
  let d = 0;
  for (let m = 0; m < 128; m++) for (let b = 0; b < 201; b++) d = Math.max(d, Math.abs(ours[m]![b]! - lib[m]![b]!));
  expect(d).toBeLessThan(1e-12);
});

describe.skipIf(SPEECH_MISSING() || GOLDENS_MISSING('mel'))('log-mel of real speech', () => {
  const golden = () => ({
    meta: JSON.parse(readFileSync(resolve(ARTIFACTS, 'goldens/mel/mel.json'), 'utf8')) as {
      clips: { file: string; samples: number; valid_frames: number }[];
    },
    tensors: loadSafetensors(resolve(ARTIFACTS, 'goldens/mel/mel.safetensors')),
  });

  test('covers at least 5 clips, including the 8 kHz-upsampled one and the float32 example_en.wav', () => {
    const { meta } = golden();
    const files = meta.clips.map((c) => c.file);
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(files).toContain('en/ls-1272-128104-0004-8k.wav');
    expect(files).toContain('glm-asr-examples/example_en.wav');
    expect(decodeWav(readFileSync(speechPath('glm-asr-examples/example_en.wav'))).format).toBe('float32');
  });

  test('matches transformers (Python) WhisperFeatureExtractor(128) and the JS library within 1e-4', async () => {
    const { meta, tensors } = golden();
    const ours = new LogMel();
    const lib = libraryFeatureExtractor();
    for (const clip of meta.clips) {
      const samples = decodeWav(readFileSync(speechPath(clip.file))).channels[0]!;
      expect(samples.length).toBe(clip.samples);
      const { features, validFrames } = ours.window30s(samples);
      expect(validFrames).toBe(clip.valid_frames);
      const python = tensors.get(clip.file)!;
      expect(python.shape).toEqual([128, 3000]);
      const vsPython = maxAbsDiff(features, python.data as Float32Array);
      const js = (await lib(samples)).input_features;
      expect(js.dims).toEqual([1, 128, 3000]);
      const vsJs = maxAbsDiff(features, js.data as Float32Array);
      console.log(
        `${clip.file}: max |ours - python| ${vsPython.toExponential(2)}, |ours - js| ${vsJs.toExponential(2)}`,
      );
      expect(vsPython).toBeLessThanOrEqual(TOLERANCE);
      expect(vsJs).toBeLessThanOrEqual(TOLERANCE);
    }
  });
});

test('silence, a single sample and a full 30 s window are handled', async () => {
  const ours = new LogMel();
  const lib = libraryFeatureExtractor();
  const cases = [
    new Float32Array(0),
    Float32Array.of(0.5),
    new Float32Array(480000).map((_, i) => Math.sin(i / 7) * 0.3),
  ];
  for (const samples of cases) {
    const { features, validFrames } = ours.window30s(samples);
    expect(validFrames).toBe(Math.ceil(samples.length / 160));
    expect(features.every(Number.isFinite)).toBe(true);
    // The library pads empty input the same way; compare everywhere.
    const js = (await lib(samples.length ? samples : new Float32Array(1))).input_features.data as Float32Array;
    if (samples.length) expect(maxAbsDiff(features, js)).toBeLessThanOrEqual(TOLERANCE);
  }
  expect(() => ours.window30s(new Float32Array(480001))).toThrow(RangeError);
});
