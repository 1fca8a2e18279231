/**
 * The served models: every subdirectory of `--models` with a manifest.json (id = the directory's name), their
 * pipelines loaded once (at start for `--preload`, on first use otherwise) and shared by all jobs, and
 * `GET /v1/models` in OpenAI's list shape.  A request's `model` is `id`, `id@variant` or the manifest's model_id.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type ModelManifest, type Variant, VARIANTS } from '../../src/core/asr/contract.ts';
import type { ModelList, ModelObject, ServedModelInfo } from '../../src/core/remote/openai-api.ts';
import { createNodeRuntime } from '../ort/node.ts';
import { cpuEncoderVariant } from '../../src/core/asr/encoder-variant.ts';
import { hasInt8DotProduct } from '../cpu-features.ts';
import { GlmAsrPipeline } from '../../src/core/asr/pipeline.ts';
import { directorySource } from '../model-source.ts';
import { addPrivateDir, ApiError } from './errors.ts';

/**
 * Variant preference on a CPU (onnxruntime-node), the fastest first.  With int8 dot products (`hasInt8DotProduct`),
 * q8 when its decoder stores int8 weights (`q8Signed`, converters since 2026-12-07): its encoder and decoder then
 * multiply on the U8S8 int8 GEMM (tools/glmasr_onnx/quantize.py `int8_weights`), so a 30 s window's prompt takes about
 * 1 s instead of q4's 5 s and the window about 27-28 s instead of 31 (`npm run bench -- server`,
 * docs/measurements.md); an older q8, whose decoder has uint8 weights, is no faster than q4 there.  Without int8 dot
 * products the U8S8 GEMM can saturate (and q8's encoder has had int8 weights since 2026-12-06): q4, whose MatMulNBits
 * does not use it, then fp32, and q8 only after them.
 */
export function cpuVariantOrder(int8Dot: boolean, q8Signed: boolean): readonly Variant[] {
  if (!int8Dot) return ['q4', 'fp32', 'q8', 'q4f16', 'fp16'];
  return q8Signed ? ['q8', 'q4', 'fp32', 'q4f16', 'fp16'] : ['q4', 'q8', 'fp32', 'q4f16', 'fp16'];
}

/** The variant a bare model id means on this CPU: the first of `cpuVariantOrder` that `manifest` has. */
export function cpuDefaultVariant(manifest: ModelManifest, int8Dot: boolean): Variant | undefined {
  const q8Signed = manifest.variants.q8?.graphs.decoder_model_merged?.matmulinteger_weights === 'int8';
  return cpuVariantOrder(int8Dot, q8Signed).find((v) => Object.hasOwn(manifest.variants, v));
}

export interface ModelEntry {
  id: string;
  dir: string;
  manifest: ModelManifest;
  created: number;
}

export class ModelRegistry {
  private entries = new Map<string, ModelEntry>();
  private readonly pipelines = new Map<string, Promise<GlmAsrPipeline>>();
  /** The variant a bare `id` means: the first one preloaded, else the CPU preference. */
  private readonly defaults = new Map<string, Variant>();

  constructor(
    readonly root: string,
    private readonly threads: number,
    /** At most this many pipelines stay loaded (each holds a whole model in memory). */
    private readonly maxLoaded = 4,
  ) {
    addPrivateDir(root);
  }

  async scan(): Promise<void> {
    const found = new Map<string, ModelEntry>();
    let names: string[] = [];
    try {
      names = (await readdir(resolve(this.root), { withFileTypes: true }))
        // Dot names are never models: `.NAME.partial` is a conversion in progress, whose manifest may already exist.
        .filter((d) => (d.isDirectory() || d.isSymbolicLink()) && !d.name.startsWith('.'))
        .map((d) => d.name)
        .sort();
    } catch {
      // No models directory: nothing is served (the app and /healthz still are).
    }
    for (const id of names) {
      const dir = resolve(this.root, id);
      try {
        const path = join(dir, 'manifest.json');
        const manifest = JSON.parse(await readFile(path, 'utf8')) as ModelManifest;
        if (!manifest.variants || typeof manifest.variants !== 'object') continue;
        found.set(id, { id, dir, manifest, created: Math.floor((await stat(path)).mtimeMs / 1000) });
      } catch {
        // Not a model directory.
      }
    }
    this.entries = found;
  }

  get ids(): string[] {
    return [...this.entries.keys()];
  }

  defaultVariant(entry: ModelEntry): Variant {
    const chosen = this.defaults.get(entry.id) ?? cpuDefaultVariant(entry.manifest, hasInt8DotProduct());
    if (!chosen)
      throw new ApiError(500, 'server_error', 'model_invalid', `the model ${entry.id} lists no variant`, 'model');
    return chosen;
  }

  private find(name: string): ModelEntry | undefined {
    return this.entries.get(name) ?? [...this.entries.values()].find((e) => e.manifest.model_id === name);
  }

