/**
 * The per-window cap on generated tokens, one rule for every window transcriber: the pipeline stops its greedy loop
 * there, and the server client shows progress against it.  Speech runs at about 3-6 tokens per second, so 32 + 10
 * per second of audio leaves room for any real transcript while a model stuck in a loop stops early.  Isomorphic.
 */
import { SAMPLE_RATE_HZ } from '../constants.ts';

/** Tokens per second of audio allowed before the per-window cap (speech runs at ~3–6 tokens/s). */
const CAP_TOKENS_PER_SEC = 10;
const CAP_BASE_TOKENS = 32;
/** generation_config.json's `max_new_tokens` when it sets none. */
const DEFAULT_MAX_NEW_TOKENS = 500;

/**
 * The cap of a window of `samples` (16 kHz) when the caller set none: min(`generationMax`, 32 + 10 per second),
 * `generationMax` being generation_config.json's `max_new_tokens` (500 when unset).
 */
export function defaultTokenCap(samples: number, generationMax: number = DEFAULT_MAX_NEW_TOKENS): number {
  return Math.min(generationMax, CAP_BASE_TOKENS + Math.ceil(CAP_TOKENS_PER_SEC * (samples / SAMPLE_RATE_HZ)));
}
