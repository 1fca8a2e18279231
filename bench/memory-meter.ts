/**
 * The memory meter: what iOS counts against a web page, measured in Chromium on Linux.
 *
 * On iOS the web process's jetsam limit covers the page's JavaScript and WebAssembly heaps and every Metal
 * allocation the page makes (WebGPU buffers), so the meter adds two figures:
 *  - the renderer processes' resident set above their idle level (/proc/<pid>/statm of Chromium's `--type=renderer`
 *    processes: the page and its workers, JS + WASM heaps);
 *  - the bytes of the GPU buffers the ASR worker holds: a ledger injected into every dedicated worker before its
 *    code runs (e2e/helpers/worker-inject.ts) wraps `GPUDevice.prototype.createBuffer` (+ `descriptor.size`, staging
 *    and mapped buffers included), `GPUBuffer.prototype.destroy` (- once per buffer, when the work submitted before
 *    the destroy is done: `queue.onSubmittedWorkDone()`, because the GPU keeps a buffer its pending commands use) and
 *    `GPUDevice.prototype.destroy` (- what that device still held, at once).  A buffer garbage-collected without
 *    `destroy()` stays counted (a leak as far as the ledger knows; `collectedBytes` says how many such bytes the
 *    collector has reported since).  Textures
 *    and the browser's own staging (inside `queue.writeBuffer`) are not counted; onnxruntime uses buffers only.
 * The GPU process's own resident set is not the measure: SwiftShader keeps its own copies (8.67x the weights).
 *
 * The app's phase comes from the ASR worker's messages, watched from the page (APP_PHASE_SCRIPT, a page init script): a load's
 * `model-progress` (stage `download` is the download; `read`, `session`, `warmup` the load), a file job's
 * `transcribe-event` (`window-start` until the window's first `token`: encode; then decode; in the low-memory
 * mode its `phase` events instead: encoding, decoding, and "swap" while one graph is released and the other loaded),
 * a `model-release` call (release), anything else idle.  This file also holds the /proc sampling that bench/load.ts uses.
 */
import type { Page, Worker } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';

/* ------------------------------------------------------------------------------------------------------------- */
/* Processes                                                                                                     */

/** Every process under `root` (Chromium's browser, renderer, GPU, network, utility processes). */
export function tree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(name), ppid);
    } catch {
      /* exited */
    }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, pp] of parent) if (pp === out[i]) out.push(pid);
  return out;
}

/** Resident bytes summed over the processes (statm: cheap even for a wasm process with a 1 TB reservation). */
export function rss(pids: number[]): number {
  let pages = 0;
  for (const pid of pids) {
    try {
      pages += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1] ?? 0);
    } catch {
      /* exited */
    }
  }
  return pages * 4096;
}

/** The browser process (the root of the tree the meter reads) of the Chromium using `profile`. */
export function browserPid(profile: string): number {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (args.includes(`--user-data-dir=${profile}`) && !args.some((a) => a.startsWith('--type=')))
        return Number(name);
    } catch {
      /* exited */
    }
  }
  throw new Error(`no Chromium process for ${profile}`);
}

/** The processes among `pids` whose command line has `--type=<type>` (Chromium's process kinds). */
function ofType(pids: number[], type: string): number[] {
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`--type=${type}`);
    } catch {
      return false;
    }
  });
}

/** Chromium's GPU process (SwiftShader's own copies and work memory here: not what iOS counts, but why a run dies). */
export const gpuProcesses = (pids: number[]): number[] => ofType(pids, 'gpu-process');

/** Renderer processes (the page and its workers: the JavaScript/WASM side of a load). */
export const renderers = (pids: number[]): number[] => ofType(pids, 'renderer');

