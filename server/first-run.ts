/**
 * First start: when the models directory holds no converted model, get GLM-ASR-Nano-2512 ready by itself.
 *
 *  1. The source: `--model-source` (a checkpoint directory, or a hub id `owner/name[@revision]`; default
 *     zai-org/GLM-ASR-Nano-2512).  A hub id is probed first (size of its files, the commit `main` points to); a copy
 *     already in the hub cache is used offline.
 *  2. The plan, in one paragraph: what is downloaded, converted to which variants, how much disk it needs and has.
 *     An unreachable hub or a small disk ends here with one paragraph and the exact command for later; the app is
 *     served either way.
 *  3. The converter (tools/glmasr_onnx, `--progress-json`) runs as a child process while the app is served, with
 *     progress and an ETA in the log and in `GET /v1/models` (`preparing`).  It is resumable: a stopped server
 *     leaves `.NAME.partial` beside the models and the next start continues it; the model directory only appears
 *     complete.  When it is done the registry serves it (and preloads it, as the server does with every model).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';
import type { PreparingStatus } from '../src/core/remote/openai-api.ts';
import type { ModelRegistry } from './api/models.ts';
import {
  clock,
  dirBytes,
  freeBytes,
  gb,
  hubCache,
  modelIdFor,
  type Plan,
  planSource,
  quote,
  shellPath,
} from './first-run-plan.ts';
import { publicPath, scrubPaths } from './public-path.ts';

export { modelIdFor } from './first-run-plan.ts';

export const DEFAULT_SOURCE = 'zai-org/GLM-ASR-Nano-2512';
export const DEFAULT_VARIANTS = 'q4f16,q4,q8';
/** The full-size model's conversion on this project's 2-core machines (README), for the plan paragraph. */
const MEASURED_MINUTES = 20;
/** Disk needed during a conversion, per checkpoint byte: float32 + float16 exports, then the three variants. */
const WORK_FACTOR = 4;

export interface FirstRunOptions {
  /** The server's models directory. */
  models: string;
  /** `--model-source`: directory or `owner/name[@revision]`. */
  source: string;
  noConvert: boolean;
  variants?: string;
  /** The repository root (tools/py). */
  root: string;
  /** Where progress paragraphs and lines go. */
  log: (line: string) => void;
  /** After a model is ready (the CLI preloads it). */
  onReady?: (id: string) => Promise<void> | void;
  /** Hub endpoint (HF_ENDPOINT) and how long to wait for it. */
  hubEndpoint?: string;
  hubTimeoutMs?: number;
}

/** One `--progress-json` line of the converter. */
interface ConverterEvent {
  t: number;
  stage: string;
  message: string;
  step: number;
  steps: number;
}

export class FirstRun {
  private state: PreparingStatus | null = null;
  private child: ChildProcess | null = null;
  private stopped = false;

  constructor(private readonly o: FirstRunOptions) {}

  /** What `GET /v1/models` reports under `preparing` (null once a model is served or nothing is under way). */
  status(): PreparingStatus | null {
    return this.state;
  }

  /**
   * The converter's command line.  The log (the operator's terminal) gets the real paths; the status, which the
   * app shows every visitor, gets public ones (server/public-path.ts: relative to the project, where npm runs it,
   * or `~/…`), never the machine's directory layout.
   */
  private command(plan: { source: string; id: string }, audience: 'log' | 'public' = 'log'): string {
    const shown = (p: string) => (audience === 'log' ? quote(p) : shellPath(publicPath(p, this.o.root)));
    const out = resolve(this.o.models, plan.id);
    const [src, rev] = plan.source.split(/@(?=[^/]*$)/) as [string, string | undefined];
    const from = isAbsolute(src) ? shown(src) : quote(src);
    return (
      `npm run model:convert -- --from ${from} --out ${shown(out)} --variants ${this.o.variants ?? DEFAULT_VARIANTS}` +
      ` --model-id ${quote(plan.id)}${rev ? ` --revision ${quote(rev)}` : ''}`
    );
  }

