/**
 * The engines an eval runs a variant on, each the product's own path:
 *  - node: src/core/asr/pipeline.ts on onnxruntime-node (the server's and the CLI's engine);
 *  - wasm: the built app in Debian's Chromium with `engine=wasm`, each clip opened as a file through the UI (what a
 *    user without WebGPU gets); the tokens are read from the page;
 *  - server: any OpenAI-compatible `/v1/audio/transcriptions` (`verbose_json`; token ids when the server reports them,
 *    as ours does).
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, resolve } from 'node:path';
import type { Browser, Page } from '@playwright/test';
import { isVariant, type ModelManifest, type Variant } from '../src/core/asr/contract.ts';
import { cpuEncoderVariant } from '../src/core/asr/encoder-variant.ts';
import { hasInt8DotProduct } from '../server/cpu-features.ts';
import type { TranscriptionVerbose } from '../src/core/remote/openai-api.ts';
import { createNodeRuntime } from '../server/ort/node.ts';
import { GlmAsrPipeline } from '../src/core/asr/pipeline.ts';
import { decodeAudioFile } from '../server/audio-file.ts';
import { directorySource } from '../server/model-source.ts';
import { start, type AppServer } from '../server/server.ts';
import type { ClipOutput, EngineName } from './types.ts';

export interface EngineOptions {
  /** Converted model directory (node, wasm). */
  model?: string;
  variant: string;
  /** Per-window token cap (default: the pipeline's). */
  maxNewTokens?: number;
  /** node only (the CLI refuses it with other engines): turn off the repetition guard, to compare with greedy
   * references such as the converter's goldens. */
  repetitionGuard: boolean;
  /** node: onnxruntime intra-op threads (0 = one per core). */
  threads: number;
  /** server: API root including /v1, and the model name to ask for. */
  serverUrl?: string;
  serverModel?: string;
  apiKey?: string;
  /** The repository root (build/dist-test for the wasm engine). */
  root: string;
}

export interface EvalEngine {
  readonly name: EngineName;
  /** What the report says ran: e.g. 'onnxruntime-node (CPU, 2 threads)'. */
  readonly label: string;
  transcribe(path: string): Promise<ClipOutput>;
  close(): Promise<void>;
}

export class EvalSetupError extends Error {
  override name = 'EvalSetupError';
}

function variantOf(options: EngineOptions): Variant {
  if (!isVariant(options.variant)) throw new EvalSetupError(`unknown variant ${options.variant}`);
  return options.variant;
}

export async function openEngine(name: EngineName, options: EngineOptions): Promise<EvalEngine> {
  if (name === 'node') return NodeEngine.open(options);
  if (name === 'wasm') return WasmEngine.open(options);
  return ServerEngine.open(options);
}

class NodeEngine implements EvalEngine {
  readonly name = 'node';
  private constructor(
    private readonly pipeline: GlmAsrPipeline,
    private readonly options: EngineOptions,
    readonly label: string,
  ) {}

  static async open(options: EngineOptions): Promise<NodeEngine> {
    if (!options.model) throw new EvalSetupError('--engine node needs --model');
    const source = directorySource(options.model);
    const variant = variantOf(options);
    const manifest = JSON.parse(await source.text('manifest.json')) as ModelManifest;
    const pipeline = await GlmAsrPipeline.load(createNodeRuntime(options.threads), source, variant, {
      manifest,
      // As the server runs it (encoder-variant.ts).
      encoderVariant: cpuEncoderVariant(manifest, variant, hasInt8DotProduct()),
    });
    const threads =
      options.threads > 0 ? `${options.threads} thread${options.threads === 1 ? '' : 's'}` : 'a thread per core';
    return new NodeEngine(pipeline, options, `onnxruntime-node (CPU, ${threads})`);
  }

  async transcribe(path: string): Promise<ClipOutput> {
    const pcm = await decodeAudioFile(readAudio(path), basename(path));
    const t0 = performance.now();
    const r = await this.pipeline.transcribe(pcm, {
      ...(this.options.maxNewTokens ? { maxNewTokens: this.options.maxNewTokens } : {}),
      repetitionGuard: this.options.repetitionGuard,
    });
    const windows = r.windows.map((w) => w.tokenIds);
    return {
      text: r.text,
      windows,
      audioSec: r.audioSec,
      ms: performance.now() - t0,
      tokens: windows.reduce((n, w) => n + w.length, 0),
    };
  }

  close(): Promise<void> {
    return this.pipeline.release();
  }
}

const PAGE_TIMEOUT_MS = 30 * 60_000;

class WasmEngine implements EvalEngine {
  readonly name = 'wasm';
  readonly label = "Chromium's WASM (the app, one tab)";
  private count = 0;
  private readonly scratch = mkdtempSync(resolve(tmpdir(), 'glmasr-eval-'));

  private constructor(
    private readonly server: AppServer,
    private readonly browser: Browser,
    private readonly page: Page,
  ) {}

