/**
 * The contract of `npm run eval` (scripts/eval.ts): what a manifest row is, what an engine returns for a clip, what
 * is cached per clip, and what the report aggregates.  Node-only tooling; it runs the app's own pipeline.
 */

/** One row of a manifest TSV (`../shared/data/speech/manifest.tsv` layout: id, lang, file, text; more columns ignored). */
export interface EvalClip {
  id: string;
  /** ISO-639-1 ('en', 'zh', ...): picks the scorer (WER with Whisper's English normalizer, CER for zh/ja/ko/...). */
  lang: string;
  /** Absolute path (the manifest's `file` column is relative to the manifest's directory). */
  path: string;
  /** The reference transcript. */
  text: string;
  /** 1-based line in the manifest, for messages. */
  line: number;
}

export type EngineName = 'node' | 'wasm' | 'server';

/** What an engine returns for one clip. */
export interface ClipOutput {
  text: string;
  /** Generated token ids per ≤ 30 s window, EOS included when the window ended on it; null when the engine does not report them (a third-party server). */
  windows: number[][] | null;
  audioSec: number;
  /** Wall time of the transcription (decode of the file excluded). */
  ms: number;
  /** Tokens generated (EOS included), for tokens/s; null when unknown. */
  tokens: number | null;
}

/** Edit operations of a hypothesis against its reference (jiwer's names). */
export interface EditCounts {
  hits: number;
  substitutions: number;
  deletions: number;
  insertions: number;
}

export type ScoreUnit = 'word' | 'char';

export interface UtteranceScore extends EditCounts {
  unit: ScoreUnit;
  /** The normalized reference and hypothesis the counts were taken on (words joined by spaces; characters joined). */
  reference: string;
  hypothesis: string;
}

/** One cached line: a clip's result for one (model hash, variant, engine, options) run. */
export interface ClipResult {
  id: string;
  lang: string;
  /** sha256 of the audio file: a changed file is transcribed again. */
  audioSha256: string;
  output?: ClipOutput;
  /** Set instead of `output` when the clip could not be transcribed (unreadable file, engine error). */
  error?: string;
}

/** One table row: a variant on an engine over the whole set. */
export interface RunSummary {
  variant: string;
  engine: EngineName;
  clips: number;
  failed: number;
  /** Word-scored (English and other space-separated languages) and character-scored (zh, ja, ko, ...) totals. */
  word: EditCounts & { reference: number };
  char: EditCounts & { reference: number };
  audioSec: number;
  ms: number;
  tokens: number | null;
  /**
   * Token prefix agreement with the fp32 run's tokens (per window, summed) over the clips both runs transcribed
   * (`without`: clips left out because either has no tokens); null without an fp32 reference.
   */
  agreement: { agree: number; total: number; without: number } | null;
  /** Clips whose result came from the cache (their timings are from the run that made them). */
  fromCache: number;
  /** Set when the engine could not start (nothing was transcribed). */
  cannotStart?: string;
}
