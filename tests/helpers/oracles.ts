import { WhisperFeatureExtractor } from '@huggingface/transformers';

/** @huggingface/transformers' Whisper log-mel with GLM-ASR's processor settings: the oracle for our log-mel. */
export function libraryFeatureExtractor(): WhisperFeatureExtractor {
  return new WhisperFeatureExtractor({
    feature_size: 128,
    sampling_rate: 16000,
    hop_length: 160,
    chunk_length: 30,
    n_fft: 400,
    n_samples: 480000,
    nb_max_frames: 3000,
    padding_value: 0,
  } as never);
}
