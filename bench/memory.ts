/**
 * `npm run bench -- memory [--json]`: what the app holds in memory, as iOS would count it, through a model's whole
 * life in Chromium: download, load, encode, decode, release.  The measure is bench/memory-meter.ts's: the renderer
 * processes above their idle level (JS + WASM heaps) plus the live GPU buffers of the ASR worker (a ledger of
 * createBuffer/destroy injected before the worker's code); SwiftShader's own copies in the GPU process are not counted.
 *
 * Rows: the full-size random-weight model (`npm run model:full-random`), variants q4f16 and q4, on WebGPU
 * (SwiftShader) and WASM, mode "both" (encoder and decoder resident together) and "one-graph" (the test-build URL
 * knob `graphs=one`: one graph at a time; a build without the knob runs "both" and the row says what the app
 * did), visit "first" (empty IndexedDB: download and load in one go) then "stored" (the same browser profile).  Each
 * visit opens the app, waits for the model, transcribes a 2-window file (jfk.wav four times, 44 s) with a token cap
 * (random weights never stop on their own), then releases the model.  The GPU warm-up's time limit is lifted
 * (`warmUpTimeoutMs`): SwiftShader on a busy 2-core machine took longer than the app's 120 s, and the app then fell
 * back to WASM (measured: webgpu/q4f16 ran on WASM).  On SwiftShader, which lacks shader-f16, the
 * app plans q4f16's float32 twin: the row reports the variant that ran (`ranVariant`).
 *
 *   GLMASR_BENCH_MEMORY_ROWS   rows to run, comma-separated `engine/variant/mode` (e.g. `wasm/q4/both`); default all
 *   GLMASR_BENCH_MEMORY_VISITS `first,stored` (default) or one of them (`stored` alone: a visit to fill the store
 *                              runs first, unmeasured)
 *   GLMASR_BENCH_MEMORY_TOKENS tokens per window (default 8)
 *   GLMASR_BENCH_MEMORY_PORT   the app server's port (default 4473)
 *   GLMASR_BENCH_MEMORY_SERIES a directory: every sample of each row as TSV (seconds, phase, renderer MB, GPU-buffer
 *                              MB, the GPU process's RSS, which is not part of the measure, and the ASR worker's
 *                              WebAssembly heap size)
 *
 * With `--json`, one JSON object per row on its own line:
 *   {"engine", "variant", "mode", "visit", "peakBytes", "modelBytes", "phases": {phase: {peakBytes, rendererBytes,
 *    gpuBytes, ms, samples}}, "peakPhase", "ranVariant", "ranMode", "loadMs", "transcribeMs", "gpuLeftBytes",
 *    "gpuPeakByUsage" (the ledger's live bytes by buffer usage at its peak), "gpuCollectedBytes"}
 * otherwise a table, and for a row whose peak is mostly the renderer, the phase where to take a heap profile.
 */
import { TEST_DIST } from '../e2e/helpers/dist.ts';
import { chromium, type BrowserContext, type Locator, type Worker } from '@playwright/test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { clipWav } from '../e2e/helpers/reference.ts';
import { injectIntoWorkers } from '../e2e/helpers/worker-inject.ts';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
import { start } from '../server/server.ts';
import type { Variant } from '../src/core/asr/contract.ts';
import { FULL_MODEL, fullModelManifest, table } from './common.ts';
import {
  APP_PHASE_SCRIPT,
  browserPid,
  GPU_LEDGER_SCRIPT,
  MemoryMeter,
  PHASES,
  readLedger,
  type MeterReport,
  type PhasePeak,
} from './memory-meter.ts';

const PORT = Number(process.env['GLMASR_BENCH_MEMORY_PORT'] ?? 4473);
const TOKENS = Number(process.env['GLMASR_BENCH_MEMORY_TOKENS'] ?? 8);
const JSON_OUT = process.argv.includes('--json');
const HOUR = 3_600_000;

