/**
 * `npm run bench -- webgpu`: decoder tokens/s on WebGPU in Chromium, op-by-op export vs fused decoder, side by side.
 * This machine's WebGPU is SwiftShader (a software GPU on the CPU), so only the ratios mean something: the fused
 * graph's win on a real GPU comes from launching ~12 kernels per layer instead of ~230.
 *
 * Decoder only (the graph the fused build changes): a 16-token prefill of random embeddings, then N single-token steps fed
 * from the returned cache, through onnxruntime-web's WebGPU EP in a page of its own.  Rows per model:
 *   - op-by-op export: a new `present` per step (as the app runs it);
 *   - fused, a new `present` per step;
 *   - fused, KV in place: `present` fetched into the `past` buffers (one per layer, sized for the steps), as the app
 *     runs it on WebGPU.
 * Models: the tiny test model (its unfused build is made here with the converter's --unfused) and, when present, the
 * full-size q4 model and its op-by-op reference (bench/asr.ts).
 *
 * Then `session.run` calls on WebGPU per 30 s window and per live utterance (`benchRunCounts`): each run is one more
 * submission on long-lived GPU buffers, which is what WebKit's per-submission leak and onnxruntime's crash after some
 * hundreds of runs on iOS scale with.  Counted by the runtime layer (OrtRuntime.runs) around the app's own decode loop
 * (greedy.ts, kv-cache.ts) in a page of its own (e2e/helpers/kv-page.ts), prompt chunks of 16 (before) and of the
 * decoder layout's chunk (after).
 */
import { chromium } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
import type { ModelManifest } from '../src/core/asr/contract.ts';
import { WEBGPU_GQA_PREFILL_CHUNK } from '../src/core/asr/greedy.ts';
import { AsrTokenizer } from '../src/core/asr/tokenizer.ts';
import { audioTokenCount } from '../src/core/asr/windows.ts';
import { SAMPLE_RATE_HZ } from '../src/core/constants.ts';
import type { KvRequest, KvResult, KvWindow } from '../e2e/helpers/kv-page.ts';
import { startKvPage } from '../e2e/helpers/kv-page-server.ts';
import { sendFromRoots } from '../e2e/helpers/static-roots.ts';
import { decoderNodes, FULL_MODEL, REFERENCE_MODEL, ROOT, table } from './common.ts';

export const PORT = 4393;
const ORT_DIST = resolve(ROOT, 'node_modules/onnxruntime-web/dist');
const TINY = resolve(ROOT, 'build/test-artifacts/models/tiny');
const TINY_UNFUSED = resolve(ROOT, 'build/bench/tiny-unfused');