/** Peak RSS of the whole browser and of its renderers alone, sampled every 100 ms between start() and stop(). */
export class RssSampler {
  peak = 0;
  peakRenderer = 0;
  private running = false;
  constructor(private readonly root: number) {}
  now(): number {
    return rss(tree(this.root));
  }
  nowRenderer(): number {
    return rss(renderers(tree(this.root)));
  }
  private sample(): void {
    const pids = tree(this.root);
    this.peak = Math.max(this.peak, rss(pids));
    this.peakRenderer = Math.max(this.peakRenderer, rss(renderers(pids)));
  }
  start(): void {
    this.peak = 0;
    this.peakRenderer = 0;
    this.sample();
    this.running = true;
    const tick = () => {
      if (!this.running) return;
      this.sample();
      setTimeout(tick, 100);
    };
    setTimeout(tick, 100);
  }
  stop(): number {
    this.running = false;
    this.sample();
    return this.peak;
  }
}

/* ------------------------------------------------------------------------------------------------------------- */
/* The GPU ledger (run in every dedicated worker) and the phase watcher (run in the page)                       */

/** What `self.__gpuLedger.read()` gives, in bytes. */
export interface LedgerReading {
  /** Live: created minus destroyed (a destroyed buffer until the work submitted before its destroy is done). */
  live: number;
  /** The highest `live` since the worker started. */
  peak: number;
  /** The highest `live` since the last `read(true)` (the sampler's resettable peak). */
  windowPeak: number;
  created: number;
  destroyed: number;
  /** Buffers created, and of them live. */
  buffers: number;
  liveBuffers: number;
  /** Bytes of buffers the collector reclaimed without `destroy()` (still counted in `live`). */
  collectedBytes: number;
  /**
   * Live bytes by the buffers' usage flags, joined in bit order ("COPY_SRC|COPY_DST|STORAGE|INDIRECT": weights;
   * "COPY_SRC|COPY_DST|STORAGE": activations, KV cache; "MAP_WRITE|COPY_SRC": upload staging), now and at `peak`.
   */
  liveByUsage: Record<string, number>;
  peakByUsage: Record<string, number>;
  /** The size of the worker's WebAssembly memories now (onnxruntime's heap, which never shrinks). */
  wasmBytes: number;
}

