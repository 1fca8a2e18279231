/**
 * The eval's run loop: for each engine and variant, every clip from the cache or transcribed now, scored, reported
 * as it goes (stderr progress with an ETA over the clips still to transcribe, JSON lines with --json), then summed.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { ResultCache, sha256 } from './cache.ts';
import { openEngine, type EngineOptions, type EvalEngine } from './engines.ts';
import { scoreClip, summarize, worst, worstText, type ScoredClip } from './report.ts';
import type { ClipResult, EngineName, EvalClip, RunSummary } from './types.ts';

export interface EngineSpec {
  name: EngineName;
  url?: string;
}

export interface RunOptions {
  clips: EvalClip[];
  engines: EngineSpec[];
  /** Variant names (with --model), or the server model names (server-only runs). */
  variants: string[];
  engineOptions: Omit<EngineOptions, 'variant' | 'serverUrl'>;
  /** What identifies the model in the cache key (manifest.json's sha256; null for server-only runs). */
  modelHash: string | null;
  cacheDir: string | null;
  json: boolean;
  worst: number;
  /** True once the user asked to stop (checked between clips). */
  stopping: () => boolean;
  out: (text: string) => void;
  err: (text: string) => void;
}

export interface RunOutcome {
  runs: RunSummary[];
  worstBlocks: string[];
  failures: number;
}

interface Cache {
  get(id: string, audioSha256: string): ClipResult | undefined;
  put(r: ClipResult): void;
}

const NO_CACHE: Cache = { get: () => undefined, put: () => undefined };

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** The server's own identity of its model (our server's glmasr.revision), so a changed model is not reprinted. */
async function serverModelRevision(url: string, name: string, apiKey?: string): Promise<string | null> {
  try {
    const res = await fetch(`${url.replace(/\/+$/, '')}/models`, {
      headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
      signal: AbortSignal.timeout(10_000),
    });
    const list = (await res.json()) as { data?: { id: string; glmasr?: { revision?: string } }[] };
    return list.data?.find((m) => m.id === name)?.glmasr?.revision ?? null;
  } catch {
    return null;
  }
}

export async function runEval(o: RunOptions): Promise<RunOutcome> {
  const audioHash = new Map<string, string>();
  const hashOf = (clip: EvalClip): string => {
    let h = audioHash.get(clip.id);
    if (h === undefined) {
      try {
        h = sha256(readFileSync(clip.path));
      } catch {
        h = 'unreadable';
      }
      audioHash.set(clip.id, h);
    }
    return h;
  };
  const bytes = o.clips.map((c) => {
    try {
      return statSync(c.path).size;
    } catch {
      return 0;
    }
  });
  const runs: RunSummary[] = [];
  const worstBlocks: string[] = [];
  let failures = 0;
  const fp32ByEngine = new Map<string, Map<string, ClipResult>>();

  for (const engine of o.engines) {
    const engineKey = `${engine.name}${engine.url ? ` ${engine.url}` : ''}`;
    for (const variant of o.variants) {
      if (o.stopping()) break;
      const eo = o.engineOptions;
      const serverModel =
        engine.name === 'server'
          ? (eo.serverModel ?? (eo.model ? `${basename(eo.model)}@${variant}` : variant))
          : undefined;
      const cache: Cache = o.cacheDir
        ? new ResultCache(o.cacheDir, {
            format: 1,
            model:
              engine.name === 'server'
                ? {
                    url: engine.url,
                    name: serverModel,
                    revision: await serverModelRevision(engine.url!, serverModel!, eo.apiKey),
                    modelHash: o.modelHash,
                  }
                : o.modelHash,
            variant,
            engine: engine.name,
            maxNewTokens: eo.maxNewTokens ?? null,
            repetitionGuard: eo.repetitionGuard,
            // Timings depend on it: a table is never a mix of thread counts.
            threads: engine.name === 'node' ? eo.threads : null,
          })
        : NO_CACHE;
      const tag = `[${variant} ${engine.name}]`;
      const cachedAtStart = o.clips.map((c) => !!cache.get(c.id, hashOf(c)));
      const scored: ScoredClip[] = [];
      const results = new Map<string, ClipResult>();
      let current: EvalEngine | null = null;
      let cannotStart: string | null = null;
      let doneBytes = 0;
      let spentMs = 0;
      let fromCache = 0;
      for (const [k, clip] of o.clips.entries()) {
        if (o.stopping()) break;
        const audioSha256 = hashOf(clip);
        let result = cache.get(clip.id, audioSha256);
        const cached = !!result;
        if (!result) {
          if (!current) {
            o.err(`${tag} loading…\n`);
            try {
              current = await openEngine(engine.name, {
                ...eo,
                variant,
                ...(engine.url ? { serverUrl: engine.url } : {}),
                ...(serverModel ? { serverModel } : {}),
              });
            } catch (err) {
              cannotStart = err instanceof Error ? err.message : String(err);
              o.err(`${tag} cannot start: ${cannotStart}\n`);
              failures++;
              break;
            }
            o.err(`${tag} ${current.label}\n`);
          }
          const t0 = performance.now();
          try {
            result = { id: clip.id, lang: clip.lang, audioSha256, output: await current.transcribe(clip.path) };
          } catch (err) {
            result = { id: clip.id, lang: clip.lang, audioSha256, error: (err as Error).message };
          }
          spentMs += performance.now() - t0;
          doneBytes += bytes[k]!;
          cache.put(result);
        } else fromCache++;
        results.set(clip.id, result);
        let s: ScoredClip;
        try {
          s = scoreClip(clip, result);
        } catch (err) {
          // (e.g. a number Python's int() refuses, as Whisper's normalizer does): the clip fails, the run goes on.
          s = { clip, result: { ...result, error: `cannot be scored: ${(err as Error).message}` }, score: null };
        }
        scored.push(s);
        const remaining = bytes.reduce((n, b, i) => (i > k && !cachedAtStart[i] ? n + b : n), 0);
        const eta = doneBytes > 0 ? (spentMs / 1000) * (remaining / doneBytes) : NaN;
        const sc = s.score;
        const what = s.result.error
          ? `FAILED: ${s.result.error}`
          : `${sc!.unit === 'char' ? 'CER' : 'WER'} ${sc!.substitutions + sc!.deletions + sc!.insertions}/${sc!.hits + sc!.substitutions + sc!.deletions}${cached ? ' (cached)' : ''}`;
        o.err(
          `${tag} ${k + 1}/${o.clips.length} ${clip.id}: ${what}${Number.isFinite(eta) && remaining > 0 ? ` · ETA ${clock(eta)}` : ''}\n`,
        );
        if (s.result.error) failures++;
        if (o.json)
          o.out(
            JSON.stringify({ type: 'clip', variant, engine: engine.name, cached, ...s.result, score: s.score }) + '\n',
          );
      }
      if (current) await current.close();
      if (variant === 'fp32') fp32ByEngine.set(engineKey, results);
      // The reference tokens: the fp32 run on this engine, else (same token convention: EOS included) on node/wasm.
      const reference =
        fp32ByEngine.get(engineKey) ??
        (engine.name === 'server' ? undefined : (fp32ByEngine.get('node') ?? fp32ByEngine.get('wasm')));
      const summary = summarize(variant, engine.name, scored, variant === 'fp32' ? null : (reference ?? null));
      summary.fromCache = fromCache;
      if (cannotStart) summary.cannotStart = cannotStart;
      runs.push(summary);
      worstBlocks.push(worstText(`${variant} on ${engine.name}`, worst(scored, o.worst), scored));
    }
  }
  return { runs, worstBlocks, failures };
}