export const PAGE = `<!doctype html><script type="module">
import * as ort from '/ort/ort.webgpu.min.mjs';
ort.env.wasm.wasmPaths = '/ort/';
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';
window.bench = async ({ base, files, layers, kv, hd, hidden, kvType, steps, inPlace, ep = 'webgpu' }) => {
  const [model, ...data] = files;
  const session = await ort.InferenceSession.create(base + model, {
    executionProviders: [ep],
    externalData: data.map((d) => ({ path: d.split('/').pop(), data: base + d })),
    preferredOutputLocation: ep !== 'webgpu' ? undefined : Object.fromEntries(
      Array.from({ length: layers }, (_, i) => [['present.' + i + '.key', 'gpu-buffer'], ['present.' + i + '.value', 'gpu-buffer']]).flat(),
    ),
  });
  const device = ep === 'webgpu' ? await ort.env.webgpu.device : null;
  const f16 = kvType === 'float16';
  const names = Array.from({ length: layers }, (_, i) => [i + '.key', i + '.value']).flat();
  const prefill = 16, cap = prefill + steps;
  let past = {};
  let shared = null;
  if (inPlace) {
    shared = {};
    for (const n of names) {
      const buffer = device.createBuffer({ size: Math.ceil(kv * cap * hd * (f16 ? 2 : 4) / 16) * 16, usage: 0x80 | 0x04 | 0x08 });
      shared['past_key_values.' + n] = ort.Tensor.fromGpuBuffer(buffer, { dataType: kvType, dims: [1, kv, cap, hd] });
    }
    past = shared;
  } else {
    for (const n of names) past['past_key_values.' + n] = new ort.Tensor(kvType, f16 ? new Uint16Array(0) : new Float32Array(0), [1, kv, 0, hd]);
  }
  const fetches = shared ? Object.fromEntries([['logits', null], ...names.map((n) => ['present.' + n, shared['past_key_values.' + n]])]) : undefined;
  const wants = new Set(session.inputNames);
  let seed = 1;
  const rand = (n) => { const a = new Float32Array(n); for (let i = 0; i < n; i++) { seed = (seed * 1103515245 + 12345) % 2147483648; a[i] = seed / 2147483648 - 0.5; } return a; };
  const step = async (seq, pastLen) => {
    const feeds = { inputs_embeds: new ort.Tensor('float32', rand(seq * hidden), [1, seq, hidden]), attention_mask: new ort.Tensor('int64', new BigInt64Array(pastLen + seq).fill(1n), [1, pastLen + seq]), ...past };
    if (wants.has('position_ids')) feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from({ length: seq }, (_, i) => BigInt(pastLen + i)), [1, seq]);
    if (wants.has('num_logits_to_keep')) feeds.num_logits_to_keep = new ort.Tensor('int64', BigInt64Array.of(1n), []);
    const out = fetches ? await session.run(feeds, fetches) : await session.run(feeds);
    out.logits.data; // read back: the token choice needs it every step
    if (!shared) {
      for (const t of Object.values(past)) if (t.location === 'gpu-buffer') t.dispose();
      past = {};
      for (const n of names) past['past_key_values.' + n] = out['present.' + n];
    }
  };
  await step(prefill, 0); // also compiles the shaders
  await step(1, prefill);
  const t0 = performance.now();
  for (let i = 1; i < steps; i++) await step(1, prefill + i);
  const ms = performance.now() - t0;
  for (const t of Object.values(past)) if (t.location === 'gpu-buffer') t.dispose();
  await session.release();
  return { tokPerSec: ((steps - 1) * 1000) / ms };
};
window.ready = true;
</script>`;

function ensureTinyUnfused(): void {
  if (existsSync(resolve(TINY_UNFUSED, 'manifest.json'))) return;
  console.log('building the tiny model op by op (converter --unfused) ...');
  execFileSync(
    resolve(ROOT, 'tools/py'),
    [
      '-m',
      'glmasr_onnx',
      'convert',
      '--from',
      resolve(ROOT, 'build/test-artifacts/ckpt/tiny'),
      '--out',
      TINY_UNFUSED,
      '--variants',
      'q4',
      '--unfused',
      '--overwrite',
      '--quiet',
    ],
    { stdio: 'inherit' },
  );
}

export function serve(roots: Record<string, string>) {
  return createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    if (url === '/' || url === '/bench.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(PAGE);
      return;
    }
    sendFromRoots(url, roots, res);
  }).listen(PORT, '127.0.0.1');
}