  static async open(options: EngineOptions): Promise<WasmEngine> {
    if (!options.model) throw new EvalSetupError('--engine wasm needs --model');
    // The test build: the only one that honours the link's storage=memory and maxNewTokens (src/app/knobs.ts).
    const dist = resolve(options.root, 'build/dist-test');
    if (!existsSync(resolve(dist, 'index.html')))
      throw new EvalSetupError(`--engine wasm serves the built app from ${dist}: run npm run build:test first`);
    const model = resolve(options.model);
    const server = await start({ port: 0, host: '127.0.0.1', dist, models: dirname(model), quiet: true });
    const { chromium } = await import('@playwright/test');
    const { CHROMIUM_ARGS } = await import('../playwright.config.ts');
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
        args: CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'),
      });
      const page = await browser.newPage();
      const cap = options.maxNewTokens ? `&maxNewTokens=${options.maxNewTokens}` : '';
      await page.goto(
        `${server.url}/?model=/models/${encodeURIComponent(basename(model))}/&variant=${variantOf(options)}&engine=wasm&storage=memory${cap}`,
      );
      const alert = page.locator('[role=alert]');
      await Promise.race([
        page.getByTestId('engine').waitFor({ timeout: PAGE_TIMEOUT_MS }),
        alert.first().waitFor({ timeout: PAGE_TIMEOUT_MS }),
      ]);
      if (await alert.count())
        throw new EvalSetupError(`the app could not load the model: ${await alert.first().innerText()}`);
      return new WasmEngine(server, browser, page);
    } catch (err) {
      await browser?.close();
      server.close();
      throw err;
    }
  }

  async transcribe(path: string): Promise<ClipOutput> {
    // A name of its own per clip, so the job on screen is known to be this clip's.
    const name = `clip-${++this.count}${extname(path) || '.wav'}`;
    const copy = resolve(this.scratch, name);
    copyFileSync(path, copy);
    const page = this.page;
    await page.getByTestId('file-input').setInputFiles(copy);
    const job = page.getByTestId('job');
    const label = job.locator('strong');
    const alert = page.locator('[role=alert]');
    const done = job.getByTestId('job-done');
    await Promise.race([
      (async () => {
        await label.filter({ hasText: name }).waitFor({ timeout: PAGE_TIMEOUT_MS });
        await done.waitFor({ timeout: PAGE_TIMEOUT_MS });
      })(),
      alert.first().waitFor({ timeout: PAGE_TIMEOUT_MS }),
    ]);
    rmSync(copy, { force: true });
    if (await alert.count()) {
      const message = await alert.first().innerText();
      throw new EvalSetupError(message.replace(/\s+/g, ' ').trim());
    }
    const items = job.locator('[data-testid=windows] > li');
    const windows: number[][] = [];
    let ms = 0;
    for (let i = 0; i < (await items.count()); i++) {
      const li = items.nth(i);
      windows.push(JSON.parse((await li.getAttribute('data-token-ids')) || '[]') as number[]);
      const t = JSON.parse((await li.getAttribute('data-timings')) || '{}') as Record<string, number>;
      ms += (t['encoderMs'] ?? 0) + (t['prefillMs'] ?? 0) + (t['decodeMs'] ?? 0);
    }
    const text = (await job.getByTestId('transcript').textContent()) ?? '';
    const audio = /of ([\d:.]+) of audio/.exec((await done.textContent()) ?? '');
    return {
      text: text.trim(),
      windows,
      audioSec: audio ? parseClock(audio[1]!) : NaN,
      ms,
      tokens: windows.reduce((n, w) => n + w.length, 0),
    };
  }

  async close(): Promise<void> {
    await this.browser.close();
    this.server.close();
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

/** '1:02.5' or '12.3' (the app's formatDuration) -> seconds. */
function parseClock(s: string): number {
  return s.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
}

class ServerEngine implements EvalEngine {
  readonly name = 'server';
  private constructor(
    private readonly base: string,
    private readonly model: string,
    private readonly options: EngineOptions,
    readonly label: string,
  ) {}

  static async open(options: EngineOptions): Promise<ServerEngine> {
    if (!options.serverUrl)
      throw new EvalSetupError('--engine server needs its URL: --engine server http://host:port/v1');
    const base = options.serverUrl.replace(/\/+$/, '');
    const model =
      options.serverModel ?? (options.model ? `${basename(resolve(options.model))}@${options.variant}` : undefined);
    if (!model) throw new EvalSetupError('--engine server needs --server-model NAME (or --model DIR to name it)');
    let res: Response;
    try {
      res = await fetch(`${base}/models`, { headers: headers(options) });
    } catch (err) {
      throw new EvalSetupError(`cannot reach ${base}/models (${(err as Error).message})`);
    }
    if (!res.ok) throw new EvalSetupError(`${base}/models answered ${res.status} ${res.statusText}`);
    return new ServerEngine(base, model, options, `${base} (model ${model})`);
  }

  async transcribe(path: string): Promise<ClipOutput> {
    const bytes = readAudio(path);
    const form = new FormData();
    form.append('file', new Blob([bytes]), basename(path));
    form.append('model', this.model);
    form.append('response_format', 'verbose_json');
    if (this.options.maxNewTokens) form.append('max_new_tokens', String(this.options.maxNewTokens));
    const t0 = performance.now();
    const res = await fetch(`${this.base}/audio/transcriptions`, {
      method: 'POST',
      body: form,
      headers: headers(this.options),
    });
    const body = await res.text();
    const ms = performance.now() - t0;
    if (!res.ok) {
      let message = body.slice(0, 300);
      try {
        message = (JSON.parse(body) as { error: { message: string } }).error.message;
      } catch {
        // not OpenAI's error shape: the raw body
      }
      throw new EvalSetupError(`the server answered ${res.status}: ${message}`);
    }
    const r = JSON.parse(body) as Partial<TranscriptionVerbose>;
    const segments = r.segments ?? [];
    const haveTokens = segments.length > 0 && segments.every((s) => Array.isArray(s.tokens));
    const windows = haveTokens ? segments.map((s) => s.tokens) : null;
    return {
      text: (r.text ?? '').trim(),
      windows,
      audioSec: r.duration ?? NaN,
      ms,
      tokens: windows ? windows.reduce((n, w) => n + w.length, 0) : null,
    };
  }

  async close(): Promise<void> {}
}

/** The clip's bytes, or an error that names the file. */
function readAudio(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (err) {
    throw new EvalSetupError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

function headers(options: EngineOptions): Record<string, string> {
  return options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {};
}