/** Installs `self.__gpuLedger` (a function body: see e2e/helpers/worker-inject.ts). */
export const GPU_LEDGER_SCRIPT = String.raw`
  if (typeof GPUDevice === 'undefined' || self.__gpuLedger) return;
  var state = { live: 0, peak: 0, windowPeak: 0, created: 0, destroyed: 0, buffers: 0, liveBuffers: 0, collectedBytes: 0,
    liveByUsage: {}, peakByUsage: {} };
  // buffer -> its record; device -> the records of its live buffers (weakly: a buffer must stay collectable).
  var records = new WeakMap();
  var deviceLive = new WeakMap();
  var gone = typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry(function (rec) { if (!rec.freed && !rec.destroyed) state.collectedBytes += rec.size; })
    : null;
  function free(rec) {
    if (rec.freed) return;
    rec.freed = true;
    state.live -= rec.size;
    state.destroyed += rec.size;
    state.liveBuffers -= 1;
    state.liveByUsage[rec.usage] -= rec.size;
  }
  // GPUBufferUsage's flags by name, joined: "MAP_WRITE|COPY_SRC" is an upload's staging buffer.
  var USAGE = ['MAP_READ', 'MAP_WRITE', 'COPY_SRC', 'COPY_DST', 'INDEX', 'VERTEX', 'UNIFORM', 'STORAGE', 'INDIRECT', 'QUERY_RESOLVE'];
  function usageName(u) {
    var names = [];
    for (var i = 0; i < USAGE.length; i++) if (u & (1 << i)) names.push(USAGE[i]);
    return names.join('|') || 'none';
  }
  var createBuffer = GPUDevice.prototype.createBuffer;
  GPUDevice.prototype.createBuffer = function (descriptor) {
    var buffer = createBuffer.apply(this, arguments);
    var size = Number(descriptor && descriptor.size) || 0;
    var usage = usageName(Number(descriptor && descriptor.usage) || 0);
    var rec = { size: size, freed: false, destroyed: false, device: this, usage: usage };
    state.liveByUsage[usage] = (state.liveByUsage[usage] || 0) + size;
    records.set(buffer, rec);
    var list = deviceLive.get(this);
    if (!list) { list = new Set(); deviceLive.set(this, list); }
    list.add(rec);
    if (gone) gone.register(buffer, rec);
    state.created += size;
    state.buffers += 1;
    state.liveBuffers += 1;
    state.live += size;
    if (state.live > state.peak) { state.peak = state.live; state.peakByUsage = Object.assign({}, state.liveByUsage); }
    if (state.live > state.windowPeak) state.windowPeak = state.live;
    return buffer;
  };
  // A destroyed buffer's memory goes when the work submitted before the destroy is done (WebGPU frees it then, and
  // Metal keeps a buffer a submitted command buffer uses): until its queue says so, it stays counted.
  var destroyBuffer = GPUBuffer.prototype.destroy;
  GPUBuffer.prototype.destroy = function () {
    var rec = records.get(this);
    var result = destroyBuffer.apply(this, arguments);
    if (rec && !rec.destroyed) {
      rec.destroyed = true;
      var done = function () {
        free(rec);
        var list = deviceLive.get(rec.device);
        if (list) list.delete(rec);
      };
      rec.device.queue.onSubmittedWorkDone().then(done, done);
    }
    return result;
  };
  var destroyDevice = GPUDevice.prototype.destroy;
  GPUDevice.prototype.destroy = function () {
    var list = deviceLive.get(this);
    if (list) { list.forEach(free); list.clear(); }
    return destroyDevice.apply(this, arguments);
  };
  // The WebAssembly memories made in this worker (onnxruntime's heap; its threads share it): their size now.
  var memories = [];
  if (typeof WebAssembly === 'object' && WebAssembly.Memory) {
    var Memory = WebAssembly.Memory;
    var Wrapped = function (descriptor) {
      var m = new Memory(descriptor);
      memories.push(m);
      return m;
    };
    Wrapped.prototype = Memory.prototype;
    WebAssembly.Memory = Wrapped;
  }
  function wasmBytes() {
    var n = 0;
    for (var i = 0; i < memories.length; i++) n += memories[i].buffer.byteLength;
    return n;
  }
  self.__gpuLedger = {
    read: function (reset) {
      var out = Object.assign({}, state, { wasmBytes: wasmBytes(),
        liveByUsage: Object.assign({}, state.liveByUsage), peakByUsage: Object.assign({}, state.peakByUsage) });
      if (reset) state.windowPeak = state.live;
      return out;
    },
  };
`;

/** The app's phases, as the meter names them. */
export type Phase = 'download' | 'load' | 'encode' | 'swap' | 'decode' | 'release' | 'idle';
export const PHASES: readonly Phase[] = ['download', 'load', 'encode', 'swap', 'decode', 'release', 'idle'];

/**
 * A page init script (`page.addInitScript`): `window.__appPhase`, the phase the ASR worker's messages say (protocol of
 * src/core/protocol.ts; a call's result ends a load, a job or a release).  It watches from the page's side of every
 * worker the page makes (a listener added by a wrapped `Worker` constructor, and `Worker.prototype.postMessage` for
 * the calls), because the page stays responsive while the worker computes: a WASM session run holds the worker's
 * thread for minutes, and a reading from inside the worker would wait for it.
 */
