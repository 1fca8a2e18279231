/** The server's options and their defaults (the command line's are in server/cli.ts). */

export interface ServerOptions {
  port: number;
  host: string;
  dist: string;
  /** Parent directory of the model directories (served under /models/ and by the API). */
  models: string;
  /** Pipelines to load before listening: `id` or `id@variant`, or 'all' (each model at its CPU variant).  Default: none (loaded on first use). */
  preload?: readonly string[] | 'all';
  /** onnxruntime intra-op threads per pipeline (0: onnxruntime's own, one per physical core; server/ort/node.ts). */
  threads?: number;
  /** Most pipelines loaded at once by requests (preloads not counted against it). */
  maxLoaded?: number;
  maxUploadMb?: number;
  maxAudioMin?: number;
  /** Jobs running at once. */
  concurrency?: number;
  /** Jobs waiting beyond those; more is a 429. */
  queue?: number;
  /** Bearer key for /v1/ (none: open). */
  apiKey?: string;
  /** Origins allowed to call /v1/ from a browser besides the server's own ('*' for any). */
  allowOrigins?: readonly string[];
  /** Host names (`name` or `name:port`) accepted besides the defaults (server/guard.ts); '*' accepts any. */
  allowHosts?: readonly string[];
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  bodyIdleTimeoutMs?: number;
  /** PEM files: serve HTTPS. */
  tlsCert?: string;
  tlsKey?: string;
  /** No request log (the default in-process; the command line logs unless --quiet). */
  quiet?: boolean;
}

export const DEFAULTS = {
  threads: 0,
  maxUploadMb: 100,
  maxAudioMin: 120,
  concurrency: 1,
  queue: 16,
  maxLoaded: 4,
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 300_000,
  bodyIdleTimeoutMs: 30_000,
} as const;
