/**
 * Numbers shared by the worklet, the worker, the pipeline and the UI.  Units are in the names.
 * Model-side values come from GLM-ASR's processor config (docs/model.md, Pre-processing: the log-mel).
 */

/** Sample rate of everything after the worklet's resampler, and of the model's features. */
export const SAMPLE_RATE_HZ = 16_000;
/** Samples per frame the worklet transfers to the worker: 32 ms, Silero VAD's window at 16 kHz. */
export const FRAME_SAMPLES = 512;
/** Frames kept in the worklet's recycling pool before it allocates (the worker sends buffers back). */
export const FRAME_POOL_SIZE = 64;

/** Whisper STFT: window and FFT length in samples. */
export const N_FFT = 400;
/** Whisper STFT hop in samples (10 ms). */
export const HOP_SAMPLES = 160;
/** Mel bins of GLM-ASR's feature extractor. */
export const N_MELS = 128;
/** Samples in one 30 s model window. */
export const WINDOW_SAMPLES = 480_000;
/** Mel frames in one 30 s window. */
export const WINDOW_FRAMES = 3000;

/** Resampler design: passband edge (flat to here) and stopband edge (attenuated from here), in Hz. */
export const RESAMPLER_PASSBAND_HZ = 7_000;
export const RESAMPLER_STOPBAND_HZ = 8_000;
/** Stopband attenuation the resampler is designed for (the tests require >= 60 dB). */
export const RESAMPLER_ATTENUATION_DB = 80;
