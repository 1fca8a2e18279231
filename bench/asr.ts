/**
 * GLM-ASR speed on the full-size random-weight model, side by side in one run, before and after the fused decoder:
 *  - models: the op-by-op export (`npm run model:full-random -- --unfused --out ~/.cache/glm-asr-web/full-random-unfused`,
 *    or GLMASR_BENCH_REFERENCE) and the converter's fused build (`npm run model:full-random`), each with its decoder's
 *    node count (kernels per generated token);
 *  - one 30 s window through the app's pipeline in onnxruntime-node and in Chromium's WASM backend (the real app,
 *    served by the real server): encoder ms, prefill ms, decode tokens/s, and the browser/Node ratio;
 *  - this machine's memory bandwidth (a large copy) and the decode bound it implies: every decode step streams the
 *    decoder's weights once, so tokens/s <= bandwidth / decoder bytes.
 */
import { TEST_DIST } from '../e2e/helpers/dist.ts';
import { chromium } from '@playwright/test';
import { build } from 'vite';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
import { directorySource } from '../server/model-source.ts';
import { start } from '../server/server.ts';
import type { ModelManifest, Variant } from '../src/core/asr/contract.ts';
import { createNodeRuntime } from '../server/ort/node.ts';
import { GlmAsrPipeline } from '../src/core/asr/pipeline.ts';
import { encodeWavFloat32 } from '../src/core/dsp/wav.ts';
import { ARTIFACTS } from '../tests/helpers/data.ts';
import {
  copyBandwidth,
  decoderNodes,
  FULL_MODEL,
  fullModelManifest,
  REFERENCE_MODEL,
  ROOT,
  speech,
  table,
} from './common.ts';

/**
 * A q8 build of the same checkpoint (`npm run model:full-random -- --variants q8 --out …/full-random-q8`) or the
 * full model itself when it has q8: the WASM backend's variant (MatMulInteger runs on WASM SIMD's int8 GEMM, where
 * MatMulNBits dequantizes its whole weight to float32 on every call).
 */
const Q8_MODEL = resolve(process.env['GLMASR_BENCH_Q8'] ?? resolve(homedir(), '.cache/glm-asr-web/full-random-q8'));

const VARIANT = (process.env['GLMASR_BENCH_VARIANT'] ?? 'q4') as Variant;
const TOKENS = Number(process.env['GLMASR_BENCH_TOKENS'] ?? 24);

interface Timing {
  encoderMs: number;
  prefillMs: number;
  decodeMs: number;
  tokens: number;
}
const tokPerSec = (t: Timing) => ((t.tokens - 1) * 1000) / t.decodeMs;

/** 30 s of real speech as a WAV file under build/bench. */
function speech30Wav(): string {
  const dir = resolve(ROOT, 'build/bench');
  mkdirSync(dir, { recursive: true });
  const wav = resolve(dir, 'speech-30s.wav');
  writeFileSync(wav, encodeWavFloat32(speech(30).samples, 16_000));
  return wav;
}

async function nodeRun(model: string, pcm: Float32Array, variant = VARIANT): Promise<Timing & { loadMs: number }> {
  const t0 = performance.now();
  const pipeline = await GlmAsrPipeline.load(createNodeRuntime(), directorySource(model), variant);
  const loadMs = performance.now() - t0;
  try {
    const r = await pipeline.transcribe(pcm, { maxNewTokens: TOKENS, repetitionGuard: false });
    const w = r.windows[0]!;
    return { loadMs, encoderMs: w.encoderMs, prefillMs: w.prefillMs, decodeMs: w.decodeMs, tokens: w.tokenIds.length };
  } finally {
    await pipeline.release();
  }
}

