/**
 * Silero VAD through our onnxruntime owner equals the reference (silero-vad's OnnxWrapper loop on
 * onnxruntime-Python, tools/vad_oracle) on real speech, and with the segmenter finds the utterances of a fixture
 * built from real speech with 1.5 s gaps, at their true boundaries.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { createNodeRuntime } from '../../server/ort/node.ts';
import { Segmenter, VAD_FRAME_SAMPLES, type SegmentEvent } from '../../src/core/live/segmenter.ts';
import { SileroVad } from '../../src/core/live/silero.ts';
import { decodeWav, toMono } from '../../src/core/dsp/wav.ts';
import { ROOT, SPEECH_MISSING, speechPath } from '../helpers/data.ts';

const MODEL = resolve(ROOT, 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx');

function oracle(files: string[]): Record<string, number[]> {
  const r = spawnSync(resolve(ROOT, 'tools/py'), ['-m', 'vad_oracle', '--model', MODEL, ...files], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`tools/py -m vad_oracle failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, number[]>;
}

async function ours(vad: SileroVad, samples: Float32Array): Promise<number[]> {
  const stream = vad.stream();
  const out: number[] = [];
  for (let i = 0; i + VAD_FRAME_SAMPLES <= samples.length; i += VAD_FRAME_SAMPLES)
    out.push(await stream.probability(samples.subarray(i, i + VAD_FRAME_SAMPLES)));
  return out;
}

/** The clip from the first to the last 20 ms block whose RMS exceeds 10 % of its loudest block's. */
function trimToSpeech(a: Float32Array): Float32Array {
  const block = 320;
  const rms: number[] = [];
  for (let i = 0; i + block <= a.length; i += block) {
    let e = 0;
    for (let k = i; k < i + block; k++) e += (a[k] as number) ** 2;
    rms.push(Math.sqrt(e / block));
  }
  const floor = 0.1 * Math.max(...rms);
  const first = rms.findIndex((r) => r > floor);
  const last = rms.length - 1 - [...rms].reverse().findIndex((r) => r > floor);
  return a.slice(first * block, (last + 1) * block);
}

const read = (path: string) => toMono(decodeWav(new Uint8Array(readFileSync(path))).channels);

describe.skipIf(Boolean(SPEECH_MISSING()))('Silero VAD', () => {
  let vad: SileroVad;
  beforeAll(async () => {
    vad = await SileroVad.load(createNodeRuntime(1), MODEL);
  });

  test('probabilities equal onnxruntime-Python running silero-vad loop on the same frames', async () => {
    const files = ['en/jfk.wav', 'zh/aishell-BAC009S0764W0121.wav', 'en/ls-1272-128104-0000.wav'].map(speechPath);
    const reference = oracle(files);
    let worst = 0;
    let frames = 0;
    for (const f of files) {
      const p = await ours(vad, read(f));
      expect(p).toHaveLength(reference[f]!.length);
      p.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - reference[f]![i]!))));
      frames += p.length;
      // Real speech is found: most frames of these clips are speech.
      expect(p.filter((x) => x > 0.5).length / p.length).toBeGreaterThan(0.5);
    }
    console.log(`Silero VAD vs onnxruntime-Python: max |dp| ${worst.toExponential(2)} over ${frames} frames`);
    expect(worst).toBeLessThan(1e-4);
  });

  test('utterances with 1.5 s gaps: one segment each, boundaries within 0.3 s of the truth', async () => {
    // Single sentences without a pause longer than the hangover (a reader's pause is a segment boundary by design),
    // trimmed to their speech by energy: the truth is where the voice is.
    const clips = [
      'en/lj-LJ001-0002.wav',
      'en/lj-LJ001-0004.wav',
      'zh/aishell-BAC009S0764W0121.wav',
      'en/ls-1089-134686-0001.wav',
      'en/lj-LJ001-0011.wav',
    ].map((f) => trimToSpeech(read(speechPath(f))));
    const gap = new Float32Array(24_000);
    const parts = [gap, ...clips.flatMap((c) => [c, gap])];
    const audio = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    const truth: { start: number; end: number }[] = [];
    let at = 0;
    for (const p of parts) {
      if (p !== gap) truth.push({ start: at / 16_000, end: (at + p.length) / 16_000 });
      audio.set(p, at);
      at += p.length;
    }
    const stream = vad.stream();
    const seg = new Segmenter();
    const events: SegmentEvent[] = [];
    for (let i = 0; i + VAD_FRAME_SAMPLES <= audio.length; i += VAD_FRAME_SAMPLES) {
      const frame = audio.subarray(i, i + VAD_FRAME_SAMPLES);
      events.push(...seg.push(frame, await stream.probability(frame)));
    }
    events.push(...seg.flush());
    const found = events.flatMap((e) =>
      e.type === 'end' ? [{ start: e.segment.start / 16_000, end: e.segment.end / 16_000 }] : [],
    );
    console.log(
      `segments ${JSON.stringify(found.map((s) => [s.start.toFixed(2), s.end.toFixed(2)]))} truth ${JSON.stringify(truth.map((s) => [s.start.toFixed(2), s.end.toFixed(2)]))}`,
    );
    expect(found).toHaveLength(truth.length);
    found.forEach((s, i) => {
      expect(Math.abs(s.start - truth[i]!.start)).toBeLessThan(0.3);
      expect(Math.abs(s.end - truth[i]!.end)).toBeLessThan(0.3);
    });
  });
});