  private set(s: Omit<PreparingStatus, 'command'>, plan: { source: string; id: string }): void {
    // Only the status's own fields (a plan spread into `s` carries more).
    this.state = {
      state: s.state,
      id: s.id,
      progress: s.progress,
      eta_seconds: s.eta_seconds,
      source: isAbsolute(s.source) ? publicPath(s.source, this.o.root) : s.source,
      message: scrubPaths(s.message, this.o.root),
      command: this.command(plan, 'public'),
    };
  }

  /** Run the first start if the registry serves no model.  Never throws: every outcome is a status and a log. */
  async run(registry: ModelRegistry): Promise<void> {
    await registry.scan();
    if (registry.ids.length) return;
    const id = modelIdFor(this.o.source);
    const base = { source: this.o.source, id };
    if (this.o.noConvert) {
      this.set(
        {
          state: 'skipped',
          message: 'No model is served and --no-convert is set.',
          progress: null,
          eta_seconds: null,
          ...base,
        },
        base,
      );
      this.o.log(
        `No converted model in ${resolve(this.o.models)} (--no-convert: nothing is downloaded or converted). ` +
          `The app is served; to add the model later run:\n  ${this.command(base)}`,
      );
      return;
    }
    this.set(
      { state: 'checking', message: `Checking ${this.o.source}`, progress: null, eta_seconds: null, ...base },
      base,
    );
    let plan: Plan;
    try {
      plan = await planSource(this.o);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.set({ state: 'unavailable', message, progress: null, eta_seconds: null, ...base }, base);
      this.o.log(
        `${message} The app is served without a model. To convert it later, run:\n  ${this.command(base)}\nthen start the server again.`,
      );
      return;
    }
    // What a stopped conversion already wrote is part of what it needs.
    const done = dirBytes(resolve(this.o.models, `.${plan.id}.partial`));
    const need = Math.max(0, plan.download + WORK_FACTOR * plan.checkpointBytes - done);
    const free = freeBytes(this.o.models);
    if (free < need) {
      const message = `Not enough disk for the first start's conversion: it needs about ${gb(need)} in ${resolve(this.o.models)} and ${gb(free)} is free.`;
      this.set({ state: 'unavailable', message, progress: null, eta_seconds: null, ...plan }, plan);
      this.o.log(
        `${message} The app is served without a model. Free some space (or use --models on a larger disk) and start again, or run:\n  ${this.command(plan)}`,
      );
      return;
    }
    const full = plan.hub && plan.source.toLowerCase().startsWith(DEFAULT_SOURCE.toLowerCase());
    this.o.log(
      `First start: no converted model in ${resolve(this.o.models)}. ` +
        (plan.download
          ? `Downloading ${plan.source} once (${gb(plan.download)} into the hub cache ${hubCache()}, resumable), then converting it`
          : `Converting ${plan.source}${plan.offline ? ' (already in the hub cache)' : ''}`) +
        ` to the variants ${this.o.variants ?? DEFAULT_VARIANTS} in ${resolve(this.o.models, plan.id)}: about ` +
        `${gb(WORK_FACTOR * plan.checkpointBytes)} of disk while converting (${gb(free)} free)` +
        (full ? ', about 5.4 GB kept' : '') +
        `; the full-size model took about ${MEASURED_MINUTES} minutes on this project's 2-core machine. ` +
        `The app is served meanwhile; stopping the server pauses this and the next start resumes it ` +
        `(--no-convert skips it).`,
    );
    if (this.stopped) return;
    await this.convert(plan, registry);
  }

