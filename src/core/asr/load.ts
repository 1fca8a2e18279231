/**
 * Loading a model for the pipeline: the model directory's small files (manifest, generation config, tokenizer, chat
 * template), checked against each other, then one onnxruntime session per graph, with byte progress.  The files come
 * from a ModelSource: fetch or the model store in the browser, the file system in Node.  Isomorphic.
 */
import {
  CHAT_TEMPLATE_FILE,
  type GenerationConfig,
  type GraphName,
  type LoadProgress,
  type ModelManifest,
  T,
  type Variant,
} from './contract.ts';
import type { CreateSessionOptions, GraphSource, OrtRuntime, Session } from '../ort/runtime.ts';
import { PipelineError } from './errors.ts';
import { AsrTokenizer } from './tokenizer.ts';

/** Where the model directory's files come from: fetch in the browser, the file system in Node. */
export interface ModelSource {
  readonly label: string;
  /** How its bytes arrive, for progress: 'download' (network into memory) or 'read' (this device's storage). */
  readonly stage?: 'download' | 'read';
  text(path: string): Promise<string>;
  /** A graph or external-data file: its bytes, or a path the runtime opens itself (Node). */
  binary(path: string, onBytes?: (loaded: number) => void): Promise<Uint8Array | string>;
}

/** Bytes read so far of the `total` being loaded, reported through `onProgress`. */
interface LoadCounter {
  done: number;
  total: number;
  onProgress: (p: LoadProgress) => void;
}

/** The model directory's small files, read and checked. */
export interface ModelFiles {
  manifest: ModelManifest;
  generation: GenerationConfig;
  tokenizer: AsrTokenizer;
}

/**
 * Reads the manifest (unless given), the generation config and the tokenizer of `source` and checks that it has
 * `variant` and that the tokenizer's audio placeholder is the model's audio token.  Rejects with
 * PipelineError('MODEL_LOAD_FAILED').
 */
export async function readModelFiles(
  source: ModelSource,
  variant: Variant,
  known?: ModelManifest,
): Promise<ModelFiles> {
  let manifest: ModelManifest, generation: GenerationConfig, tokenizer: AsrTokenizer;
  try {
    manifest = known ?? (JSON.parse(await source.text('manifest.json')) as ModelManifest);
    generation = JSON.parse(await source.text('generation_config.json')) as GenerationConfig;
    tokenizer = new AsrTokenizer(
      JSON.parse(await source.text('tokenizer.json')),
      JSON.parse(await source.text('tokenizer_config.json')),
      await source.text(CHAT_TEMPLATE_FILE),
    );
  } catch (err) {
    throw new PipelineError('MODEL_LOAD_FAILED', `${source.label}: ${err instanceof Error ? err.message : err}`);
  }
  if (!manifest.variants[variant]) {
    const have = Object.keys(manifest.variants).join(', ');
    throw new PipelineError('MODEL_LOAD_FAILED', `${source.label} has no ${variant} variant (it has ${have})`);
  }
  if (tokenizer.audioTokenId !== manifest.model.audio_token_id)
    throw new PipelineError(
      'MODEL_LOAD_FAILED',
      `tokenizer's <|pad|> is ${tokenizer.audioTokenId} but the model's audio_token_id is ${manifest.model.audio_token_id}`,
    );
  return { manifest, generation, tokenizer };
}

/**
 * Variants whose graphs are created without prepacked weights on the WASM backend (runtime.ts, disablePrepacking).
 * onnxruntime-web's WASM build has no 4-bit kernel: MatMulNBits dequantizes its whole weight to float32 on every call
 * either way (planner.ts, VARIANT_ORDER), so prepacking q4f16's weights (float16 scales) costs heap, which WebAssembly
 * never gives back, and a decode step no time.  Measured on the full-size model, one thread (`node --expose-gc
 * tools/probes/wasm-heap/heap.mjs <model> q4f16 [noprepack] encode decode`, docs/measurements.md): 1616 against 1372 MB
 * of heap after the load, 2069 against 1841-1942 MB after a decode; the decoder's logits and the encoder's features
 * bit-equal.  The option turns off every CPU kernel's prepacking: a window's encode timed alike interleaved, and
 * +8% and +41% in two pairs run apart on this noisy machine, so its cost there is not settled.  q4 (float32 scales)
 * measured the same heap either way, so it keeps the default.
 */