async function browserRun(
  model: string,
  variant: Variant,
  wav: string,
  dist = TEST_DIST,
  tokens = TOKENS,
): Promise<Timing & { loadMs: number; ids: number[] }> {
  const server = await start({ port: 4391, host: '127.0.0.1', dist, models: dirname(model) });
  const browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'), '--js-flags=--max-old-space-size=8192'],
  });
  try {
    const page = await browser.newPage();
    const t0 = performance.now();
    await page.goto(
      `http://127.0.0.1:4391/?model=/models/${basename(model)}/&variant=${variant}&engine=wasm&storage=memory&maxNewTokens=${tokens}`,
    );
    const backendLine = page.getByTestId('engine');
    const error = page.locator('[role=alert]');
    await Promise.race([backendLine.waitFor({ timeout: 1_800_000 }), error.first().waitFor({ timeout: 1_800_000 })]);
    if (await error.count())
      throw new Error(`the browser could not load the model: ${await error.first().innerText()}`);
    const loadMs = performance.now() - t0;
    await page.getByTestId('file-input').setInputFiles(wav);
    await Promise.race([
      page.getByTestId('transcript').waitFor({ timeout: 1_800_000 }),
      error.first().waitFor({ timeout: 1_800_000 }),
    ]);
    if (await error.count()) throw new Error(`the browser failed: ${await error.first().innerText()}`);
    // Every window's timings, summed (one window for a 30 s clip).
    await page.locator('[data-testid=windows] li[data-done=true]').first().waitFor({ timeout: 1_800_000 });
    const windows = await page.locator('[data-testid=windows] li').evaluateAll((lis) =>
      lis.map((li) => ({
        t: li.getAttribute('data-timings') ?? '{}',
        ids: li.getAttribute('data-token-ids') ?? '[]',
      })),
    );
    const sum: Timing = { encoderMs: 0, prefillMs: 0, decodeMs: 0, tokens: 0 };
    for (const w of windows) {
      const t = JSON.parse(w.t) as Timing;
      sum.encoderMs += t.encoderMs;
      sum.prefillMs += t.prefillMs;
      sum.decodeMs += t.decodeMs;
      // Each window's first token comes from the prefill (tokPerSec counts tokens - 1 over decodeMs).
      sum.tokens += t.tokens - (sum.tokens ? 1 : 0);
    }
    return { loadMs, ...sum, ids: windows.flatMap((w) => JSON.parse(w.ids) as number[]) };
  } finally {
    await browser.close();
    server.close();
  }
}

interface ModelRuns {
  label: string;
  nodes: number;
  decoderBytes: number;
  node: Timing & { loadMs: number };
  web: (Timing & { loadMs: number }) | string;
}

