/**
 * `npm run eval`: accuracy and speed of a converted model per variant and engine over a manifest of clips.
 *
 *   npm run eval -- --model DIR --set MANIFEST.tsv [--variants fp32,q8,q4,q4f16] [--engine node|wasm|server URL]
 *                   [--json] [--limit N] [--worst N] [--max-new-tokens N] [--no-repetition-guard] [--threads N]
 *                   [--server-model NAME] [--api-key KEY] [--cache DIR | --no-cache]
 *
 * Prints per clip a progress line (stderr, with ETA), then one table: WER (English: Whisper's English normalizer;
 * other space-separated languages: its basic normalizer) and CER (zh/ja/ko/...: punctuation and spaces removed) with
 * substitutions/deletions/insertions, real-time factor, tokens/s and token agreement with the fp32 run; then the
 * worst utterances.  Results are cached per clip (model hash, variant, engine, options): a stopped run resumes.
 * A clip that fails is reported and the run goes on (exit code 1 at the end).
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { VARIANTS, type ModelManifest } from '../workers/asr/contract.ts';
import { ResultCache, sha256 } from '../eval/cache.ts';
import { EngineError, openEngine, type EngineOptions, type EvalEngine } from '../eval/engines.ts';
import { ManifestError, readManifest } from '../eval/manifest.ts';
import { scoreClip, summarize, summaryTable, worst, worstText, type ScoredClip } from '../eval/report.ts';
import type { ClipResult, EngineName, EvalClip, RunSummary } from '../eval/types.ts';

const ROOT = resolve(import.meta.dirname, '..');

const HELP = `usage: npm run eval -- --model DIR --set MANIFEST.tsv [options]

  --model <dir>            converted model directory (npm run model:convert)
  --set <manifest.tsv>     clips: a TSV with columns id, lang, file (relative to the TSV), text
                           (e.g. ../shared/data/speech/manifest.tsv)
  --variants <list>        comma-separated (default: every variant the model has; fp32 runs first)
  --engine <name>          node (onnxruntime-node, default), wasm (the app in Chromium's WASM engine), or
                           server URL (an OpenAI-compatible API root, e.g. --engine server http://host:8080/v1);
                           may be given more than once
  --server-model <name>    the model name sent to the server (default: <model dir name>@<variant>)
  --api-key <key>          bearer key for the server
  --limit <n>              only the first n clips
  --worst <n>              worst utterances listed per run (default 5)
  --max-new-tokens <n>     per-window token cap (default: the pipeline's)
  --no-repetition-guard    node only: greedy decode without the loop guard (as the converter's goldens)
  --threads <n>            onnxruntime-node threads (default: one per core)
  --cache <dir>            per-clip results (default ~/.cache/glm-asr-web/eval); --no-cache to run everything again
  --json                   one JSON line per clip as it finishes, then {"type":"summary",...}
`;

interface Args {
  model?: string;
  set: string;
  variants: string[];
  engines: { name: EngineName; url?: string }[];
  json: boolean;
  limit: number;
  worst: number;
  engineOptions: Omit<EngineOptions, 'variant' | 'serverUrl'>;
  cacheDir: string | null;
}

class UsageError extends Error {}

function parse(argv: string[]): Args | 'help' {
  const { values, positionals, tokens } = parseArgs({
    args: argv,
    allowPositionals: true,
    tokens: true,
    options: {
      model: { type: 'string' },
      set: { type: 'string' },
      variants: { type: 'string' },
      engine: { type: 'string', multiple: true },
      'server-model': { type: 'string' },
      'api-key': { type: 'string' },
      limit: { type: 'string' },
      worst: { type: 'string', default: '5' },
      'max-new-tokens': { type: 'string' },
      'no-repetition-guard': { type: 'boolean', default: false },
      threads: { type: 'string', default: '0' },
      cache: { type: 'string' },
      'no-cache': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (!values.set) throw new UsageError('--set MANIFEST.tsv is required');
  // `--engine server URL`: the URL is the positional right after that option.
  const engines: Args['engines'] = [];
  const used = new Set<number>();
  for (const t of tokens) {
    if (t.kind !== 'option' || t.name !== 'engine') continue;
    const v = t.value ?? '';
    if (v === 'node' || v === 'wasm') engines.push({ name: v });
    else if (/^https?:\/\//.test(v)) engines.push({ name: 'server', url: v });
    else if (v === 'server') {
      // `--engine server URL` takes args[i..i+2]; `--engine=server URL` args[i..i+1].
      const at = t.index + (t.inlineValue ? 1 : 2);
      const next = tokens.find((u) => u.kind === 'positional' && u.index === at);
      if (!next || next.kind !== 'positional')
        throw new UsageError('--engine server needs its URL: --engine server URL');
      used.add(next.index);
      engines.push({ name: 'server', url: next.value });
    } else throw new UsageError(`unknown engine ${v}: node, wasm or server URL`);
  }
  const stray = tokens.filter((t) => t.kind === 'positional' && !used.has(t.index));
  if (stray.length || positionals.length > used.size)
    throw new UsageError(`unexpected argument ${stray.map((t) => (t.kind === 'positional' ? t.value : '')).join(' ')}`);
  if (!engines.length) engines.push({ name: 'node' });
  if (!values.model && engines.some((e) => e.name !== 'server')) throw new UsageError('--model DIR is required');
  const int = (name: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}`);
    return n;
  };
  let variants: string[];
  if (values.variants) {
    variants = values.variants
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
    const bad = variants.filter((v) => !(VARIANTS as readonly string[]).includes(v));
    if (bad.length) throw new UsageError(`unknown variant ${bad.join(', ')}; choose from ${VARIANTS.join(', ')}`);
  } else if (values.model) {
    const manifest = readModelManifest(values.model);
    variants = VARIANTS.filter((v) => v in manifest.variants);
  } else variants = ['q4f16'];
  // fp32 first: the other variants' agreement is measured against it.
  variants = [...new Set(variants)].sort((a, b) => Number(b === 'fp32') - Number(a === 'fp32'));
  const maxNewTokens = int('max-new-tokens', values['max-new-tokens'], 1);
  return {
    ...(values.model ? { model: resolve(values.model) } : {}),
    set: values.set,
    variants,
    engines,
    json: values.json,
    limit: int('limit', values.limit, 1) ?? Infinity,
    worst: int('worst', values.worst, 0) ?? 5,
    engineOptions: {
      ...(values.model ? { model: resolve(values.model) } : {}),
      ...(maxNewTokens ? { maxNewTokens } : {}),
      repetitionGuard: !values['no-repetition-guard'],
      threads: int('threads', values.threads, 0) ?? 0,
      ...(values['server-model'] ? { serverModel: values['server-model'] } : {}),
      ...(values['api-key'] ? { apiKey: values['api-key'] } : {}),
      root: ROOT,
    },
    cacheDir: values['no-cache']
      ? null
      : resolve(values.cache ?? process.env['GLMASR_EVAL_CACHE'] ?? resolve(homedir(), '.cache/glm-asr-web/eval')),
  };
}

function readModelManifest(dir: string): ModelManifest {
  const path = resolve(dir, 'manifest.json');
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ModelManifest;
  } catch (err) {
    throw new UsageError(`${path}: not a converted model (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** In-memory stand-in when --no-cache: same interface, nothing kept. */
