/**
 * Audio files → 16 kHz mono float32 for the Node pipeline (the CLI and the server).  16 kHz WAV (PCM or float) is
 * decoded here exactly (the goldens' path); everything else (other rates, MP3, M4A/AAC, OGG, WebM, FLAC, the audio of
 * MP4) goes through ffmpeg.  Each failure carries a stable `code` (the server's error codes).
 *
 * ffmpeg reads the bytes from a pipe only (`-protocol_whitelist pipe`: no demuxer may open a file or URL the upload
 * names) and only the containers listed in AUDIO_CONTAINERS (`-format_whitelist`); its samples go straight into one
 * Float32Array sized from `maxSeconds`, and it is killed on abort, on a timeout and when it outgrows that array.
 */
import { spawn } from 'node:child_process';
import { SAMPLE_RATE_HZ } from '../src/core/constants.ts';
import { decodeWav, isWav, toMono, WavError } from '../src/core/dsp/wav.ts';

export type AudioFileErrorCode =
  | 'empty_file'
  | 'invalid_wav'
  | 'not_audio'
  | 'unsupported_format'
  | 'no_audio'
  | 'too_long'
  | 'decode_timeout'
  | 'ffmpeg_missing';

export class AudioFileError extends Error {
  override name = 'AudioFileError';
  constructor(
    message: string,
    readonly code: AudioFileErrorCode = 'not_audio',
  ) {
    super(message);
  }
}

/**
 * ffmpeg demuxers for the formats the API promises: WAV, MP3, MP4/M4A (`mov`), ADTS AAC, Ogg (Opus, Vorbis, FLAC),
 * WebM/Matroska and FLAC.  Anything else is refused before a decoder sees it.
 */
export const AUDIO_CONTAINERS = ['wav', 'mp3', 'mov', 'aac', 'ogg', 'matroska', 'flac'] as const;
const CONTAINER_NAMES = 'WAV, MP3, M4A/MP4, AAC, OGG/Opus, WebM or FLAC';

/** Longest an ffmpeg decode may run by default (120 min of Opus takes ~7 s on one core). */
export const DEFAULT_DECODE_TIMEOUT_MS = 300_000;

export interface DecodeOptions {
  /** Refuse audio longer than this (ffmpeg stops decoding just past it, so memory stays bounded). */
  maxSeconds?: number;
  /** Stops the decode (ffmpeg is killed); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Kill ffmpeg after this long (default DEFAULT_DECODE_TIMEOUT_MS): a `decode_timeout` error. */
  timeoutMs?: number;
}

/** ffmpeg's stderr kept for the error message: its last lines are what it says about the input. */
const STDERR_KEEP = 4096;

/** Growing output for decodes without a limit (the CLI): chunks, copied once at the end. */
class ChunkSink {
  private chunks: Buffer[] = [];
  private bytes = 0;
  write(c: Buffer): boolean {
    this.chunks.push(c);
    this.bytes += c.length;
    return true;
  }
  result(): Float32Array {
    const out = new Float32Array(Math.floor(this.bytes / 4));
    const view = new Uint8Array(out.buffer);
    let at = 0;
    for (const c of this.chunks) {
      const n = Math.min(c.length, view.length - at);
      view.set(c.subarray(0, n), at);
      at += n;
    }
    this.chunks = [];
    return out;
  }
}

/**
 * Output written straight into one array of `capacity` samples (its untouched pages cost no memory); write()
 * returns false when the audio does not fit.
 */
class FixedSink {
  private readonly out: Float32Array;
  private readonly view: Uint8Array;
  private at = 0;
  constructor(capacity: number) {
    this.out = new Float32Array(capacity);
    this.view = new Uint8Array(this.out.buffer);
  }
  write(c: Buffer): boolean {
    if (this.at + c.length > this.view.length) return false;
    this.view.set(c, this.at);
    this.at += c.length;
    return true;
  }
  result(): Float32Array {
    return this.out.subarray(0, Math.floor(this.at / 4));
  }
}

