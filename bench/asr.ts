/**
 * GLM-ASR speed on the full-size random-weight model (npm run model:full-random), side by side in one run:
 *  - one 30 s window through the app's pipeline in onnxruntime-node and in Chromium's WASM provider (the real app,
 *    served by the real server): encoder ms, prefill ms, decode tokens/s, and the browser/Node ratio;
 *  - this machine's memory bandwidth (a large copy) and the decode bound it implies: every decode step streams the
 *    decoder's weights once, so tokens/s <= bandwidth / decoder bytes.
 */
import { chromium } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
import { directorySource } from '../server/model-source.ts';
import { start } from '../server/server.ts';
import { createNodeRuntime } from '../workers/asr/ort/node.ts';
import { GlmAsrPipeline } from '../workers/asr/pipeline.ts';
import { encodeWavFloat32 } from '../workers/dsp/wav.ts';
import { FULL_MODEL, fullModelManifest, ROOT, speech, table } from './common.ts';

const MODEL = FULL_MODEL;
const VARIANT = (process.env['GLMASR_BENCH_VARIANT'] ?? 'q4') as 'q4';
const TOKENS = Number(process.env['GLMASR_BENCH_TOKENS'] ?? 24);

interface Timing {
  encoderMs: number;
  prefillMs: number;
  decodeMs: number;
  tokens: number;
}
const tokPerSec = (t: Timing) => ((t.tokens - 1) * 1000) / t.decodeMs;

/** Copy bandwidth in GB/s (bytes read + bytes written per second), best of 5 over a 512 MiB buffer. */
function copyBandwidth(): number {
  const n = 512 * 1024 * 1024;
  const a = new Uint8Array(n).fill(1);
  const b = new Uint8Array(n);
  let best = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    b.set(a);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, (2 * n) / s / 1e9);
  }
  return best;
}

async function nodeRun(pcm: Float32Array): Promise<Timing & { loadMs: number }> {
  const t0 = performance.now();
  const pipeline = await GlmAsrPipeline.load(createNodeRuntime(), directorySource(MODEL), VARIANT);
  const loadMs = performance.now() - t0;
  try {
    const r = await pipeline.transcribe(pcm, { maxNewTokens: TOKENS, repetitionGuard: false });
    const w = r.windows[0]!;
    return { loadMs, encoderMs: w.encoderMs, prefillMs: w.prefillMs, decodeMs: w.decodeMs, tokens: w.tokenIds.length };
  } finally {
    await pipeline.release();
  }
}

async function browserRun(wav: string): Promise<Timing & { loadMs: number }> {
  const server = await start({ port: 4391, host: '127.0.0.1', dist: resolve(ROOT, 'dist'), models: dirname(MODEL) });
  const browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'), '--js-flags=--max-old-space-size=8192'],
  });
  try {
    const page = await browser.newPage();
    const t0 = performance.now();
    await page.goto(
      `http://127.0.0.1:4391/?model=/models/${basename(MODEL)}/&variant=${VARIANT}&engine=wasm&storage=memory&maxNewTokens=${TOKENS}`,
    );
    const engine = page.getByTestId('engine');
    const error = page.locator('[role=alert]');
    await Promise.race([engine.waitFor({ timeout: 1_800_000 }), error.first().waitFor({ timeout: 1_800_000 })]);
    if (await error.count())
      throw new Error(`the browser could not load the model: ${await error.first().innerText()}`);
    const loadMs = performance.now() - t0;
    await page.getByTestId('file-input').setInputFiles(wav);
    await Promise.race([
      page.getByTestId('transcript').waitFor({ timeout: 1_800_000 }),
      error.first().waitFor({ timeout: 1_800_000 }),
    ]);
    if (await error.count()) throw new Error(`the browser failed: ${await error.first().innerText()}`);
    const timings = JSON.parse(
      (await page.locator('li[data-window="0"]').getAttribute('data-timings')) ?? '{}',
    ) as Timing;
    return { loadMs, ...timings };
  } finally {
    await browser.close();
    server.close();
  }
}

export async function benchAsr(): Promise<void> {
  console.log('\n== GLM-ASR, full-size random weights, one 30 s window');
  const manifest = fullModelManifest();
  if (!manifest) return;
  const decoderBytes = manifest.variants[VARIANT]!.graphs.decoder_model_merged.bytes;
  const { samples, source } = speech(30);
  const dir = resolve(ROOT, 'build/bench');
  mkdirSync(dir, { recursive: true });
  const wav = resolve(dir, 'speech-30s.wav');
  writeFileSync(wav, encodeWavFloat32(samples, 16_000));
  console.log(`model ${MODEL} (${VARIANT}, decoder ${(decoderBytes / 1e9).toFixed(2)} GB), audio: ${source}`);
  console.log(`${TOKENS} generated tokens per run (greedy, no early stop)`);

  const bandwidth = copyBandwidth();
  const node = await nodeRun(samples);
  console.log(`node done: encoder ${node.encoderMs.toFixed(0)} ms, ${tokPerSec(node).toFixed(2)} tokens/s`);
  let web: (Timing & { loadMs: number }) | null = null;
  let webError = '';
  try {
    web = await browserRun(wav);
  } catch (err) {
    webError = err instanceof Error ? err.message : String(err);
  }
  const bound = (bandwidth * 1e9) / decoderBytes;
  const row = (name: string, t: (Timing & { loadMs: number }) | null): (string | number)[] =>
    t
      ? [
          name,
          (t.loadMs / 1000).toFixed(1),
          t.encoderMs.toFixed(0),
          t.prefillMs.toFixed(0),
          tokPerSec(t).toFixed(2),
          `${((100 * tokPerSec(t)) / bound).toFixed(0)}%`,
        ]
      : [name, `failed: ${webError}`];
  console.log(
    `memory copy bandwidth ${bandwidth.toFixed(1)} GB/s (read+write) -> decode bound ${bound.toFixed(2)} tokens/s`,
  );
  console.log(
    table([
      ['engine', 'load s', 'encoder ms', 'prefill ms', 'tokens/s', 'of bound'],
      row('onnxruntime-node (CPU)', node),
      row('Chromium WASM', web),
    ]),
  );
  if (web) {
    console.log(
      `ratio browser/node: encoder ${(web.encoderMs / node.encoderMs).toFixed(2)}x the time, decode ${(tokPerSec(web) / tokPerSec(node)).toFixed(2)}x the speed`,
    );
  }
}
