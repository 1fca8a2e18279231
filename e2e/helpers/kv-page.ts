/**
 * A page of its own for the KV-cache test (e2e/webgpu-kv.spec.ts) and the run counts of `npm run bench -- webgpu`:
 * the app's own decoder code (OrtRuntime, decoderLayout, KvCache, greedyDecode) on onnxruntime-web in Chromium,
 * without the worker and its UI.  Bundled by esbuild at test time (kv-page-server.ts); the page imports onnxruntime-web
 * itself and hands it to `start` (only the runtime owners import onnxruntime).  Runs in the page: DOM globals only.
 *
 * A "window" here is one greedy decode: a prompt of `prompt` token embeddings (ids drawn from `seed`, embedded by the
 * model's own embed_tokens, so the rows have the model's scale) and exactly `cap` generated tokens (no EOS, no
 * repetition stop), the way the pipeline decodes a window after its audio rows are in place.
 */
import { T, type ModelManifest, type Variant } from '../../src/core/asr/contract.ts';
import { decoderLayout, greedyDecode, type DecoderGraph } from '../../src/core/asr/greedy.ts';
import { KvCache } from '../../src/core/asr/kv-cache.ts';
import { cpuFloat32, OrtRuntime, type OrtModule, type Session, type Tensor } from '../../src/core/ort/runtime.ts';

export interface KvWindow {
  prompt: number;
  cap: number;
  seed: number;
}

export interface KvDecoded {
  ids: number[];
  /** The in-place cache's positions while this window decoded (null: per step). */
  capacity: number | null;
  /** session.run calls of this window, per graph. */
  runs: { decoder: number; embed: number };
}

export interface KvRequest {
  model: string;
  variant: Variant;
  backend: 'webgpu' | 'wasm';
  /** 'in-place': one KvCache for every window, as the app keeps it on WebGPU; 'per-step': a new present each step. */
  cache: 'in-place' | 'per-step';
  windows: KvWindow[];
  /** Prompt tokens per decoder run instead of decoderLayout's (the benchmark's "before"). */
  prefillChunk?: number;
}

export interface KvResult {
  mode: 'in-place' | 'per-step';
  prefillChunk: number;
  windows: KvDecoded[];
}

let ort: OrtModule;

const loaded = new Map<
  string,
  Promise<{ runtime: OrtRuntime; manifest: ModelManifest; d: DecoderGraph; embed: Session }>
>();

async function bytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

function load(model: string, variant: Variant, backend: 'webgpu' | 'wasm') {
  const key = `${model}/${variant}/${backend}`;
  let p = loaded.get(key);
  if (!p) {
    p = (async () => {
      const base = `/models/${model}/`;
      const manifest = (await (await fetch(`${base}manifest.json`)).json()) as ModelManifest;
      const runtime = new OrtRuntime(ort, backend);
      const open = async (graph: 'embed_tokens' | 'decoder_model_merged', outputsOnGpu: string[]) => {
        const [file, ...data] = manifest.variants[variant]!.graphs[graph].files;
        const externalData = await Promise.all(
          data.map(async (f) => ({ path: f.split('/').pop()!, data: await bytes(base + f) })),
        );
        return runtime.createSession({ graph, model: await bytes(base + file!), externalData }, { outputsOnGpu });
      };
      const layers = Array.from({ length: manifest.model.num_layers }, (_, i) => i);
      const embed = await open('embed_tokens', []);
      const decoder = await open(
        'decoder_model_merged',
        layers.flatMap((i) => [T.presentKey(i), T.presentValue(i)]),
      );
      return { runtime, manifest, d: decoderLayout(runtime, decoder, manifest.model.hidden_size), embed };
    })();
    loaded.set(key, p);
  }
  return p;
}

/** `n` ids of the vocabulary from `seed` (a fixed LCG: the same windows in every mode). */
function ids(n: number, seed: number, vocab: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s % vocab;
  });
}

/** The windows of `r`, in order, on one cache (in place) or with a new present per step. */
export async function decodeWindows(r: KvRequest): Promise<KvResult> {
  const { runtime, manifest, d: layout, embed } = await load(r.model, r.variant, r.backend);
  const d = r.prefillChunk ? { ...layout, prefillChunk: r.prefillChunk } : layout;
  const kvType = d.session.inputType(T.pastKey(0)) === 'float16' ? 'float16' : 'float32';
  const cache = new KvCache(runtime, manifest.model, kvType, r.cache === 'in-place' && d.kvInPlace);
  const embedIds = async (list: readonly number[]): Promise<Tensor> => {
    const data = BigInt64Array.from(list, (v) => BigInt(v));
    const out = await runtime.run(embed, { [T.inputIds]: runtime.int64(data, [1, list.length]) });
    return out[T.inputsEmbeds] as Tensor;
  };
  const count = () => ({
    decoder: runtime.runs.get('decoder_model_merged') ?? 0,
    embed: runtime.runs.get('embed_tokens') ?? 0,
  });
  const windows: KvDecoded[] = [];
  try {
    for (const w of r.windows) {
      const before = count();
      const prompt = cpuFloat32(await embedIds(ids(w.prompt, w.seed, manifest.model.vocab_size)));
      const kv = await cache.open(w.prompt + w.cap);
      const past = kv.past[T.pastKey(0)]!;
      try {
        const { ids: out } = await greedyDecode(d, kv, {
          prompt: new Float32Array(prompt),
          promptTokens: w.prompt,
          cap: w.cap,
          eos: new Set(),
          repetitionGuard: false,
          embed: embedIds,
        });
        const after = count();
        windows.push({
          ids: out,
          capacity: cache.mode === 'in-place' ? (past.dims[2] ?? null) : null,
          runs: { decoder: after.decoder - before.decoder, embed: after.embed - before.embed },
        });
      } finally {
        kv.close();
      }
    }
  } finally {
    cache.release();
  }
  return { mode: cache.mode, prefillChunk: d.prefillChunk, windows };
}

/** The page's onnxruntime-web module (the WebGPU bundle, its wasm under /ort/): configure it, expose the harness. */
export function start(module: OrtModule): void {
  ort = module;
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const page = globalThis as unknown as { decodeWindows: typeof decodeWindows; ready: boolean };
  page.decodeWindows = decodeWindows;
  page.ready = true;
}
