/** The converter's parity goldens (tools/glmasr_onnx/goldens.py) and the clips they were computed from. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { decodeWav, toMono } from '../../src/core/dsp/wav.ts';
import { ARTIFACTS, speechPath } from './data.ts';

export interface GoldenWindow {
  start: number;
  end: number;
  valid_frames: number;
  audio_tokens: number;
  prompt_ids: number[];
  token_ids: number[];
  text: string;
  min_margin: number;
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