type Engine = 'webgpu' | 'wasm';
type Mode = 'both' | 'one-graph';
type Visit = 'first' | 'stored';

export interface MemoryRow {
  engine: Engine;
  variant: string;
  mode: Mode;
  visit: Visit;
  peakBytes: number;
  modelBytes: number;
  phases: MeterReport['phases'];
  peakPhase: string | null;
  /** The variant the app ran (SwiftShader has no shader-f16: q4f16 plans its float32 twin there). */
  ranVariant: string;
  /** Whether the job said one-graph phases (the knob is honoured) or not. */
  ranMode: Mode;
  loadMs: number;
  transcribeMs: number;
  /** GPU buffer bytes still live after the release. */
  gpuLeftBytes: number;
  /** The worker's live GPU bytes by buffer usage at the ledger's peak (staging buffers are "MAP_WRITE|COPY_SRC"). */
  gpuPeakByUsage: Record<string, number>;
  /** Bytes of GPU buffers the collector reclaimed without `destroy()`. */
  gpuCollectedBytes: number;
  error?: string;
}

const log = (...args: unknown[]) => (JSON_OUT ? console.error(...args) : console.log(...args));
const mb = (b: number) => (b / 1e6).toFixed(0);

/** What an alert says (its text, else its markup). */
async function alertText(alert: Locator): Promise<string> {
  const first = alert.first();
  return ((await first.textContent())?.trim() || (await first.evaluate((e) => e.outerHTML))).replace(/\s+/g, ' ');
}

/** The ASR worker among the page's workers (onnxruntime's WASM threads are workers too). */
const asrWorker = (workers: Worker[]) => workers.find((w) => w.url().includes('asr.worker'));