  private convert(plan: Plan, registry: ModelRegistry): Promise<void> {
    const [src, rev] = plan.hub
      ? (plan.source.split(/@(?=[^/]*$)/) as [string, string | undefined])
      : [plan.source, undefined];
    const args = [
      '-m',
      'glmasr_onnx',
      'convert',
      '--from',
      src,
      '--out',
      resolve(this.o.models, plan.id),
      '--variants',
      this.o.variants ?? DEFAULT_VARIANTS,
      '--model-id',
      plan.id,
      '--progress-json',
      ...(rev ? ['--revision', rev] : []),
    ];
    const t0 = performance.now();
    const stateNow = (partial: Partial<PreparingStatus>) =>
      this.set(
        {
          state: 'converting',
          message: '',
          progress: null,
          eta_seconds: null,
          ...this.state,
          ...partial,
          source: plan.source,
          id: plan.id,
        },
        plan,
      );
    stateNow({
      state: plan.download ? 'downloading' : 'converting',
      message: plan.download ? `Downloading ${plan.source}` : 'Starting the converter',
      progress: 0,
    });
    const env = { ...process.env, ...(plan.offline ? { HF_HUB_OFFLINE: '1' } : {}) };
    // Its own process group: a stop reaches the venv setup, python and the model builder's subprocess alike.
    const child = spawn(resolve(this.o.root, 'tools/py'), args, {
      cwd: this.o.root,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    this.child = child;
    // Download progress: the hub cache's growth against the files' total.
    const blobs = resolve(hubCache(), `models--${src.replace('/', '--')}`, 'blobs');
    const before = plan.download ? dirBytes(blobs) : 0;
    let downloading = plan.download > 0;
    const poll = downloading
      ? setInterval(() => {
          if (!downloading) return;
          const got = dirBytes(blobs) - before;
          const frac = Math.min(1, got / plan.download);
          const s = (performance.now() - t0) / 1000;
          stateNow({
            state: 'downloading',
            message: `Downloading ${plan.source}: ${gb(got)} of ${gb(plan.download)}`,
            progress: frac,
            eta_seconds: frac > 0.01 ? (s * (1 - frac)) / frac : null,
          });
        }, 2000)
      : null;
    let convertT0 = t0;
    let lastLogged = -1;
    const tail: string[] = [];
    let buffer = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        let event: ConverterEvent | null = null;
        if (line.startsWith('{')) {
          try {
            event = JSON.parse(line) as ConverterEvent;
          } catch {
            event = null;
          }
        }
        if (!event) {
          tail.push(line);
          if (tail.length > 20) tail.shift();
          continue;
        }
        if (downloading && event.stage !== 'validate') {
          downloading = false;
          convertT0 = performance.now();
        }
        if (downloading) continue;
        const frac = event.steps > 0 ? Math.min(1, Math.max(0, (event.step - 1) / event.steps)) : 0;
        const s = (performance.now() - convertT0) / 1000;
        const eta = frac > 0.05 ? (s * (1 - frac)) / frac : null;
        stateNow({
          state: 'converting',
          message: `${event.stage}: ${event.message}`,
          progress: frac,
          eta_seconds: eta,
        });
        if (event.step !== lastLogged && event.steps > 0) {
          lastLogged = event.step;
          this.o.log(
            `[first start] step ${event.step}/${event.steps} (${Math.round(100 * frac)}%) ${event.stage}: ${event.message}` +
              (eta !== null ? ` · about ${clock(eta)} left` : ''),
          );
        }
      }
    });
    return new Promise<void>((done) => {
      child.on('error', (err) => {
        if (poll) clearInterval(poll);
        this.child = null;
        stateNow({
          state: 'failed',
          message: `The converter could not start: ${err.message}`,
          progress: null,
          eta_seconds: null,
        });
        this.o.log(`${this.state!.message}. Run it by hand:\n  ${this.command(plan)}`);
        done();
      });
      child.on('close', (code, signal) => {
        if (poll) clearInterval(poll);
        this.child = null;
        if (this.stopped) {
          done();
          return;
        }
        if (code === 0) {
          void registry.scan().then(async () => {
            this.state = null;
            this.o.log(
              `[first start] ${plan.id} is ready (${clock((performance.now() - t0) / 1000)}): served at /models/${plan.id}/ and by the API.`,
            );
            await this.o.onReady?.(plan.id);
            done();
          });
          return;
        }
        const why =
          tail.filter((l) => !l.startsWith('Traceback') && !l.startsWith('  ')).at(-1) ?? `exit ${code ?? signal}`;
        stateNow({ state: 'failed', message: `The conversion stopped: ${why}`, progress: null, eta_seconds: null });
        this.o.log(
          `[first start] the conversion stopped: ${why}\nThe app is served without a model. The next start resumes it, or run:\n  ${this.command(plan)}`,
        );
        done();
      });
    });
  }

  /** Stop a conversion under way (the server is stopping) and wait for it; the next start resumes it. */
  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const group = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // already gone
      }
    };
    group('SIGTERM');
    const timer = setTimeout(() => group('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
