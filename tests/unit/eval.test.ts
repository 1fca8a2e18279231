/**
 * `npm run eval` on the tiny random model: the harness, not a WER (random weights transcribe nothing).
 *  - token agreement with fp32 per variant equals the converter's own parity report (ort-reference.json's
 *    prefix_agreement: onnxruntime-Python's decode of each variant against the official fp32 goldens), over the
 *    same golden windows, a two-window clip included.  q8 is left out: its activations are quantized per call
 *    (DynamicQuantizeLinear), and on this random model its tokens change when the golden log-mel is perturbed by
 *    1e-6 (measured on the tiny model of 2026-11, its encoder 4 heads wide, with the converter's own Python decode:
 *    25 -> 27 -> 18 of 265 tokens agreeing at noise 0, 1e-6,
 *    1e-5, while q4 stays at 3), so Node's own log-mel (within ~1e-6 of transformers') legitimately decodes other q8
 *    tokens than the converter's report, which starts from transformers' log-mel.  fp16 is held to its report only
 *    up to the official decode's first near-tie in each window (a step whose top-1 margin is below fp16's reported
 *    first-step drift; the goldens record every step's margin): on the tiny model of 2026-11 (its encoder 4 heads
 *    wide), glm-example-zh's step 12 (official top-1 margin 1.2e-3, below fp16's
 *    ~5e-3 first-step drift) had fp16's two best tokens within 4e-4..8e-4 of each other, so 1e-6 of log-mel noise,
 *    Node's log-mel, or onnxruntime 1.31's new AVX2/F16C fp16 LayerNormalization kernel (1 ulp off 1.30's scalar one
 *    in ~0.05 % of elements; the report is made with Python's 1.31.1, Node runs 1.30.0) each flip it (measured on a
 *    Xeon with AVX-512-FP16: Node 48/48, the report 12/48 on that window), so from such a step on fp16 may decode
 *    other tokens, and before it must equal the report's tokens;
 *  - the WER/CER counts it prints equal openai-whisper's normalizer + jiwer on the hypotheses it produced;
 *  - results are cached per clip: a stopped run resumes with the clips it had and a rerun transcribes nothing;
 *  - a bad clip is reported and skipped, the run goes on, the exit code says so;
 *  - the server engine (the app's real server) gives the node engine's texts and tokens.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeWavFloat32 } from '../../src/core/dsp/wav.ts';
import { hasInt8DotProduct } from '../../server/cpu-features.ts';
import type { RunSummary } from '../../eval/types.ts';
import type { AppServer } from '../../server/server.ts';
import { GOLDENS_MISSING, ROOT, SPEECH_DIR, SPEECH_MISSING } from '../helpers/data.ts';
import { evalOracle } from '../helpers/eval-oracle.ts';
import { clipAudio, goldens, modelDir } from '../helpers/goldens.ts';
import { startTestServer } from '../helpers/server.ts';

interface ClipLine {
  type: 'clip';
  variant: string;
  engine: string;
  cached: boolean;
  id: string;
  lang: string;
  error?: string;
  output?: { text: string; windows: number[][] | null };
  score: { unit: string; hits: number; substitutions: number; deletions: number; insertions: number } | null;
}
interface SummaryLine {
  type: 'summary';
  runs: RunSummary[];
  stopped: boolean;
}

const TSX = resolve(ROOT, 'node_modules/.bin/tsx');

function evalCli(args: string[]) {
  const r = spawnSync(TSX, ['scripts/eval.ts', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { ...r, ...lines(r.stdout) };
}

/** Without blocking this process (the server engine's test serves from here). */
function evalCliAsync(args: string[]): Promise<ReturnType<typeof lines> & { status: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(TSX, ['scripts/eval.ts', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (status) => done({ status, stderr, ...lines(stdout) }));
  });
}

function lines(stdout: string): { clips: ClipLine[]; summary: SummaryLine | undefined } {
  const all = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as ClipLine | SummaryLine);
  return {
    clips: all.filter((l): l is ClipLine => l.type === 'clip'),
    summary: all.find((l): l is SummaryLine => l.type === 'summary'),
  };
}

const skip = Boolean(SPEECH_MISSING() || GOLDENS_MISSING('tiny'));