async function visit(
  browserPid: number,
  context: BrowserContext,
  engine: Engine,
  variant: string,
  mode: Mode,
  audio: string,
): Promise<Omit<MemoryRow, 'engine' | 'variant' | 'mode' | 'visit' | 'modelBytes'>> {
  const page = await context.newPage();
  await injectIntoWorkers(page, GPU_LEDGER_SCRIPT);
  await page.addInitScript(APP_PHASE_SCRIPT);
  const meter = new MemoryMeter(browserPid, asrWorker);
  await page.goto('about:blank');
  await new Promise((ok) => setTimeout(ok, 3000));
  meter.idle();
  meter.start(page);
  let error: string | undefined;
  let loadMs = 0;
  let transcribeMs = 0;
  let ranVariant = '';
  let ranMode: Mode = 'both';
  try {
    const t0 = performance.now();
    const graphs = mode === 'one-graph' ? '&graphs=one' : '';
    await page.goto(
      `http://127.0.0.1:${PORT}/?model=/models/${basename(FULL_MODEL)}/&variant=${variant}&engine=${engine}` +
        `&maxNewTokens=${TOKENS}&warmUpTimeoutMs=${HOUR}${graphs}`,
    );
    const line = page.getByTestId('engine');
    const alert = page.locator('model-setup [role=alert], [data-testid=job] [role=alert]');
    await Promise.race([line.waitFor({ timeout: HOUR }), alert.first().waitFor({ timeout: HOUR })]);
    if (await alert.count()) throw new Error(`load: ${await alertText(alert)}`);
    loadMs = performance.now() - t0;
    ranVariant = (await line.getAttribute('data-variant')) ?? '';
    const provider = await line.getAttribute('data-provider');
    if (provider !== engine)
      throw new Error(`the app chose ${provider}, not ${engine}: ${(await line.textContent())?.replace(/\s+/g, ' ')}`);

    const t1 = performance.now();
    await page.getByTestId('file-input').setInputFiles(audio);
    const done = page.getByTestId('transcript');
    await Promise.race([done.waitFor({ timeout: HOUR }), alert.first().waitFor({ timeout: HOUR })]);
    if (await alert.count()) throw new Error(`transcribe: ${await alertText(alert)}`);
    transcribeMs = performance.now() - t1;

    meter.force('release');
    // The app's own release (WorkerClient.releaseModel: the worker's model-release call).
    await page.evaluate(() => {
      type App = { client: { releaseModel(): Promise<void> } };
      const doc = (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document;
      return (doc.querySelector('asr-app') as App).client.releaseModel();
    });
    await new Promise((ok) => setTimeout(ok, 2000));
  } catch (err) {
    error = err instanceof Error ? err.message.split('\n')[0] : String(err);
  }
  const report = await meter.stop();
  const seriesDir = process.env['GLMASR_BENCH_MEMORY_SERIES'];
  if (seriesDir) {
    mkdirSync(seriesDir, { recursive: true });
    const file = resolve(seriesDir, `${engine}-${variant}-${mode}-${Date.now()}.tsv`);
    const lines = meter.series.map((x) =>
      [x.s.toFixed(1), x.phase, mb(x.rendererBytes), mb(x.gpuBytes), mb(x.gpuProcessBytes), mb(x.wasmBytes)].join('\t'),
    );
    writeFileSync(
      file,
      ['s\tphase\trenderer_MB\tgpu_buffers_MB\tgpu_process_MB\twasm_heap_MB', ...lines].join('\n') + '\n',
    );
    log(`  samples: ${file}`);
  }
  const worker = asrWorker(page.workers());
  const ledger = worker ? await readLedger(worker).catch(() => null) : null;
  if (report.phases.swap) ranMode = 'one-graph';
  await page.close();
  return {
    peakBytes: report.peakBytes,
    phases: report.phases,
    peakPhase: report.peakPhase,
    ranVariant,
    ranMode,
    loadMs,
    transcribeMs,
    gpuLeftBytes: ledger?.live ?? 0,
    gpuPeakByUsage: ledger?.peakByUsage ?? {},
    gpuCollectedBytes: ledger?.collectedBytes ?? 0,
    ...(error ? { error } : {}),
  };
}

function wanted(): { engine: Engine; variant: string; mode: Mode }[] {
  const all = (['webgpu', 'wasm'] as const).flatMap((engine) =>
    ['q4f16', 'q4'].flatMap((variant) => (['both', 'one-graph'] as const).map((mode) => ({ engine, variant, mode }))),
  );
  const only = process.env['GLMASR_BENCH_MEMORY_ROWS'];
  if (!only) return all;
  const names = only.split(',').map((s) => s.trim());
  return all.filter((r) => names.includes(`${r.engine}/${r.variant}/${r.mode}`));
}

function phaseCell(p: PhasePeak | undefined): string {
  return p ? `${mb(p.peakBytes)} (${mb(p.rendererBytes)}+${mb(p.gpuBytes)})` : '';
}

export async function benchMemory(): Promise<void> {
  log('\n== Memory as iOS counts it: renderer above idle + live GPU buffers (full-size random weights, Chromium)');
  const manifest = fullModelManifest();
  if (!manifest) return;
  let audio: string;
  try {
    audio = clipWav('memory-jfk-x4', ['en/jfk.wav', 'en/jfk.wav', 'en/jfk.wav', 'en/jfk.wav']);
  } catch (err) {
    log(`SKIPPED: no 2-window file (${err instanceof Error ? err.message : String(err)})`);
    return;
  }
  const visits = (process.env['GLMASR_BENCH_MEMORY_VISITS'] ?? 'first,stored').split(',') as Visit[];
  const server = await start({ port: PORT, host: '127.0.0.1', dist: TEST_DIST, models: dirname(FULL_MODEL) });
  const rows: MemoryRow[] = [];
  try {
    for (const { engine, variant, mode } of wanted()) {
      const modelBytes = manifest.variants[variant as Variant]?.bytes ?? 0;
      // A fresh profile on disk per engine/variant/mode: the first visit finds IndexedDB empty.  Not a context of
      // browser.newContext(): an off-the-record profile keeps IndexedDB in memory, with a quota under the model's size.
      const profile = mkdtempSync(resolve(tmpdir(), 'glmasr-bench-memory-'));
      const context = await chromium.launchPersistentContext(profile, {
        executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
        args: [...CHROMIUM_ARGS, '--js-flags=--max-old-space-size=8192'],
        serviceWorkers: 'block',
      });
      try {
        const pid = browserPid(profile);
        if (!visits.includes('first')) {
          log(`${engine}/${variant}/${mode}: filling the store (unmeasured)`);
          await visit(pid, context, engine, variant, mode, audio);
        }
        for (const v of visits) {
          log(`${engine}/${variant}/${mode}/${v}…`);
          const r = await visit(pid, context, engine, variant, mode, audio);
          const row: MemoryRow = { engine, variant, mode, visit: v, modelBytes, ...r };
          rows.push(row);
          if (JSON_OUT) console.log(JSON.stringify(row));
          else
            log(
              `  peak ${mb(row.peakBytes)} MB (${(row.peakBytes / modelBytes).toFixed(2)}x model) in ${row.peakPhase}; ` +
                `ran ${row.ranVariant} ${row.ranMode}; load ${(row.loadMs / 1000).toFixed(0)} s, ` +
                `transcribe ${(row.transcribeMs / 1000).toFixed(0)} s${row.error ? `; ERROR ${row.error}` : ''}`,
            );
        }
      } finally {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      }
    }
  } finally {
    server.close();
  }
  if (JSON_OUT || !rows.length) return;
  const used = PHASES.filter((p) => rows.some((r) => r.phases[p]));
  console.log(
    `model bytes: ${Object.entries(manifest.variants)
      .map(([v, m]) => `${v} ${mb(m.bytes)} MB`)
      .join(', ')}; cells: MB peak (renderer above idle + GPU buffers) of the phase`,
  );
  console.log(
    table([
      [
        'engine',
        'variant (ran)',
        'mode (ran)',
        'visit',
        'peak MB',
        'peak/model',
        ...used,
        'GPU left MB',
        'transcribe s',
      ],
      ...rows.map((r) => [
        r.engine,
        `${r.variant} (${r.ranVariant || '-'})`,
        `${r.mode} (${r.ranMode})`,
        r.visit,
        mb(r.peakBytes),
        (r.peakBytes / r.modelBytes).toFixed(2),
        ...used.map((p) => phaseCell(r.phases[p])),
        mb(r.gpuLeftBytes),
        (r.transcribeMs / 1000).toFixed(0),
      ]),
    ]),
  );
  for (const r of rows) {
    const at = r.peakPhase ? r.phases[r.peakPhase as keyof MemoryRow['phases']] : undefined;
    if (at && at.rendererBytes > at.gpuBytes)
      console.log(
        `heap profile: ${r.engine}/${r.variant}/${r.mode}/${r.visit}: the renderer holds most of the peak ` +
          `(${mb(at.rendererBytes)} of ${mb(at.peakBytes)} MB) during "${r.peakPhase}": profile that phase ` +
          '(DevTools memory panel on the ASR worker, or HeapProfiler.takeHeapSnapshot then).',
      );
    const usage = Object.entries(r.gpuPeakByUsage).filter(([, b]) => b > 0);
    if (usage.length)
      console.log(
        `GPU buffers at the ledger's peak, ${r.engine}/${r.variant}/${r.mode}/${r.visit}: ` +
          usage.map(([u, b]) => `${u} ${mb(b)} MB`).join(', ') +
          `; collected without destroy(): ${mb(r.gpuCollectedBytes)} MB`,
      );
    if (r.error) console.log(`error: ${r.engine}/${r.variant}/${r.mode}/${r.visit}: ${r.error}`);
  }
}
