/**
 * Audio and video files → 16 kHz mono float32, decoded by the browser (WAV, MP3, M4A/AAC, OGG, WebM, the audio of
 * MP4).  An OfflineAudioContext at 16 kHz decodes and resamples in one step; channels are averaged.
 */
import { SAMPLE_RATE_HZ } from '../../core/constants.ts';
import type { ErrorInfo } from '../../core/protocol.ts';
import { downmix } from '../../core/dsp/mono.ts';

export const AUDIO_ACCEPT = 'audio/*,video/mp4,video/webm,.wav,.mp3,.m4a,.aac,.ogg,.oga,.opus,.webm,.mp4,.flac';

export async function decodeAudioFile(file: Blob & { name?: string }): Promise<Float32Array> {
  const name = file.name ?? 'the file';
  if (file.size === 0) throw { code: 'EMPTY_FILE', detail: `${name} is 0 bytes` } satisfies ErrorInfo;
  const bytes = await file.arrayBuffer();
  const ctx = new OfflineAudioContext(1, 1, SAMPLE_RATE_HZ);
  let audio: AudioBuffer;
  try {
    audio = await ctx.decodeAudioData(bytes);
  } catch (err) {
    throw {
      code: 'NOT_AUDIO',
      detail: `${name} (${file.type || 'unknown type'}, ${file.size} bytes): ${err instanceof Error ? err.message : err}`,
    } satisfies ErrorInfo;
  }
  if (audio.length === 0) throw { code: 'EMPTY_FILE', detail: `${name} decodes to 0 samples` } satisfies ErrorInfo;
  const channels = Array.from({ length: audio.numberOfChannels }, (_, c) => audio.getChannelData(c));
  const mono = downmix(channels, audio.length);
  let peak = 0;
  for (let i = 0; i < mono.length; i++) peak = Math.max(peak, Math.abs(mono[i] as number));
  if (peak === 0)
    throw {
      code: 'SILENT_AUDIO',
      detail: `${name}: ${(mono.length / SAMPLE_RATE_HZ).toFixed(1)} s of digital silence`,
    } satisfies ErrorInfo;
  return mono;
}