function ffmpegDecode(bytes: Uint8Array, label: string, opts: DecodeOptions): Promise<Float32Array> {
  const { maxSeconds, signal } = opts;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_DECODE_TIMEOUT_MS;
  return new Promise((resolvePromise, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    // ffmpeg stops one second past the limit, so a file just over it is told apart from one at it.
    const limitSamples = maxSeconds !== undefined ? Math.ceil((maxSeconds + 1) * SAMPLE_RATE_HZ) : undefined;
    const ff = spawn(
      'ffmpeg',
      [
        // Not reading keys from the terminal; pipe:0 is still its input.
        '-nostdin',
        '-hide_banner',
        '-loglevel',
        'error',
        '-protocol_whitelist',
        'pipe',
        '-format_whitelist',
        AUDIO_CONTAINERS.join(','),
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
    const sink = limitSamples !== undefined ? new FixedSink(limitSamples) : new ChunkSink();
    let stderr = '';
    let failure: unknown = null;
    const stop = (why: unknown) => {
      failure ??= why;
      ff.kill('SIGKILL');
    };
    const onAbort = () => stop(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(
      () =>
        stop(
          new AudioFileError(
            `${label}: decoding took longer than ${Math.round(timeoutMs / 1000)} s and was stopped`,
            'decode_timeout',
          ),
        ),
      timeoutMs,
    );
    const tooLong = () =>
      new AudioFileError(`${label}: the audio is longer than the limit of ${(maxSeconds ?? 0) / 60} min`, 'too_long');
    ff.stdout.on('data', (c: Buffer) => {
      if (failure === null && !sink.write(c)) stop(tooLong());
    });
    ff.stderr.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-STDERR_KEEP);
    });
    // A pipe can fail when ffmpeg dies or stops reading early (bad input): its exit code says what happened.
    ff.stdout.on('error', () => undefined);
    ff.stderr.on('error', () => undefined);
    ff.stdin.on('error', () => undefined);
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    ff.on('error', (e) =>
      finish(() =>
        reject(
          new AudioFileError(
            `${label}: cannot run ffmpeg to decode this format (${(e as Error).message})`,
            'ffmpeg_missing',
          ),
        ),
      ),
    );
    ff.on('close', (code) =>
      finish(() => {
        if (failure !== null) {
          reject(failure);
          return;
        }
        if (code !== 0) {
          if (/not on whitelist/i.test(stderr)) {
            reject(
              new AudioFileError(
                `${label}: this container is not accepted here; send ${CONTAINER_NAMES}`,
                'unsupported_format',
              ),
            );
            return;
          }
          const why = stderr.trim().split('\n').pop() || `exit ${code}`;
          reject(new AudioFileError(`${label}: not a readable audio file (${why})`));
          return;
        }
        resolvePromise(sink.result());
      }),
    );
    ff.stdin.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
}

export async function decodeAudioFile(
  bytes: Uint8Array,
  label: string,
  opts: DecodeOptions = {},
): Promise<Float32Array> {
  if (bytes.length === 0) throw new AudioFileError(`${label}: the file is empty`, 'empty_file');
  opts.signal?.throwIfAborted();
  let pcm: Float32Array;
  if (isWav(bytes)) {
    let wav;
    try {
      wav = decodeWav(bytes);
    } catch (e) {
      if (e instanceof WavError) throw new AudioFileError(`${label}: ${e.message}`, 'invalid_wav');
      // Anything else the parser throws on a crafted header (a length no array can have) is still a bad file.
      throw new AudioFileError(`${label}: the WAV header is not one this server can read`, 'invalid_wav');
    }
    pcm = wav.sampleRateHz === SAMPLE_RATE_HZ ? toMono(wav.channels) : await ffmpegDecode(bytes, label, opts);
  } else {
    pcm = await ffmpegDecode(bytes, label, opts);
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