export async function benchWebGpu(): Promise<void> {
  console.log('\n== WebGPU decoder tokens/s in Chromium (SwiftShader: compare the ratios), op-by-op vs fused');
  if (!existsSync(resolve(TINY, 'manifest.json'))) {
    console.log('SKIPPED: the tiny test model is not built (npm test builds it)');
    return;
  }
  ensureTinyUnfused();
  const models = [
    { name: 'tiny', variant: 'q4', steps: 64, before: TINY_UNFUSED, after: TINY },
    { name: 'full-size', variant: 'q4', steps: 6, before: REFERENCE_MODEL, after: FULL_MODEL },
  ].filter((m) => existsSync(resolve(m.before, 'manifest.json')) && existsSync(resolve(m.after, 'manifest.json')));
  const roots: Record<string, string> = { ort: ORT_DIST };
  for (const m of models) {
    roots[`${m.name}-before`] = m.before;
    roots[`${m.name}-after`] = m.after;
  }
  const server = serve(roots);
  const browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, '--js-flags=--max-old-space-size=8192'],
  });
  const rows: (string | number)[][] = [['model', 'decoder', 'nodes', 'KV cache', 'tokens/s', 'vs op-by-op']];
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${PORT}/bench.html`);
    await page.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true);
    for (const m of models) {
      let baseline = 0;
      for (const [which, inPlace] of [
        ['before', false],
        ['after', false],
        ['after', true],
      ] as const) {
        const dir = which === 'before' ? m.before : m.after;
        const manifest = JSON.parse(readFileSync(resolve(dir, 'manifest.json'), 'utf8')) as ModelManifest;
        const graph = manifest.variants[m.variant as 'q4']!.graphs.decoder_model_merged;
        const args = {
          base: `/${m.name}-${which}/`,
          files: graph.files,
          layers: manifest.model.num_layers,
          kv: manifest.model.num_key_value_heads,
          hd: manifest.model.head_dim,
          hidden: manifest.model.hidden_size,
          kvType: 'float32',
          steps: m.steps,
          inPlace,
        };
        const r = await page.evaluate(
          (a) => (globalThis as unknown as { bench: (x: typeof a) => Promise<{ tokPerSec: number }> }).bench(a),
          args,
        );
        if (which === 'before') baseline = r.tokPerSec;
        rows.push([
          m.name,
          which === 'before' ? 'op-by-op export' : 'fused',
          decoderNodes(dir, m.variant),
          inPlace ? 'in place' : 'new per step',
          r.tokPerSec.toFixed(2),
          `${(r.tokPerSec / baseline).toFixed(2)}x`,
        ]);
        console.log(rows[rows.length - 1]!.join(' | '));
      }
    }
  } finally {
    await browser.close();
    server.close();
  }
  console.log(table(rows));
  await benchRunCounts();
}

/** Generated tokens of a real 30 s window (speech decodes 4–6 tokens per second; the random models never stop). */
const WINDOW_TOKENS = 150;
/** A live utterance of 5 s: a partial after each 1 s of speech (live.ts's defaults), then the final. */
const UTTERANCE_DECODES_S = [1, 2, 3, 4, 5];
const TOKENS_PER_S = 5;

async function benchRunCounts(): Promise<void> {
  console.log('\n== WebGPU session.run calls per 30 s window and per live utterance (tiny fp32, the app decode loop)');
  const read = (f: string) => readFileSync(resolve(TINY, f), 'utf8');
  const tokenizer = new AsrTokenizer(
    JSON.parse(read('tokenizer.json')),
    JSON.parse(read('tokenizer_config.json')),
    read('chat_template.jinja'),
  );
  const promptOf = (seconds: number) => tokenizer.prompt(audioTokenCount(seconds * SAMPLE_RATE_HZ)).length;
  const window30: KvWindow[] = [{ prompt: promptOf(30), cap: WINDOW_TOKENS, seed: 1 }];
  const utterance: KvWindow[] = UTTERANCE_DECODES_S.map((s, i) => ({
    prompt: promptOf(s),
    cap: s * TOKENS_PER_S + 1,
    seed: 2 + i,
  }));
  const server = await startKvPage();
  const browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  const rows: (string | number)[][] = [
    ['what', 'prompt chunk', 'decoder runs', 'embed_tokens runs', 'encoder runs', 'all runs'],
  ];
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true);
    const decode = (windows: KvWindow[], prefillChunk?: number) => {
      const r: KvRequest = { model: 'tiny', variant: 'fp32', backend: 'webgpu', cache: 'in-place', windows };
      if (prefillChunk) r.prefillChunk = prefillChunk;
      return page.evaluate(
        (x) => (globalThis as unknown as { decodeWindows: (q: KvRequest) => Promise<KvResult> }).decodeWindows(x),
        r,
      );
    };
    for (const [what, windows] of [
      [`30 s window (${window30[0]!.prompt}-token prompt, ${WINDOW_TOKENS} tokens)`, window30],
      [`live utterance of 5 s (${UTTERANCE_DECODES_S.length} decodes: partials at 1-4 s, final)`, utterance],
    ] as const) {
      for (const [label, chunk] of [
        ['before', 16],
        ['after', undefined],
      ] as const) {
        const r = await decode([...windows], chunk);
        const decoder = r.windows.reduce((n, w) => n + w.runs.decoder, 0);
        const embedRuns = r.windows.reduce((n, w) => n + w.runs.embed, 0);
        // Before, every generated id but the last was embedded by a run of its own (no reuse within a window).
        const embed = label === 'before' ? windows.reduce((n, w) => n + w.cap, 0) : embedRuns;
        // The pipeline runs audio_encoder once per decode (pipeline.ts), outside this loop.
        const encoder = windows.length;
        rows.push([`${what}: ${label}`, r.prefillChunk, decoder, embed, encoder, decoder + embed + encoder]);
        console.log(rows[rows.length - 1]!.join(' | '));
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
  console.log(table(rows));
  console.log(
    `decoder runs per window = ceil(prompt / chunk) + tokens - 1; chunk ${WEBGPU_GQA_PREFILL_CHUNK} after (greedy.ts)`,
  );
}
