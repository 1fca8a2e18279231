/**
 * Audio files → 16 kHz mono float32 for the Node pipeline (the CLI and the server).  16 kHz WAV (PCM or float) is
 * decoded here exactly (the goldens' path); everything else (other rates, MP3, M4A/AAC, OGG, WebM, the audio of MP4)
 * goes through ffmpeg.  Each failure carries a stable `code` (the server's error codes).
 */
import { spawn } from 'node:child_process';
import { SAMPLE_RATE_HZ } from '../workers/constants.ts';
import { decodeWav, isWav, toMono, WavError } from '../workers/dsp/wav.ts';

export type AudioFileErrorCode =
  'empty_file' | 'invalid_wav' | 'not_audio' | 'no_audio' | 'too_long' | 'ffmpeg_missing';

export class AudioFileError extends Error {
  override name = 'AudioFileError';
  constructor(
    message: string,
    readonly code: AudioFileErrorCode = 'not_audio',
  ) {
    super(message);
  }
}

export interface DecodeOptions {
  /** Refuse audio longer than this (ffmpeg stops decoding just past it, so memory stays bounded). */
  maxSeconds?: number;
}

function ffmpegDecode(bytes: Uint8Array, label: string, maxSeconds?: number): Promise<Float32Array> {
  return new Promise((resolvePromise, reject) => {
    const ff = spawn(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-i',
        'pipe:0',
        ...(maxSeconds !== undefined ? ['-t', String(maxSeconds + 1)] : []),
        '-vn',
        '-ac',
        '1',
        '-ar',
        String(SAMPLE_RATE_HZ),
        '-f',
        'f32le',
        'pipe:1',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const chunks: Buffer[] = [];
    let err = '';
    ff.stdout.on('data', (c: Buffer) => chunks.push(c));
    ff.stderr.on('data', (c: Buffer) => (err += c.toString()));
    ff.on('error', (e) =>
      reject(
        new AudioFileError(
          `${label}: cannot run ffmpeg to decode this format (${(e as Error).message})`,
          'ffmpeg_missing',
        ),
      ),
    );
    ff.on('close', (code) => {
      if (code !== 0) {
        const why = err.trim().split('\n').pop() ?? `exit ${code}`;
        reject(new AudioFileError(`${label}: not a readable audio file (${why})`));
        return;
      }
      const buf = Buffer.concat(chunks);
      const out = new Float32Array(Math.floor(buf.length / 4));
      new Uint8Array(out.buffer).set(buf.subarray(0, out.length * 4));
      resolvePromise(out);
    });
    ff.stdin.on('error', () => undefined); // ffmpeg may stop reading early on bad input
    ff.stdin.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
}

export async function decodeAudioFile(
  bytes: Uint8Array,
  label: string,
  opts: DecodeOptions = {},
): Promise<Float32Array> {
  if (bytes.length === 0) throw new AudioFileError(`${label}: the file is empty`, 'empty_file');
  let pcm: Float32Array;
  if (isWav(bytes)) {
    let wav;
    try {
      wav = decodeWav(bytes);
    } catch (e) {
      if (e instanceof WavError) throw new AudioFileError(`${label}: ${e.message}`, 'invalid_wav');
      throw e;
    }
    pcm =
      wav.sampleRateHz === SAMPLE_RATE_HZ ? toMono(wav.channels) : await ffmpegDecode(bytes, label, opts.maxSeconds);
  } else {
    pcm = await ffmpegDecode(bytes, label, opts.maxSeconds);
  }
  if (pcm.length === 0) throw new AudioFileError(`${label}: the file contains no audio samples`, 'no_audio');
  const seconds = pcm.length / SAMPLE_RATE_HZ;
  if (opts.maxSeconds !== undefined && seconds > opts.maxSeconds)
    throw new AudioFileError(
      `${label}: the audio is longer than the limit of ${opts.maxSeconds / 60} min` +
        (pcm.length >= (opts.maxSeconds + 1) * SAMPLE_RATE_HZ ? '' : ` (${(seconds / 60).toFixed(2)} min)`),
      'too_long',
    );
  return pcm;
}

/** Peak absolute sample value (0 for digital silence). */
export function peak(pcm: Float32Array): number {
  let p = 0;
  for (let i = 0; i < pcm.length; i++) p = Math.max(p, Math.abs(pcm[i] as number));
  return p;
}