export const APP_PHASE_SCRIPT = String.raw`(function () {
  if (typeof Worker === 'undefined' || window.__appPhase !== undefined) return;
  window.__appPhase = 'idle';
  var calls = new Map();
  var oneGraph = new Set();
  function said(m) {
    try {
      if (m && m.type === 'model-progress') {
        window.__appPhase = m.progress && m.progress.stage === 'download' ? 'download' : 'load';
      } else if (m && m.type === 'transcribe-event') {
        var t = m.event && m.event.type;
        if (t === 'phase') {
          // One graph at a time: the job says its phases (window events then come inside "decoding").
          oneGraph.add(m.id);
          var p = m.event.phase;
          window.__appPhase = p === 'encoding' ? 'encode' : p === 'decoding' ? 'decode' : 'swap';
        } else if (!oneGraph.has(m.id)) {
          if (t === 'window-start') window.__appPhase = 'encode';
          else if (t === 'token') window.__appPhase = 'decode';
        }
      } else if (m && (m.type === 'result' || m.type === 'error') && calls.has(m.id)) {
        var call = calls.get(m.id);
        calls.delete(m.id);
        oneGraph.delete(m.id);
        if (call === 'model-load' || call === 'transcribe' || call === 'model-release') window.__appPhase = 'idle';
      }
    } catch (err) { /* the meter never stands in the app's way */ }
  }
  var post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (m) {
    if (m && m.type === 'call') {
      calls.set(m.id, m.call);
      if (m.call === 'model-release') window.__appPhase = 'release';
    }
    return post.apply(this, arguments);
  };
  var Original = Worker;
  var Wrapped = function (url, options) {
    var w = new Original(url, options);
    w.addEventListener('message', function (e) { said(e.data); });
    return w;
  };
  Wrapped.prototype = Original.prototype;
  window.Worker = Wrapped;
})();`;

declare const self: { __gpuLedger?: { read(reset?: boolean): LedgerReading } };
declare const window: { __appPhase?: Phase };

/** One reading of a worker's ledger; `reset` starts a new window for `windowPeak`. */
export function readLedger(worker: Worker, reset = false): Promise<LedgerReading | null> {
  return worker.evaluate((r) => self.__gpuLedger?.read(r) ?? null, reset);
}

/* ------------------------------------------------------------------------------------------------------------- */
/* The meter                                                                                                     */

export interface PhasePeak {
  /** max over the phase's samples of (renderer above idle + GPU live), and its two parts at that sample. */
  peakBytes: number;
  rendererBytes: number;
  gpuBytes: number;
  /** Time spent in the phase (between samples) and the number of samples. */
  ms: number;
  samples: number;
}

export interface MeterReport {
  peakBytes: number;
  /** The phase holding the peak, and the peak's parts. */
  peakPhase: Phase | null;
  rendererBytes: number;
  gpuBytes: number;
  phases: Partial<Record<Phase, PhasePeak>>;
  /** The ledger at the end (the GPU buffers still held, what was ever created). */
  ledger: LedgerReading | null;
}

/**
 * Samples every ~100 ms: the renderers' RSS above `base` (taken by `idle()` on a blank page), plus the GPU ledger of
 * the page's worker that `pick` chooses (the newest, by default), under the page's phase (APP_PHASE_SCRIPT).  Three
 * loops, so that a worker busy in a synchronous WASM run delays no RSS sample: each RSS sample adds the ledger's
 * latest peak-since-the-reading-before (or what is live, if more), so a GPU high between two readings is not missed.
 */
export class MemoryMeter {
  private base = 0;
  private running: Promise<void> | null = null;
  private stopping = false;
  private phases: Partial<Record<Phase, PhasePeak>> = {};
  private last: LedgerReading | null = null;
  private forced: Phase | null = null;
  private t0 = 0;
  /**
   * Every sample since start(): seconds since start, the phase, renderer and GPU-buffer bytes, and the GPU process's
   * resident bytes (not part of the measure; it shows what SwiftShader itself does).
   */
  series: {
    s: number;
    phase: Phase;
    rendererBytes: number;
    gpuBytes: number;
    gpuProcessBytes: number;
    wasmBytes: number;
  }[] = [];
  constructor(
    private readonly browserPid: number,
    private readonly pick: (workers: Worker[]) => Worker | undefined = (w) => w.at(-1),
  ) {}

  /** The renderers' resident bytes now. */
  rendererNow(): number {
    return rss(renderers(tree(this.browserPid)));
  }

