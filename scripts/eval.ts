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
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { VARIANTS, type ModelManifest } from '../src/core/asr/contract.ts';
import { sha256 } from '../eval/cache.ts';
import type { EngineOptions } from '../eval/engines.ts';
import { ManifestError, readManifest } from '../eval/manifest.ts';
import { summaryTable } from '../eval/report.ts';
import { runEval, type EngineSpec } from '../eval/run.ts';
import type { EvalClip } from '../eval/types.ts';

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
  engines: EngineSpec[];
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
  const manifest = values.model ? readModelManifest(values.model) : null;
  let variants: string[];
  if (!manifest) {
    // A server-only run: the rows are the server's model names.
    if (!values['server-model'])
      throw new UsageError('--engine server without --model needs --server-model NAME (the model the server serves)');
    if (values.variants) throw new UsageError('--variants needs --model (without it, --server-model names the model)');
    variants = [values['server-model']];
  } else if (values.variants !== undefined) {
    variants = values.variants
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
    if (!variants.length) throw new UsageError('--variants lists no variant');
    const bad = variants.filter((v) => !(VARIANTS as readonly string[]).includes(v));
    if (bad.length) throw new UsageError(`unknown variant ${bad.join(', ')}; choose from ${VARIANTS.join(', ')}`);
    const absent = variants.filter((v) => !(v in manifest.variants));
    if (absent.length && engines.some((e) => e.name !== 'server'))
      throw new UsageError(
        `${values.model} has no ${absent.join(', ')} variant (it has ${VARIANTS.filter((v) => v in manifest.variants).join(', ')})`,
      );
  } else variants = VARIANTS.filter((v) => v in manifest.variants);
  // fp32 first: the other variants' agreement is measured against it.
  variants = [...new Set(variants)].sort((a, b) => Number(b === 'fp32') - Number(a === 'fp32'));
  if (values['no-repetition-guard'] && engines.some((e) => e.name !== 'node'))
    throw new UsageError('--no-repetition-guard applies to --engine node only (the app and the server keep it on)');
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
    if (err instanceof ManifestError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`error: ${(err as Error).message}\n\n${HELP}`);
      return 2;
    }
    throw err;
  }
  const modelHash = args.model ? sha256(readFileSync(resolve(args.model, 'manifest.json'))) : null;

  // Ctrl-C: stop after the current clip (a terminal's signal can arrive twice through npm and tsx within a moment;
  // only a second Ctrl-C a second later ends at once).
  let stopAt = 0;
  process.on('SIGINT', () => {
    if (stopAt && Date.now() - stopAt > 1000) process.exit(130);
    if (stopAt) return;
    stopAt = Date.now();
    process.stderr.write('\nstopping after this clip (results so far are cached; run the same command to resume)…\n');
  });

  const { runs, worstBlocks, failures } = await runEval({
    clips,
    engines: args.engines,
    variants: args.variants,
    engineOptions: args.engineOptions,
    modelHash,
    cacheDir: args.cacheDir,
    json: args.json,
    worst: args.worst,
    stopping: () => stopAt > 0,
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  });
  const stopped = stopAt > 0;
  const report = `${summaryTable(runs)}\n\n${args.worst > 0 ? worstBlocks.join('\n\n') + '\n' : ''}`;
  if (args.json) process.stdout.write(JSON.stringify({ type: 'summary', runs, stopped }) + '\n');
  else process.stdout.write(report);
  if (args.json) process.stderr.write(report);
  if (stopped) {
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
