/** The server's command line: its help and its options (server/server.ts runs them). */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SOURCE } from './first-run.ts';
import { DEFAULTS, type ServerOptions } from './options.ts';

export const HELP = `usage: npm start -- [options]        (or: npx tsx server/server.ts [options])

  --port <n>               port (default 8080, env PORT; 0 = any free port)
  --host <addr>            address (default 127.0.0.1, env HOST; 0.0.0.0 for the LAN)
  --allow-host <name>      also answer to this Host name (name, or name:port; repeatable; '*' any, for a proxy
                           that checks it).  Default: on loopback only localhost, 127.0.0.1 and [::1] at --port;
                           on another address IP addresses, localhost and this machine's name (DNS rebinding)
  --dist <dir>             the built app (default dist/)
  --models <dir>           parent of model directories: served under /models/ and by the API (default models/, env MODELS_DIR)
  --preload <id@variant>   load this model before serving (repeatable; default: every model directory, variant
                           q8, q4, fp32, q4f16 or fp16 with int8 dot products (VNNI, ARM dot products), else q4,
                           fp32, q8: the first it has); --preload none loads on first use
  --max-loaded <n>         models loaded on first use stop at this many loaded in all (default ${DEFAULTS.maxLoaded}; 503 beyond)
  --threads <n>            onnxruntime intra-op threads per model (default 0: onnxruntime's, one per physical core,
                           each pinned to its core)
  --concurrency <n>        transcription jobs at once (default ${DEFAULTS.concurrency})
  --queue <n>              jobs waiting beyond those; more gets 429 + Retry-After (default ${DEFAULTS.queue});
                           one remote address may hold at most half the places with uploads in progress
                           (429 too_many_uploads); loopback peers are not counted per address
  --max-upload-mb <n>      largest upload, 413 beyond (default ${DEFAULTS.maxUploadMb})
  --max-audio-min <n>      longest audio, 413 beyond (default ${DEFAULTS.maxAudioMin})
  --api-key <key>          require Authorization: Bearer <key> on /v1/ (default env GLMASR_API_KEY, the better
                           place: a command line is visible to every user of the machine; none: open)
  --allow-origin <origin>  allow browser calls to /v1/ from this origin besides the server's own (repeatable;
                           '*' any; default none: a page of another origin gets 403)
  --headers-timeout-s <n>  time to receive the request headers (default ${DEFAULTS.headersTimeoutMs / 1000})
  --request-timeout-s <n>  time to receive a whole request, upload included (default ${DEFAULTS.requestTimeoutMs / 1000})
  --body-idle-timeout-s <n>  longest pause inside an upload; once this long has passed, an upload averaging
                           under 8 KiB/s is closed too (408 upload_too_slow) (default ${DEFAULTS.bodyIdleTimeoutMs / 1000})
  --tls-cert <pem> --tls-key <pem>   serve HTTPS
  --quiet                  no request log

first start (when --models holds no converted model):
  --model-source <src>     checkpoint to download and convert: a hub id owner/name[@revision] or a checkpoint
                           directory (default ${DEFAULT_SOURCE}, env GLMASR_MODEL_SOURCE); resumable
  --no-convert             serve without a model instead
`;

function positive(name: string, value: string, allowZero = false): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new Error(`--${name} must be a positive number`);
  return n;
}

export interface CommandLine {
  options: ServerOptions;
  firstRun: { source: string; noConvert: boolean };
  help: boolean;
}

/** Parse `args` (without node and the script); throws an Error with the sentence to show for a bad option. */
export function parseCommandLine(args: string[], env: NodeJS.ProcessEnv, root: string): CommandLine {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: env['PORT'] ?? '8080' },
      host: { type: 'string', default: env['HOST'] ?? '127.0.0.1' },
      'allow-host': { type: 'string', multiple: true },
      dist: { type: 'string', default: resolve(root, 'dist') },
      models: { type: 'string', default: env['MODELS_DIR'] ?? resolve(root, 'models') },
      preload: { type: 'string', multiple: true },
      threads: { type: 'string', default: String(DEFAULTS.threads) },
      'max-loaded': { type: 'string', default: String(DEFAULTS.maxLoaded) },
      concurrency: { type: 'string', default: String(DEFAULTS.concurrency) },
      queue: { type: 'string', default: String(DEFAULTS.queue) },
      'max-upload-mb': { type: 'string', default: String(DEFAULTS.maxUploadMb) },
      'max-audio-min': { type: 'string', default: String(DEFAULTS.maxAudioMin) },
      'api-key': { type: 'string', default: env['GLMASR_API_KEY'] },
      'allow-origin': { type: 'string', multiple: true },
      'headers-timeout-s': { type: 'string', default: String(DEFAULTS.headersTimeoutMs / 1000) },
      'request-timeout-s': { type: 'string', default: String(DEFAULTS.requestTimeoutMs / 1000) },
      'body-idle-timeout-s': { type: 'string', default: String(DEFAULTS.bodyIdleTimeoutMs / 1000) },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      'model-source': { type: 'string', default: env['GLMASR_MODEL_SOURCE'] ?? DEFAULT_SOURCE },
      'no-convert': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const preload = values.preload ?? [];
  const options: ServerOptions = {
    port: positive('port', values.port, true),
    host: values.host,
    dist: values.dist,
    models: values.models,
    preload: preload.length === 0 ? 'all' : preload.includes('none') ? [] : preload,
    threads: positive('threads', values.threads, true),
    maxLoaded: Math.floor(positive('max-loaded', values['max-loaded'])),
    concurrency: Math.floor(positive('concurrency', values.concurrency)),
    queue: Math.floor(positive('queue', values.queue, true)),
    maxUploadMb: positive('max-upload-mb', values['max-upload-mb']),
    maxAudioMin: positive('max-audio-min', values['max-audio-min']),
    apiKey: values['api-key'] || undefined,
    allowOrigins: values['allow-origin'] ?? [],
    allowHosts: values['allow-host'] ?? [],
    headersTimeoutMs: positive('headers-timeout-s', values['headers-timeout-s']) * 1000,
    requestTimeoutMs: positive('request-timeout-s', values['request-timeout-s']) * 1000,
    bodyIdleTimeoutMs: positive('body-idle-timeout-s', values['body-idle-timeout-s']) * 1000,
    tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'],
    quiet: values.quiet,
  };
  return {
    options,
    firstRun: { source: values['model-source'], noConvert: values['no-convert'] },
    help: values.help,
  };
}
