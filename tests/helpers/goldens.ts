/** The converter's parity goldens (tools/glmasr_onnx/goldens.py) and the clips they were computed from. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { decodeWav, toMono } from '../../src/core/dsp/wav.ts';
import type { MelFrontEnd } from '../../src/core/dsp/mel.ts';
import { GlmAsrPipeline } from '../../src/core/asr/pipeline.ts';
import type { Residency } from '../../src/core/asr/residency.ts';
import { createNodeRuntime } from '../../server/ort/node.ts';
import { directorySource } from '../../server/model-source.ts';
import { ARTIFACTS, loadSafetensors, speechPath } from './data.ts';

export interface GoldenWindow {
  start: number;
  end: number;
  valid_frames: number;
  audio_tokens: number;
  prompt_ids: number[];
  token_ids: number[];
  text: string;
  min_margin: number;
  /** The official decode's top-1 margin at each step (best logit minus the second). */
  margins: number[];
}
export interface GoldenClip {
  id: string;
  files: string[];
  samples: number;
  windows: GoldenWindow[];
}
export interface Goldens {
  max_new_tokens: number;
  eos_token_ids: number[];
  audio_token_id: number;
  min_margin: number;
  clips: GoldenClip[];
}
export interface OrtReference {
  variants: Record<string, { windows: { clip: string; window: number; token_ids: number[]; first_margin: number }[] }>;
}

export const TINY_MODELS = ['tiny', 'tiny-wide'] as const;

export function goldens(model: string): Goldens {
  return JSON.parse(readFileSync(resolve(ARTIFACTS, 'goldens', model, 'goldens.json'), 'utf8')) as Goldens;
}
export function ortReference(model: string): OrtReference {
  return JSON.parse(readFileSync(resolve(ARTIFACTS, 'goldens', model, 'ort-reference.json'), 'utf8')) as OrtReference;
}
export function modelDir(model: string): string {
  return resolve(ARTIFACTS, 'models', model);
}

/** The clip's 16 kHz samples, concatenated as goldens.py `load_clip` does (first channel of each file). */
export function clipAudio(clip: GoldenClip): Float32Array {
  const parts = clip.files.map((f) => {
    const wav = decodeWav(new Uint8Array(readFileSync(speechPath(f))));
    if (wav.sampleRateHz !== 16000) throw new Error(`${f} is ${wav.sampleRateHz} Hz`);
    return wav.channels.length === 1 ? toMono(wav.channels) : (wav.channels[0] as Float32Array);
  });
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  if (out.length !== clip.samples) throw new Error(`${clip.id}: ${out.length} samples, goldens say ${clip.samples}`);
  return out;
}

/**
 * The reference's log-mel (transformers' WhisperFeatureExtractor, stored with the goldens) for each golden window of
 * `clip` (whose audio is `pcm`), in place of this app's: the q4 graphs' matrix products quantize their activations to
 * int8 (accuracy level 4), so on the tiny random models the ~1e-6 by which the two log-mels differ can round an
 * activation to the next int8 step and decode other tokens.  From the same log-mel, onnxruntime-node and
 * onnxruntime-Python compute the same graphs.
 */
export function goldenMel(model: string, clip: GoldenClip, pcm: Float32Array): MelFrontEnd {
  const tensors = loadSafetensors(resolve(ARTIFACTS, 'goldens', model, 'goldens.safetensors'));
  return {
    window30s(samples) {
      const start = (samples.byteOffset - pcm.byteOffset) / samples.BYTES_PER_ELEMENT;
      const i = clip.windows.findIndex((w) => w.start === start && w.end - w.start === samples.length);
      if (samples.buffer !== pcm.buffer || i < 0) throw new Error(`${clip.id}: no golden window at ${start}`);
      const features = tensors.get(`${clip.id}/${i}/mel`)!.data as Float32Array;
      return { features, validFrames: clip.windows[i]!.valid_frames };
    },
  };
}

/**
 * The integer variants on the CPU, per tiny model, each against the Python decode of the same graphs: q4 as it is, q4
 * as the server runs an explicit q4 where the CPU has int8 dot products (with q8's audio encoder:
 * src/core/asr/encoder-variant.ts), and q8, the server's own variant there (server/api/models.ts).
 */
export const CPU_RUNS = TINY_MODELS.flatMap((model) => [
  { model, variant: 'q4' as const, encoder: 'q4' as const, reference: 'q4' },
  { model, variant: 'q4' as const, encoder: 'q8' as const, reference: 'q4+q8-encoder' },
  { model, variant: 'q8' as const, encoder: 'q8' as const, reference: 'q8' },
]);

export type CpuRun = (typeof CPU_RUNS)[number];

/**
 * The Node pipeline of `run` for `clip`, fed transformers' log-mel of it (`goldenMel`) as the Python decode was, with
 * the graphs resident together or one at a time.
 */
export function cpuRunPipeline(
  run: CpuRun,
  clip: GoldenClip,
  pcm: Float32Array,
  residency: Residency = 'both',
): Promise<GlmAsrPipeline> {
  return GlmAsrPipeline.load(createNodeRuntime(1), directorySource(modelDir(run.model)), run.variant, {
    mel: goldenMel(run.model, clip, pcm),
    encoderVariant: run.encoder,
    residency,
  });
}