class NoCache {
  get(): undefined {
    return undefined;
  }
  put(): void {}
}

async function main(argv: string[]): Promise<number> {
  let args: Args;
  let clips: EvalClip[];
  try {
    const parsed = parse(argv);
    if (parsed === 'help') {
      process.stdout.write(HELP);
      return 0;
    }
    args = parsed;
    clips = readManifest(args.set).slice(0, args.limit);
  } catch (err) {
    if (
      err instanceof UsageError ||
      err instanceof ManifestError ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      process.stderr.write(`error: ${(err as Error).message}\n\n${HELP}`);
      return 2;
    }
    throw err;
  }
  const modelHash = args.model ? sha256(readFileSync(resolve(args.model, 'manifest.json'))) : null;
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
  const cacheFor = (variant: string, engine: { name: EngineName; url?: string }) => {
    if (!args.cacheDir) return new NoCache();
    const o = args.engineOptions;
    return new ResultCache(args.cacheDir, {
      format: 1,
      model: engine.name === 'server' ? { url: engine.url, name: o.serverModel ?? null, modelHash } : modelHash,
      variant,
      engine: engine.name,
      maxNewTokens: o.maxNewTokens ?? null,
      repetitionGuard: o.repetitionGuard,
    });
  };

  let stopping = false;
  let current: EvalEngine | null = null;
  process.on('SIGINT', () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write('\nstopping after this clip (results so far are cached; run the same command to resume)…\n');
  });

  const runs: RunSummary[] = [];
  const worstBlocks: string[] = [];
  let failures = 0;
  const fp32ByEngine = new Map<string, Map<string, ClipResult>>();
  for (const engine of args.engines) {
    const engineKey = `${engine.name}${engine.url ? ` ${engine.url}` : ''}`;
    for (const variant of args.variants) {
      if (stopping) break;
      const cache = cacheFor(variant, engine);
      const scored: ScoredClip[] = [];
      const results = new Map<string, ClipResult>();
      const bytes = clips.map((c) => {
        try {
          return statSync(c.path).size;
        } catch {
          return 0;
        }
      });
      let doneBytes = 0;
      let spentMs = 0;
      const tag = `[${variant} ${engine.name}]`;
      for (const [k, clip] of clips.entries()) {
        if (stopping) break;
        const audioSha256 = hashOf(clip);
        let result = cache.get(clip.id, audioSha256);
        const cached = !!result;
        if (!result) {
          const t0 = performance.now();
          try {
            if (!current) {
              process.stderr.write(`${tag} loading…\n`);
              current = await openEngine(engine.name, {
                ...args.engineOptions,
                variant,
                ...(engine.url ? { serverUrl: engine.url } : {}),
              });
              process.stderr.write(`${tag} ${current.label}\n`);
            }
            result = { id: clip.id, lang: clip.lang, audioSha256, output: await current.transcribe(clip.path) };
          } catch (err) {
            if (err instanceof EngineError && !current) {
              process.stderr.write(`${tag} cannot start: ${err.message}\n`);
              failures++;
              break;
            }
            result = { id: clip.id, lang: clip.lang, audioSha256, error: (err as Error).message };
          }
          spentMs += performance.now() - t0;
          doneBytes += bytes[k]!;
          cache.put(result);
        }
        results.set(clip.id, result);
        const s = scoreClip(clip, result);
        scored.push(s);
        const remainingBytes = bytes.slice(k + 1).reduce((a, b) => a + b, 0);
        const eta = doneBytes > 0 ? (spentMs / 1000) * (remainingBytes / doneBytes) : NaN;
        const what = result.error
          ? `FAILED: ${result.error}`
          : `${s.score!.unit === 'char' ? 'CER' : 'WER'} ${s.score!.substitutions + s.score!.deletions + s.score!.insertions}/${s.score!.hits + s.score!.substitutions + s.score!.deletions}${cached ? ' (cached)' : ''}`;
        process.stderr.write(
          `${tag} ${k + 1}/${clips.length} ${clip.id}: ${what}${Number.isFinite(eta) && k + 1 < clips.length ? ` · ETA ${clock(eta)}` : ''}\n`,
        );
        if (result.error) failures++;
        if (args.json)
          process.stdout.write(
            JSON.stringify({ type: 'clip', variant, engine: engine.name, cached, ...result, score: s.score }) + '\n',
          );
      }
      if (current) {
        await current.close();
        current = null;
      }
      if (variant === 'fp32') fp32ByEngine.set(engineKey, results);
      // The reference tokens: the fp32 run on this engine, else (same token convention: EOS included) on node/wasm.
      const reference =
        fp32ByEngine.get(engineKey) ??
        (engine.name === 'server' ? undefined : (fp32ByEngine.get('node') ?? fp32ByEngine.get('wasm')));
      const summary = summarize(variant, engine.name, scored, variant === 'fp32' ? null : (reference ?? null));
      runs.push(summary);
      worstBlocks.push(worstText(`${variant} on ${engine.name}`, worst(scored, args.worst)));
    }
  }
  const report = `${summaryTable(runs)}\n\n${args.worst > 0 ? worstBlocks.join('\n\n') + '\n' : ''}`;
  if (args.json) process.stdout.write(JSON.stringify({ type: 'summary', runs, stopped: stopping }) + '\n');
  else process.stdout.write(report);
  if (args.json) process.stderr.write(report);
  if (stopping) {
    process.stderr.write('stopped: the table covers the clips done so far; run the same command to resume.\n');
    return 130;
  }
  return failures ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