/** The test build with the WASM backend on the asyncify build (vite.config.ts, GLMASR_WASM_BUILD), built here. */
async function asyncifyDist(): Promise<string> {
  const outDir = resolve(ROOT, 'build/dist-test-wasm-asyncify');
  const before = process.env['GLMASR_WASM_BUILD'];
  process.env['GLMASR_WASM_BUILD'] = 'asyncify';
  try {
    await build({ root: ROOT, mode: 'test', logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  } finally {
    if (before === undefined) delete process.env['GLMASR_WASM_BUILD'];
    else process.env['GLMASR_WASM_BUILD'] = before;
  }
  return outDir;
}

/**
 * The WASM backend on onnxruntime-web's two CPU-capable builds, the same graphs in one run: the plain build the app
 * uses (`onnxruntime-web/wasm`) and the WebGPU bundle's asyncify build it used before (its Asyncify instrumentation
 * may cost time).  The tiny model always (its per-run overhead dominates), the full-size model's q8/q4/q4f16 when
 * present (GLMASR_BENCH_BUILD_TOKENS tokens, default 8).  q4f16 needs GatherBlockQuantized, which only the plain
 * build has.  Same tokens on both builds, or the row says so.
 */
export async function benchWasmBuilds(): Promise<void> {
  console.log(
    '\n== Chromium WASM backend: plain build (onnxruntime-web/wasm) vs asyncify build (onnxruntime-web/webgpu)',
  );
  if (!existsSync(resolve(TEST_DIST, 'index.html'))) {
    console.log('SKIPPED: the test build of the app is missing (npm run build:test).');
    return;
  }
  const asyncify = await asyncifyDist();
  const wav30 = speech30Wav();
  const tiny = resolve(ARTIFACTS, 'models/tiny');
  const { samples } = speech(120);
  mkdirSync(resolve(ROOT, 'build/bench'), { recursive: true });
  const wav120 = resolve(ROOT, 'build/bench/speech-120s.wav');
  writeFileSync(wav120, encodeWavFloat32(samples, 16_000));
  const cases: { label: string; dir: string; variant: Variant; wav: string; tokens: number }[] = [];
  // GLMASR_BENCH_BUILD_MODELS=full and GLMASR_BENCH_BUILDS=plain narrow the section (a quiet minute is rare here).
  const only = (name: string, list: string) => (process.env[name] ?? list).split(',');
  const [models, builds] = [
    only('GLMASR_BENCH_BUILD_MODELS', 'tiny,full'),
    only('GLMASR_BENCH_BUILDS', 'plain,asyncify'),
  ];
  const tinyVariants =
    models.includes('tiny') && existsSync(resolve(tiny, 'manifest.json'))
      ? (['q8', 'q4', 'q4f16', 'fp32'] as const)
      : [];
  for (const v of tinyVariants) cases.push({ label: 'tiny, 120 s', dir: tiny, variant: v, wav: wav120, tokens: 200 });
  if (models.includes('full') && existsSync(resolve(FULL_MODEL, 'manifest.json'))) {
    const manifest = JSON.parse(readFileSync(resolve(FULL_MODEL, 'manifest.json'), 'utf8')) as ModelManifest;
    const tokens = Number(process.env['GLMASR_BENCH_BUILD_TOKENS'] ?? 8);
    for (const v of ['q8', 'q4', 'q4f16'] as const)
      if (manifest.variants[v])
        cases.push({ label: 'full-size, 30 s', dir: FULL_MODEL, variant: v, wav: wav30, tokens });
  } else console.log(`(no full-size model at ${FULL_MODEL}: its rows are left out)`);
  const rows: (string | number)[][] = [
    ['model', 'variant', 'build', 'encoder ms', 'prefill ms', 'decode steps', 'tokens/s', 'plain/asyncify'],
  ];
  for (const c of cases) {
    const runs: Record<string, Awaited<ReturnType<typeof browserRun>> | string> = {};
    for (const [name, dist] of [
      ['plain', TEST_DIST],
      ['asyncify', asyncify],
    ] as const) {
      if (!builds.includes(name)) continue;
      try {
        runs[name] = await browserRun(c.dir, c.variant, c.wav, dist, c.tokens);
      } catch (err) {
        runs[name] = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 100);
      }
    }
    const [p, a] = [runs['plain'] ?? 'not run', runs['asyncify'] ?? 'not run'];
    const ratio =
      typeof p !== 'string' && typeof a !== 'string'
        ? `${(tokPerSec(p) / tokPerSec(a)).toFixed(2)}x` +
          (JSON.stringify(p.ids) === JSON.stringify(a.ids) ? '' : ' (tokens differ)')
        : '';
    for (const [name, t] of [
      ['plain', p],
      ['asyncify', a],
    ] as const) {
      if (!builds.includes(name)) continue;
      rows.push(
        typeof t === 'string'
          ? [c.label, c.variant, name, `failed: ${t}`]
          : [
              c.label,
              c.variant,
              name,
              t.encoderMs.toFixed(0),
              t.prefillMs.toFixed(0),
              t.tokens - 1,
              tokPerSec(t).toFixed(2),
              name === 'plain' ? ratio : '',
            ],
      );
    }
    for (const [name, t] of Object.entries(runs))
      if (typeof t !== 'string')
        console.log(
          `${c.label} ${c.variant} ${name}: encoder ${t.encoderMs.toFixed(0)} ms, prefill ${t.prefillMs.toFixed(0)} ms, ` +
            `${tokPerSec(t).toFixed(2)} tokens/s`,
        );
    console.log(`${c.label} ${c.variant}: plain/asyncify decode ${ratio || 'n/a'}`);
  }
  console.log(table(rows));
}

export async function benchAsr(): Promise<void> {
  await benchWasmBuilds();
  console.log('\n== GLM-ASR, full-size random weights, one 30 s window: op-by-op export vs fused decoder');
  if (!fullModelManifest()) return;
  const models = [
    { label: 'op-by-op export', dir: REFERENCE_MODEL },
    { label: 'fused (genai builder)', dir: FULL_MODEL },
  ].filter((m) => {
    const ok = existsSync(resolve(m.dir, 'manifest.json'));
    if (!ok) console.log(`(no ${m.label} model at ${m.dir}: that row is left out)`);
    return ok;
  });
  const { samples, source } = speech(30);
  const wav = speech30Wav();
  console.log(`variant ${VARIANT}, audio: ${source}, ${TOKENS} generated tokens per run (greedy, no early stop)`);

  const bandwidth = copyBandwidth();
  const runs: ModelRuns[] = [];
  for (const m of models) {
    const manifest = JSON.parse(readFileSync(resolve(m.dir, 'manifest.json'), 'utf8')) as ModelManifest;
    const decoderBytes = manifest.variants[VARIANT]!.graphs.decoder_model_merged.bytes;
    const nodes = decoderNodes(m.dir, VARIANT);
    const node = await nodeRun(m.dir, samples);
    console.log(`${m.label}: node encoder ${node.encoderMs.toFixed(0)} ms, ${tokPerSec(node).toFixed(2)} tokens/s`);
    let web: ModelRuns['web'];
    try {
      web = await browserRun(m.dir, VARIANT, wav);
    } catch (err) {
      web = err instanceof Error ? err.message : String(err);
    }
    runs.push({ label: m.label, nodes, decoderBytes, node, web });
  }
  // The WASM backend's own variant, q8, on the fused build.
  const q8Dir = [FULL_MODEL, Q8_MODEL].find((d) => {
    const file = resolve(d, 'manifest.json');
    return existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as ModelManifest).variants.q8;
  });
  let q8: ModelRuns | null = null;
  if (q8Dir) {
    const manifest = JSON.parse(readFileSync(resolve(q8Dir, 'manifest.json'), 'utf8')) as ModelManifest;
    // The same q8 graphs in onnxruntime-node too: the browser/Node ratio on the graphs WASM runs.
    const node = await nodeRun(q8Dir, samples, 'q8');
    let web: ModelRuns['web'];
    try {
      web = await browserRun(q8Dir, 'q8', wav);
    } catch (err) {
      web = err instanceof Error ? err.message : String(err);
    }
    q8 = {
      label: 'fused, q8',
      nodes: decoderNodes(q8Dir, 'q8'),
      decoderBytes: manifest.variants.q8!.graphs.decoder_model_merged.bytes,
      node,
      web,
    };
  } else console.log(`(no q8 build at ${Q8_MODEL}: the WASM q8 row is left out)`);
  console.log(`memory copy bandwidth ${bandwidth.toFixed(1)} GB/s (read+write)`);
  const rows: (string | number)[][] = [
    ['model', 'decoder nodes', 'backend', 'load s', 'encoder ms', 'prefill ms', 'tokens/s', 'of bound'],
  ];
  // The runs, then WASM's q8 (its own row: the same graphs in Node and in Chromium).
  for (const r of q8 ? [...runs, q8] : runs) {
    const bound = (bandwidth * 1e9) / r.decoderBytes;
    const row = (backend: string, t: ModelRuns['web']) =>
      typeof t === 'string'
        ? [r.label, r.nodes, backend, `failed: ${t}`]
        : [
            r.label,
            r.nodes,
            backend,
            (t.loadMs / 1000).toFixed(1),
            t.encoderMs.toFixed(0),
            t.prefillMs.toFixed(0),
            tokPerSec(t).toFixed(2),
            `${((100 * tokPerSec(t)) / bound).toFixed(0)}% of ${bound.toFixed(1)}`,
          ];
    rows.push(row('onnxruntime-node (CPU)', r.node), row('Chromium WASM', r.web));
  }
  console.log(table(rows));
  const fused = runs.find((r) => r.label.startsWith('fused'));
  if (fused && q8 && typeof q8.web !== 'string') {
    const wasm = q8.web;
    console.log(
      `WASM's variant (q8, fused) vs onnxruntime-node (${VARIANT}, fused): decode ${(tokPerSec(wasm) / tokPerSec(fused.node)).toFixed(2)}x the speed, ` +
        `encoder ${(wasm.encoderMs / fused.node.encoderMs).toFixed(2)}x the time` +
        (typeof fused.web !== 'string'
          ? `; q8 vs ${VARIANT} on WASM: decode ${(tokPerSec(wasm) / tokPerSec(fused.web)).toFixed(2)}x`
          : ''),
    );
  }
  if (q8 && typeof q8.web !== 'string')
    console.log(
      `q8 (the graphs WASM runs): browser/node encoder ${(q8.web.encoderMs / q8.node.encoderMs).toFixed(2)}x the time, ` +
        `decode ${(tokPerSec(q8.web) / tokPerSec(q8.node)).toFixed(2)}x the speed (npm run bench -- cpu profiles one step of both)`,
    );
  for (const r of runs) {
    if (typeof r.web !== 'string')
      console.log(
        `${r.label}: browser/node encoder ${(r.web.encoderMs / r.node.encoderMs).toFixed(2)}x the time, ` +
          `decode ${(tokPerSec(r.web) / tokPerSec(r.node)).toFixed(2)}x the speed`,
      );
  }
  if (runs.length === 2) {
    const [a, b] = runs as [ModelRuns, ModelRuns];
    const web = typeof a.web !== 'string' && typeof b.web !== 'string' ? [a.web, b.web] : null;
    console.log(
      `fused vs op-by-op: ${a.nodes} -> ${b.nodes} decoder nodes; node decode ${(tokPerSec(b.node) / tokPerSec(a.node)).toFixed(2)}x, ` +
        `prefill ${(a.node.prefillMs / b.node.prefillMs).toFixed(2)}x faster` +
        (web ? `; WASM decode ${(tokPerSec(web[1]!) / tokPerSec(web[0]!)).toFixed(2)}x` : ''),
    );
  }
}