describe.skipIf(skip)('npm run eval (tiny model)', () => {
  const dir = mkdtempSync(resolve(tmpdir(), 'eval-'));
  const set = resolve(dir, 'goldens.tsv');
  const cache = resolve(dir, 'cache');
  let base: string[] = [];

  beforeAll(() => {
    // The golden clips, as the converter's parity report decoded them (multi-file clips concatenated).
    const shared = new Map(
      readFileSync(resolve(SPEECH_DIR, 'manifest.tsv'), 'utf8')
        .split('\n')
        .slice(1)
        .filter(Boolean)
        .map((l) => l.split('\t'))
        .map((c) => [c[2]!, { lang: c[1]!, text: c[4]! }]),
    );
    const rows = ['id\tlang\tfile\ttext'];
    for (const clip of goldens('tiny').clips) {
      const meta = clip.files.map((f) => shared.get(f)!);
      let file = resolve(SPEECH_DIR, clip.files[0]!);
      if (clip.files.length > 1) {
        file = resolve(dir, `${clip.id}.wav`);
        writeFileSync(file, encodeWavFloat32(clipAudio(clip), 16_000));
      }
      rows.push(`${clip.id}\t${meta[0]!.lang}\t${file}\t${meta.map((m) => m.text).join(' ')}`);
    }
    writeFileSync(set, rows.join('\n') + '\n');
    base = [
      '--model',
      modelDir('tiny'),
      '--set',
      set,
      '--max-new-tokens',
      String(goldens('tiny').max_new_tokens),
      '--no-repetition-guard',
      '--threads',
      '1',
      '--json',
      '--cache',
      cache,
    ];
  });

  test('agreement with fp32 equals the converter parity report; scores equal whisper + jiwer', () => {
    const r = evalCli([...base, '--variants', 'q4,fp32,q4f16,fp16']);
    expect(r.status, r.stderr).toBe(0);
    const summary = r.summary!;
    expect(summary.runs.map((run) => run.variant)).toEqual(['fp32', 'q4', 'q4f16', 'fp16']);
    const report = JSON.parse(
      readFileSync(resolve(ROOT, 'build/test-artifacts/goldens/tiny/ort-reference.json'), 'utf8'),
    ) as {
      variants: Record<
        string,
        {
          prefix_agreement: number;
          first_logits_max_drift: number;
          windows: { clip: string; window: number; token_ids: number[] }[];
        }
      >;
    };
    const g = goldens('tiny');
    // fp32 decodes the official goldens' tokens (the premise of measuring against it).
    for (const c of r.clips.filter((l) => l.variant === 'fp32'))
      expect(c.output!.windows).toEqual(g.clips.find((x) => x.id === c.id)!.windows.map((w) => w.token_ids));
    for (const run of summary.runs.filter((x) => x.variant !== 'fp32')) {
      const a = run.agreement!;
      expect(a.total).toBe(g.clips.reduce((n, c) => n + c.windows.reduce((m, w) => m + w.token_ids.length, 0), 0));
      // The node engine runs q4 as the server does: with q8's audio encoder where the CPU has int8 dot products.
      const reported = run.variant === 'q4' && hasInt8DotProduct() ? 'q4+q8-encoder' : run.variant;
      if (run.variant !== 'fp16')
        expect(a.agree / a.total, run.variant).toBeCloseTo(report.variants[reported]!.prefix_agreement, 12);
    }
    // fp16: the report's tokens on every window, up to its first near-tie for fp16 (see the header).
    const fp16 = report.variants['fp16']!;
    let held = 0;
    for (const c of r.clips.filter((l) => l.variant === 'fp16'))
      g.clips
        .find((x) => x.id === c.id)!
        .windows.forEach((w, i) => {
          // The official margins speak for fp16's steps only while the report's fp16 tokens are the official ones.
          const tie = w.margins.findIndex((m) => m < fp16.first_logits_max_drift);
          const theirs = fp16.windows.find((x) => x.clip === c.id && x.window === i)!.token_ids;
          const apart = theirs.findIndex((id, k) => id !== w.token_ids[k]);
          const n = Math.min(tie === -1 ? w.token_ids.length : tie, apart === -1 ? theirs.length : apart);
          expect(c.output!.windows![i]!.slice(0, n), `fp16 ${c.id}/${i}, the ${n} steps before a near-tie`).toEqual(
            theirs.slice(0, n),
          );
          held += n;
        });
    console.log(`[eval] fp16 held to the report on ${held} steps before the windows' first near-ties`);
    expect(held).toBeGreaterThan(0);
    // Scores of the hypotheses it produced, by the independent oracle.
    const items = r.clips.map((c) => ({
      lang: c.lang,
      ref: readFileSync(set, 'utf8')
        .split('\n')
        .find((l) => l.startsWith(`${c.id}\t`))!
        .split('\t')[3]!,
      hyp: c.output!.text,
    }));
    const theirs = evalOracle<{ unit: string }[]>(['score', 'utterances'], items);
    const counts = (c: ClipLine) => {
      const { unit, hits, substitutions, deletions, insertions } = c.score!;
      return { unit, hits, substitutions, deletions, insertions };
    };
    expect(r.clips.map(counts)).toEqual(theirs);
    // The summary sums them.
    const q4 = summary.runs.find((x) => x.variant === 'q4')!;
    const words = r.clips.filter((c) => c.variant === 'q4' && c.score!.unit === 'word');
    expect(q4.word.substitutions).toBe(words.reduce((n, c) => n + c.score!.substitutions, 0));
    expect(q4.clips).toBe(g.clips.length);
    expect(q4.tokens).toBeGreaterThan(0);
    // The printed table (stderr with --json).
    expect(r.stderr).toMatch(/variant\s+engine\s+clips\s+WER \(S\/D\/I\)\s+CER \(S\/D\/I\)\s+RTF\s+tokens\/s/);
    expect(r.stderr).toMatch(/worst utterances/);
  });

  test('a rerun takes every clip from the cache; a stopped run resumes', async () => {
    const again = evalCli([...base, '--variants', 'q4']);
    expect(again.status).toBe(0);
    expect(again.clips).toHaveLength(goldens('tiny').clips.length);
    expect(again.clips.every((c) => c.cached)).toBe(true);
    expect(again.stderr).toMatch(/q4 on node: 7 of 7 clips from the cache/);
    // Fresh cache: Ctrl-C after the first clip, as a terminal sends it to `npm run eval` (the whole process group:
    // npm, tsx and the eval each get it), then resume.  The set is the golden clips five times over (35 clips, ids
    // of their own): a loaded machine can hand this process the eval's output in one late chunk, and seven tiny
    // clips could all be done (and the summary written) before the signal lands; thirty-five cannot.
    const long = resolve(dir, 'long.tsv');
    const [header, ...rows] = readFileSync(set, 'utf8').trim().split('\n');
    const repeated = Array.from({ length: 5 }, (_, k) => rows.map((r) => r.replace(/^([^\t]+)/, `$1-${k}`))).flat();
    writeFileSync(long, [header, ...repeated].join('\n') + '\n');
    const fresh = [...base.slice(0, 3), long, ...base.slice(4, -1), resolve(dir, 'cache-stop'), '--variants', 'fp32'];
    const child = spawn('npm', ['run', '--silent', 'eval', '--', ...fresh], { cwd: ROOT, detached: true });
    let out = '';
    const code = await new Promise<number | null>((done) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('"type":"clip"') && !out.includes('"type":"summary"')) process.kill(-child.pid!, 'SIGINT');
      });
      child.on('close', done);
    });
    expect(code).not.toBe(0); // npm itself ends on the signal; the eval's own output is what matters
    const first = lines(out);
    expect(first.summary!.stopped).toBe(true);
    const done = first.clips.length;
    expect(done).toBeGreaterThanOrEqual(1);
    expect(done).toBeLessThan(repeated.length);
    const resumed = evalCli(fresh);
    expect(resumed.status).toBe(0);
    expect(resumed.clips.filter((c) => c.cached).map((c) => c.id)).toEqual(first.clips.map((c) => c.id));
    expect(resumed.clips).toHaveLength(repeated.length);
  });

  test('bad clips are reported and skipped; the run goes on and exits 1', () => {
    const bad = resolve(dir, 'bad.tsv');
    writeFileSync(resolve(dir, 'notes.wav'), 'not audio');
    const good = readFileSync(set, 'utf8').split('\n')[4]!;
    writeFileSync(bad, `id\tlang\tfile\ttext\nmissing\ten\tnope.wav\thello\nnotes\ten\tnotes.wav\thi\n${good}\n`);
    const r = evalCli([...base.slice(0, 3), bad, ...base.slice(4), '--variants', 'fp32']);
    expect(r.status).toBe(1);
    expect(r.clips.map((c) => [c.id, !!c.error])).toEqual([
      ['missing', true],
      ['notes', true],
      [good.split('\t')[0], false],
    ]);
    expect(r.clips[0]!.error).toMatch(/nope\.wav: cannot read|ENOENT/);
    expect(r.clips[1]!.error).toMatch(/not a readable audio file/);
    expect(r.summary!.runs[0]!.failed).toBe(2);
    expect(r.stderr).toMatch(/2\/3 notes: FAILED/);
  });

  test('usage errors name the problem', () => {
    const none = evalCli([]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/--set MANIFEST.tsv is required/);
    const header = resolve(dir, 'header.tsv');
    writeFileSync(header, 'name\tpath\nx\ty\n');
    const h = evalCli(['--model', modelDir('tiny'), '--set', header]);
    expect(h.status).toBe(2);
    expect(h.stderr).toMatch(/missing id, lang, file, text/);
    const cases: [string[], RegExp][] = [
      [['--variants', 'q3'], /unknown variant q3/],
      [['--variants', ','], /--variants lists no variant/],
      [['--engine', 'server'], /--engine server needs its URL/],
      [['--engine', 'wasm', '--no-repetition-guard'], /--no-repetition-guard applies to --engine node only/],
    ];
    for (const [extra, message] of cases) {
      const r = evalCli(['--model', modelDir('tiny'), '--set', set, ...extra]);
      expect(r.status, extra.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    // A model without the asked variant (the overflow test model has q4 and q4f16 only).
    const q8 = evalCli(['--model', modelDir('tiny-overflow'), '--set', set, '--variants', 'q8']);
    expect(q8.status).toBe(2);
    expect(q8.stderr).toMatch(/has no q8 variant \(it has q4, q4f16\)/);
    const remote = evalCli(['--set', set, '--engine', 'server', 'http://127.0.0.1:9/v1']);
    expect(remote.status).toBe(2);
    expect(remote.stderr).toMatch(/needs --server-model NAME/);
    // Manifest errors: the line, and no usage text.
    const empty = resolve(dir, 'empty-text.tsv');
    writeFileSync(empty, `id\tlang\tfile\ttext\na\ten\tx.wav\thello\nb\ten\ty.wav\t\n`);
    const e = evalCli(['--model', modelDir('tiny'), '--set', empty]);
    expect(e.status).toBe(2);
    expect(e.stderr).toBe(`error: ${empty}:3: id, lang, file and text must not be empty\n`);
  });

  test('an engine that cannot start is reported once, not per clip', () => {
    const r = evalCli([
      '--set',
      set,
      '--engine',
      'server',
      'http://127.0.0.1:9/v1',
      '--server-model',
      'x',
      '--no-cache',
      '--json',
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr.match(/cannot start/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/x on server could not start: cannot reach http:\/\/127\.0\.0\.1:9\/v1\/models/);
    expect(r.summary!.runs[0]!.cannotStart).toMatch(/cannot reach/);
  });

  test('a reference the normalizer refuses fails that clip only', () => {
    const big = resolve(dir, 'big.tsv');
    const good = readFileSync(set, 'utf8').split('\n')[4]!;
    // Whisper's normalizer turns this into an integer of over 4300 digits, which Python's int() refuses.
    writeFileSync(
      big,
      `id\tlang\tfile\ttext\nbig\ten\t${good.split('\t')[2]}\t${'one '.repeat(4300)}million\n${good}\n`,
    );
    const r = evalCli([...base.slice(0, 3), big, ...base.slice(4), '--variants', 'fp32']);
    expect(r.status).toBe(1);
    expect(r.clips[0]!.error).toMatch(/cannot be scored/);
    expect(r.clips[1]!.score).not.toBeNull();
  });

  describe('server engine', () => {
    let server: AppServer;
    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(() => server?.close());

    test("the app's server gives the node engine's text and tokens", async () => {
      const common = ['--set', set, '--max-new-tokens', '48', '--json', '--no-cache'];
      const node = evalCli(['--model', modelDir('tiny'), ...common, '--variants', 'fp32', '--threads', '1']);
      const remote = await evalCliAsync([
        ...common,
        '--engine',
        'server',
        `${server.url}/v1`,
        '--server-model',
        'tiny@fp32',
      ]);
      expect(remote.status, remote.stderr).toBe(0);
      expect(remote.clips.map((c) => c.output!.text)).toEqual(node.clips.map((c) => c.output!.text));
      // The server reports tokens without the EOS.
      const eos = new Set(goldens('tiny').eos_token_ids);
      expect(remote.clips.map((c) => c.output!.windows)).toEqual(
        node.clips.map((c) => c.output!.windows!.map((w) => w.filter((t) => !eos.has(t)))),
      );
      expect(remote.summary!.runs[0]!.engine).toBe('server');
    });
  });
});