export const PREPACK_FREE_ON_WASM: ReadonlySet<Variant> = new Set<Variant>(['q4f16']);

/** What a caller may choose of how a graph's session is made (runtime.ts, CreateSessionOptions). */
export type GraphSessionOptions = Pick<CreateSessionOptions, 'maxPendingDispatches'>;

/**
 * The sessions of some of `variant`'s graphs (in the order given), with byte progress over just those: the low-memory
 * mode loads the audio encoder alone, or the embedding and the decoder (one-graph.ts).  When one fails (or the signal
 * aborts between them), the sessions already made are released before the error is passed on.
 */
export async function loadGraphs<G extends GraphName>(
  runtime: OrtRuntime,
  source: ModelSource,
  manifest: ModelManifest,
  variant: Variant,
  graphs: readonly G[],
  onProgress: (p: LoadProgress) => void,
  signal?: AbortSignal,
  encoderVariant: Variant = variant,
  /** How the audio encoder's session is made (the low-memory mode's, residency.ts). */
  encoderSession: GraphSessionOptions = {},
): Promise<Record<G, Session>> {
  const of = (graph: GraphName) => (graph === 'audio_encoder' ? encoderVariant : variant);
  const total = graphs.reduce((n, g) => n + (manifest.variants[of(g)]?.graphs[g].bytes ?? 0), 0);
  const progress: LoadCounter = { done: 0, total, onProgress };
  const sessions = {} as Record<G, Session>;
  try {
    for (const graph of graphs) {
      signal?.throwIfAborted();
      const opts = graph === 'audio_encoder' ? encoderSession : {};
      sessions[graph] = await loadGraph(runtime, source, manifest, of(graph), graph, progress, signal, opts);
    }
  } catch (err) {
    for (const made of Object.values<Session>(sessions)) await runtime.releaseSession(made).catch(() => undefined);
    throw err;
  }
  return sessions;
}

/** Read one graph of `variant` (and its external data) from `source` and create its session. */
export async function loadGraph(
  runtime: OrtRuntime,
  source: ModelSource,
  manifest: ModelManifest,
  variant: Variant,
  graph: GraphName,
  progress: LoadCounter,
  signal?: AbortSignal,
  sessionOptions: GraphSessionOptions = {},
): Promise<Session> {
  const stage = source.stage ?? 'download';
  const files = manifest.variants[variant]?.graphs[graph].files ?? [];
  const [modelPath, ...dataPaths] = files;
  if (!modelPath) throw new PipelineError('MODEL_LOAD_FAILED', `manifest lists no ${variant} file for ${graph}`);
  const fetchOne = async (path: string) => {
    const base = progress.done;
    const data = await source.binary(path, (loaded) =>
      progress.onProgress({ stage, loaded: base + loaded, total: progress.total, detail: path }),
    );
    const entry = manifest.files.find((f) => f.path === path);
    progress.done += entry?.bytes ?? (typeof data === 'string' ? 0 : data.byteLength);
    progress.onProgress({ stage, loaded: progress.done, total: progress.total, detail: path });
    return data;
  };
  const model = await fetchOne(modelPath);
  const graphSource: GraphSource = { graph, model };
  if (typeof model !== 'string' && dataPaths.length) {
    graphSource.externalData = [];
    for (const p of dataPaths) {
      graphSource.externalData.push({ path: p.split('/').pop() ?? p, data: await fetchOne(p) });
    }
  } else {
    for (const p of dataPaths) progress.done += manifest.files.find((f) => f.path === p)?.bytes ?? 0;
  }
  signal?.throwIfAborted();
  progress.onProgress({ stage: 'session', loaded: 0, total: 0, detail: graph });
  // The decoder's present.* stay on the GPU where the runtime can (the KV cache, kv-cache.ts).
  const onGpu =
    graph === 'decoder_model_merged'
      ? Array.from({ length: manifest.model.num_layers }, (_, i) => [T.presentKey(i), T.presentValue(i)]).flat()
      : [];
  return runtime.createSession(graphSource, {
    ...sessionOptions,
    outputsOnGpu: onGpu,
    disablePrepacking: PREPACK_FREE_ON_WASM.has(variant),
  });
}