  private notFound(why: string): ApiError {
    const served = this.ids.length
      ? `served models: ${this.ids.join(', ')}`
      : 'this server serves no model yet: its operator adds one with `npm run model:convert`';
    return new ApiError(404, 'not_found_error', 'model_not_found', `${why} (${served})`, 'model');
  }

  /** `id`, `id@variant` or a manifest's model_id → the entry and variant, or 404 `model_not_found`. */
  async resolve(model: string): Promise<{ entry: ModelEntry; variant: Variant }> {
    const at = model.lastIndexOf('@');
    const name = at > 0 ? model.slice(0, at) : model;
    const wanted = at > 0 ? model.slice(at + 1) : undefined;
    let entry = this.find(name);
    if (!entry) {
      await this.scan(); // a directory added since the start
      entry = this.find(name);
    }
    if (!entry) throw this.notFound(`the model ${JSON.stringify(model)} does not exist`);
    if (wanted === undefined) return { entry, variant: this.defaultVariant(entry) };
    // Own keys only: `id@constructor` names no variant.
    if (!(VARIANTS as readonly string[]).includes(wanted) || !Object.hasOwn(entry.manifest.variants, wanted)) {
      const have = VARIANTS.filter((v) => Object.hasOwn(entry.manifest.variants, v)).join(', ');
      throw this.notFound(`the model ${entry.id} has no variant ${JSON.stringify(wanted)} (it has ${have})`);
    }
    return { entry, variant: wanted as Variant };
  }

  /** Throw 503 `model_capacity` when `variant` is not loaded and no more may be (checked before reading audio). */
  checkCapacity(entry: ModelEntry, variant: Variant): void {
    const key = `${entry.id}@${variant}`;
    if (this.pipelines.has(key) || this.pipelines.size < this.maxLoaded) return;
    // Nothing is unloaded while serving, so waiting does not help: no Retry-After.
    throw new ApiError(
      503,
      'server_error',
      'model_capacity',
      `${key} is not loaded and ${this.pipelines.size} models are, the server's limit (--max-loaded); use one of ${[...this.pipelines.keys()].join(', ')}`,
      'model',
    );
  }

  /** The loaded pipeline (loading it now when it is not yet and fewer than `maxLoaded` are). */
  pipeline(entry: ModelEntry, variant: Variant, preload = false): Promise<GlmAsrPipeline> {
    const key = `${entry.id}@${variant}`;
    let p = this.pipelines.get(key);
    // Preloads are the operator's choice; loads on first use stop at the limit.
    if (!p && !preload) {
      try {
        this.checkCapacity(entry, variant);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (!p) {
      p = GlmAsrPipeline.load(createNodeRuntime(this.threads), directorySource(entry.dir), variant, {
        manifest: entry.manifest,
        encoderVariant: cpuEncoderVariant(entry.manifest, variant, hasInt8DotProduct()),
      });
      this.pipelines.set(key, p);
      p.catch(() => this.pipelines.delete(key)); // a later request may try again
    }
    return p;
  }

  /** Load `specs` (`id` or `id@variant`; default: every model at its CPU variant) before serving. */
  async preload(specs: readonly string[]): Promise<string[]> {
    await this.scan();
    const targets = specs.length ? specs : this.ids;
    const loaded: string[] = [];
    for (const spec of targets) {
      let r;
      try {
        r = await this.resolve(spec);
      } catch (err) {
        throw new Error(`--preload ${spec}: ${err instanceof Error ? err.message : err}`, { cause: err });
      }
      if (!this.defaults.has(r.entry.id)) this.defaults.set(r.entry.id, r.variant);
      await this.pipeline(r.entry, r.variant, true);
      loaded.push(`${r.entry.id}@${r.variant}`);
    }
    return loaded;
  }

  list(): ModelList {
    const data: ModelObject[] = [];
    for (const e of this.entries.values()) {
      const variants: Record<string, number> = {};
      for (const v of VARIANTS) if (e.manifest.variants[v]) variants[v] = e.manifest.variants[v]!.bytes;
      const info: ServedModelInfo = {
        model_id: e.manifest.model_id,
        revision: e.manifest.revision,
        url: `/models/${encodeURIComponent(e.id)}/`,
        variants,
        ...(e.manifest.source ? { source: e.manifest.source } : {}),
      };
      data.push({ id: e.id, object: 'model', created: e.created, owned_by: 'glm-asr-web', glmasr: info });
      for (const v of Object.keys(variants))
        data.push({
          id: `${e.id}@${v}`,
          object: 'model',
          created: e.created,
          owned_by: 'glm-asr-web',
          glmasr: { ...info, variant: v },
        });
    }
    return { object: 'list', data };
  }

  loadedKeys(): string[] {
    return [...this.pipelines.keys()];
  }

  async close(): Promise<void> {
    const all = [...this.pipelines.values()];
    this.pipelines.clear();
    for (const p of all) {
      try {
        await (await p).release();
      } catch {
        // A failed load has nothing to release.
      }
    }
  }
}