  /** Sets the idle level: call with the page on about:blank, settled. */
  idle(): number {
    this.base = this.rendererNow();
    return this.base;
  }

  /**
   * Names the phase of the samples from now on, whatever the worker says (null: the worker's again).  For what the
   * caller knows better: e.g. "release" from its release call until it stops the meter, so that the state after a
   * release is its own phase rather than more "idle".
   */
  force(phase: Phase | null): void {
    this.forced = phase;
  }

  /** Starts sampling `page` (phases and peaks start empty). */
  start(page: Page): void {
    this.phases = {};
    this.stopping = false;
    this.last = null;
    this.forced = null;
    this.phase = 'idle';
    this.gpu = 0;
    this.series = [];
    this.t0 = performance.now();
    this.running = Promise.all([this.rssLoop(), this.phaseLoop(page), this.ledgerLoop(page)]).then(() => undefined);
  }

  private phase: Phase = 'idle';
  private gpu = 0;

  private async every100ms(fn: () => Promise<void> | void): Promise<void> {
    while (!this.stopping) {
      await fn();
      await new Promise((ok) => setTimeout(ok, 100));
    }
  }

  /** The page's phase (the page answers at once, whatever the worker is doing). */
  private phaseLoop(page: Page): Promise<void> {
    return this.every100ms(async () => {
      this.phase = (await page.evaluate(() => window.__appPhase).catch(() => undefined)) ?? this.phase;
    });
  }

  /**
   * The ledger's peak since the reading before.  A worker busy in a synchronous run answers when it is done; GPU
   * buffers are made and freed by the same thread, so none is missed, and the last reading stands meanwhile.
   */
  private ledgerLoop(page: Page): Promise<void> {
    return this.every100ms(async () => {
      const worker = this.pick(page.workers());
      const ledger = worker ? await readLedger(worker, true).catch(() => null) : null;
      if (!ledger) return;
      this.last = ledger;
      this.gpu = ledger.windowPeak;
    });
  }

  private rssLoop(): Promise<void> {
    let t = performance.now();
    const once = () => {
      this.sample(t);
      t = performance.now();
    };
    return this.every100ms(once).then(once);
  }

  private sample(since: number): void {
    const phase = this.forced ?? this.phase;
    const pids = tree(this.browserPid);
    const renderer = Math.max(0, rss(renderers(pids)) - this.base);
    const gpu = Math.max(this.gpu, this.last?.live ?? 0);
    const p = (this.phases[phase] ??= { peakBytes: 0, rendererBytes: 0, gpuBytes: 0, ms: 0, samples: 0 });
    p.samples++;
    p.ms += performance.now() - since;
    const gpuProcessBytes = rss(gpuProcesses(pids));
    this.series.push({
      s: (performance.now() - this.t0) / 1000,
      phase,
      rendererBytes: renderer,
      gpuBytes: gpu,
      gpuProcessBytes,
      wasmBytes: this.last?.wasmBytes ?? 0,
    });
    if (renderer + gpu > p.peakBytes)
      Object.assign(p, { peakBytes: renderer + gpu, rendererBytes: renderer, gpuBytes: gpu });
  }

  /** Stops sampling (after one last sample) and reports. */
  async stop(): Promise<MeterReport> {
    this.stopping = true;
    await this.running;
    for (const p of Object.values(this.phases)) p.ms = Math.round(p.ms);
    let peak: { phase: Phase | null; p: PhasePeak | null } = { phase: null, p: null };
    for (const phase of PHASES) {
      const p = this.phases[phase];
      if (p && (!peak.p || p.peakBytes > peak.p.peakBytes)) peak = { phase, p };
    }
    return {
      peakBytes: peak.p?.peakBytes ?? 0,
      peakPhase: peak.phase,
      rendererBytes: peak.p?.rendererBytes ?? 0,
      gpuBytes: peak.p?.gpuBytes ?? 0,
      phases: this.phases,
      ledger: this.last,
    };
  }
}
