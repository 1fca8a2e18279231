/** The eval's table and worst-utterance list, from per-clip results. */
import { addCounts, errorRate, prefixAgreement, scoreUtterance } from './score.ts';
import type { ClipResult, EditCounts, EngineName, EvalClip, RunSummary, UtteranceScore } from './types.ts';

export interface ScoredClip {
  clip: EvalClip;
  result: ClipResult;
  score: UtteranceScore | null;
}

export function scoreClip(clip: EvalClip, result: ClipResult): ScoredClip {
  return { clip, result, score: result.output ? scoreUtterance(clip.lang, clip.text, result.output.text) : null };
}

const zero = (): EditCounts & { reference: number } => ({
  hits: 0,
  substitutions: 0,
  deletions: 0,
  insertions: 0,
  reference: 0,
});

/** Totals of one (variant, engine) run; `reference` holds the fp32 run's results on a comparable engine, by id. */
export function summarize(
  variant: string,
  engine: EngineName,
  clips: readonly ScoredClip[],
  reference: ReadonlyMap<string, ClipResult> | null,
): RunSummary {
  const s: RunSummary = {
    variant,
    engine,
    clips: clips.length,
    failed: 0,
    word: zero(),
    char: zero(),
    audioSec: 0,
    ms: 0,
    tokens: 0,
    agreement: reference ? { agree: 0, total: 0, without: 0 } : null,
    fromCache: 0,
  };
  for (const c of clips) {
    const out = c.result.output;
    if (!out || !c.score) {
      s.failed++;
      continue;
    }
    const bucket = c.score.unit === 'char' ? s.char : s.word;
    addCounts(bucket, c.score);
    bucket.reference += c.score.hits + c.score.substitutions + c.score.deletions;
    s.audioSec += out.audioSec;
    s.ms += out.ms;
    s.tokens = out.tokens === null || s.tokens === null ? null : s.tokens + out.tokens;
    const ref = reference?.get(c.clip.id)?.output?.windows;
    if (s.agreement) {
      if (ref && out.windows) {
        const a = prefixAgreement(out.windows, ref);
        s.agreement.agree += a.agree;
        s.agreement.total += a.total;
      } else s.agreement.without++;
    }
  }
  return s;
}

function pct(c: EditCounts & { reference: number }): string {
  if (c.reference === 0) return '—';
  return `${(100 * errorRate(c)).toFixed(2)}% (${c.substitutions}/${c.deletions}/${c.insertions})`;
}

/** Columns padded to their widest cell, two spaces apart (the eval's and the benches' tables). */
export function table(rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function summaryTable(runs: readonly RunSummary[]): string {
  const rows = [
    ['variant', 'engine', 'clips', 'WER (S/D/I)', 'CER (S/D/I)', 'RTF', 'tokens/s', 'fp32 agreement', 'failed'],
    ...runs.map((r) => [
      r.variant,
      r.engine,
      String(r.clips - r.failed),
      pct(r.word),
      pct(r.char),
      r.audioSec > 0 ? (r.ms / 1000 / r.audioSec).toFixed(3) : '—',
      r.tokens !== null && r.ms > 0 ? (r.tokens / (r.ms / 1000)).toFixed(1) : '—',
      r.agreement && r.agreement.total > 0
        ? `${((100 * r.agreement.agree) / r.agreement.total).toFixed(1)}% (${r.agreement.agree}/${r.agreement.total})` +
          (r.agreement.without ? `, ${r.agreement.without} clip(s) without fp32 tokens` : '')
        : '—',
      r.cannotStart ? `all: could not start` : String(r.failed),
    ]),
  ];
  const notes = runs.flatMap((r) => [
    ...(r.cannotStart ? [`${r.variant} on ${r.engine} could not start: ${r.cannotStart}`] : []),
    ...(r.fromCache
      ? [
          `${r.variant} on ${r.engine}: ${r.fromCache} of ${r.clips} clips from the cache (their timings are from that run)`,
        ]
      : []),
  ]);
  return table(rows) + (notes.length ? `\n${notes.map((n) => `  ${n}`).join('\n')}` : '');
}

/** The `n` clips with the most errors (then the highest rate), reference and hypothesis as scored. */
export function worst(clips: readonly ScoredClip[], n: number): ScoredClip[] {
  const errors = (c: ScoredClip) => c.score!.substitutions + c.score!.deletions + c.score!.insertions;
  return clips
    .filter((c) => c.score && errors(c) > 0)
    .sort((a, b) => errors(b) - errors(a) || errorRate(b.score!) - errorRate(a.score!))
    .slice(0, n);
}

/** Shortened, with control characters (a random model prints ESC) shown as U+FFFD instead of reaching the terminal. */
const clip = (s: string, max = 240) => {
  const safe = s.replace(/\p{Cc}/gu, '\uFFFD');
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
};

export function worstText(label: string, clips: readonly ScoredClip[], all: readonly ScoredClip[]): string {
  if (!all.some((c) => c.score)) return `${label}: nothing was scored.`;
  if (!clips.length) return `${label}: no errors.`;
  const lines = [`${label}: worst utterances`];
  for (const c of clips) {
    const s = c.score!;
    const unit = s.unit === 'char' ? 'CER' : 'WER';
    lines.push(
      `  ${c.clip.id} (${c.clip.lang}, ${unit} ${(100 * errorRate(s)).toFixed(1)}%, S/D/I ${s.substitutions}/${s.deletions}/${s.insertions})`,
      `    ref: ${clip(s.reference)}`,
      `    hyp: ${clip(s.hypothesis)}`,
    );
  }
  return lines.join('\n');
}
