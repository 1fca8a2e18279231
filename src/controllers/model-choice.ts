/**
 * Which model the app loads and how: its URL, the variant, the engine menu, where to transcribe (routing, consent),
 * the test knobs from the page's URL, and the load itself.  Owned by the app and shared by the first-run card (its
 * *Download*), Settings (URL, variant, engine) and the file panel (routing and token cap per job); each of them
 * re-renders through `ChoiceUpdates` when anything here changes.
 *
 * URL parameters: `?model=<url>` (loads at once), `&variant=<name|auto>`, `&engine=<auto|webgpu|wasm|server>`,
 * `&where=<auto|device|server>`; test knobs `maxNewTokens`, `loseGpuAfterWindows`, `warmUpTimeoutMs`,
 * `storage=memory`, `chunkKiB`, `quotaAfterBytes`.
 */
import type { ReactiveControllerHost } from 'lit';
import { UpdatesFrom } from './updates.ts';
import type { Variant } from '../../workers/asr/contract.ts';
import type { ModelObject } from '../../workers/asr/openai-api.ts';
import {
  isVariant,
  type EngineChoice,
  type RoutingSettings,
  type StorageMode,
  type Where,
} from '../../workers/protocol.ts';
import { loadRouting, saveRouting, toRouting } from '../lib/routing-settings.ts';
import type { EngineController } from './engine-controller.ts';

/** The app's built-in model location (the server's default model). */
export const DEFAULT_MODEL_URL = 'models/glm-asr-nano-2512/';

export type EngineMenu = EngineChoice | 'server';

const LAST_KEY = 'glm-asr.model';

/** The model last loaded in this browser (its address and engine menu), so the next visit opens with it. */
function loadLast(): { url: string; engine: EngineMenu } | null {
  try {
    const raw = JSON.parse(localStorage.getItem(LAST_KEY) ?? 'null') as { url?: unknown; engine?: unknown } | null;
    if (!raw || typeof raw.url !== 'string' || !raw.url) return null;
    const engine = raw.engine;
    return {
      url: raw.url,
      engine: engine === 'webgpu' || engine === 'wasm' || engine === 'server' ? engine : 'auto',
    };
  } catch {
    return null;
  }
}

export class ModelChoice {
  modelUrl = DEFAULT_MODEL_URL;
  variant: Variant | 'auto' = 'auto';
  /** The engine menu: the planner's choice, one on-device engine, or the server. */
  engineChoice: EngineMenu = 'auto';
  /** The server a load needs permission for (CONSENT_REQUIRED), to name it in the prompt. */
  consentUrl = '';
  /** The models this app's server serves (from the model card), once listed. */
  served: ModelObject[] = [];
  /** Per-window token cap from `?maxNewTokens=` (tests compare with goldens decoded under a cap). */
  readonly maxNewTokens: number | undefined;
  /** `?model=` was given: load at once (a shared link or a test). */
  readonly autoLoad: boolean;

  private whereParam: Where | null = null;
  private readonly routingKnobs: Pick<RoutingSettings, 'warmUpTimeoutMs' | 'loseGpuAfterWindows'> = {};
  private readonly storageMode: StorageMode = 'store';
  private readonly chunkBytes: number | undefined;
  private readonly quotaAfterBytes: number | undefined;
  /** The routing settings changed while a load or a job ran: reload once it ends. */
  private reloadPending = false;
  /** What is using the model now (a file job, a dictation): a reload waits until none is. */
  private readonly holds = new Set<string>();
  /** The load in flight (a second request joins it instead of starting another). */
  private loading: Promise<void> | null = null;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly engine: EngineController,
    search: string = location.search,
  ) {
    const params = new URLSearchParams(search);
    const variant = params.get('variant');
    if (variant === 'auto' || isVariant(variant)) this.variant = variant;
    const engineParam = params.get('engine');
    if (engineParam === 'webgpu' || engineParam === 'wasm' || engineParam === 'auto' || engineParam === 'server')
      this.engineChoice = engineParam;
    const cap = Number(params.get('maxNewTokens'));
    this.maxNewTokens = Number.isInteger(cap) && cap > 0 ? cap : undefined;
    const where = params.get('where');
    if (where === 'auto' || where === 'device' || where === 'server') this.whereParam = where;
    const lose = Number(params.get('loseGpuAfterWindows'));
    if (Number.isInteger(lose) && lose > 0) this.routingKnobs.loseGpuAfterWindows = lose;
    const warmUp = Number(params.get('warmUpTimeoutMs'));
    if (warmUp > 0) this.routingKnobs.warmUpTimeoutMs = warmUp;
    if (params.get('storage') === 'memory') this.storageMode = 'memory';
    const chunkKiB = Number(params.get('chunkKiB'));
    this.chunkBytes = chunkKiB > 0 ? chunkKiB * 1024 : undefined;
    const quota = params.get('quotaAfterBytes');
    this.quotaAfterBytes = quota !== null && Number.isFinite(Number(quota)) ? Number(quota) : undefined;
    const model = params.get('model');
    if (model) this.modelUrl = model;
    this.autoLoad = !!model;
    const last = model ? null : loadLast();
    if (last) {
      this.modelUrl = last.url;
      if (!engineParam) this.engineChoice = last.engine;
    }
  }

  /** A load is in flight (from any button or by itself). */
  get busy(): boolean {
    return this.loading !== null;
  }

  /** Something uses the model (`true`) or stopped using it: a pending reload waits for all of them. */
  hold(name: string, on: boolean): void {
    const had = this.holds.has(name);
    if (on === had) return;
    if (on) this.holds.add(name);
    else this.holds.delete(name);
    this.reloadIfPending();
    this.changed();
  }

  get held(): boolean {
    return this.holds.size > 0;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  set(patch: Partial<Pick<ModelChoice, 'modelUrl' | 'variant' | 'engineChoice'>>): void {
    Object.assign(this, patch);
    this.changed();
  }

  /** The routing for a load or a job: the engine menu, else `?where=`, else the stored setting. */
  async routing(): Promise<RoutingSettings> {
    const choice = this.engineChoice;
    const where: Where =
      choice === 'server'
        ? 'server'
        : choice === 'webgpu' || choice === 'wasm'
          ? 'device'
          : (this.whereParam ?? loadRouting().where);
    return { ...(await toRouting(loadRouting(), where)), ...this.routingKnobs };
  }

  /**
   * Load the chosen model (`storage` 'memory': without saving it; `ifStored`: only what this browser already holds,
   * failing with NOT_STORED instead of downloading).  Progress and errors are on the engine.  A load already in
   * flight is joined, not doubled.
   */
  load(storage: StorageMode = this.storageMode, ifStored = false): Promise<void> {
    this.loading ??= this.doLoad(storage, ifStored).finally(() => {
      this.loading = null;
      this.changed();
      this.reloadIfPending();
    });
    this.changed();
    return this.loading;
  }

  private async doLoad(storage: StorageMode, ifStored: boolean): Promise<void> {
    const routing = await this.routing();
    this.consentUrl = routing.server?.url ?? '';
    this.changed();
    try {
      await this.engine.loadModel(
        this.modelUrl,
        this.variant,
        this.engineChoice === 'server' ? 'auto' : this.engineChoice,
        {
          storage,
          ...(this.chunkBytes ? { chunkBytes: this.chunkBytes } : {}),
          ...(this.quotaAfterBytes !== undefined ? { quotaAfterBytes: this.quotaAfterBytes } : {}),
          ...(ifStored ? { ifStored } : {}),
        },
        routing,
      );
      try {
        localStorage.setItem(LAST_KEY, JSON.stringify({ url: this.modelUrl, engine: this.engineChoice }));
      } catch {
        /* storage refused: the next visit starts from the defaults */
      }
    } catch {
      /* shown from engine.modelError */
    }
  }

  /** Reload with the current settings when a model was loaded or failed (after the routing settings changed). */
  reloadWithSettings(): void {
    if (this.engine.modelState === 'none') return;
    this.reloadPending = true;
    this.changed();
    this.reloadIfPending();
  }

  /** Settings' *Load/Reload with these choices*: now, or once the model's current work ends. */
  apply(): void {
    if (this.engine.modelState === 'none' || this.engine.modelState === 'error') void this.load();
    else this.reloadWithSettings();
  }

  /** A reload waits for the model's current work (Settings says so). */
  get reloadWaiting(): boolean {
    return this.reloadPending;
  }

  private reloadIfPending(): void {
    if (!this.reloadPending || this.held || this.loading || this.engine.modelState === 'loading') return;
    this.reloadPending = false;
    void this.load();
  }

  /** The user allowed audio to go to `url`: remember it and load again. */
  allowServer(url: string): void {
    const settings = loadRouting();
    if (!settings.consented.includes(url)) saveRouting({ ...settings, consented: [...settings.consented, url] });
    this.consentUrl = '';
    void this.load();
  }

  /** The user declined the server: on this device only (remembered), and load again. */
  keepOnDevice(): void {
    saveRouting({ ...loadRouting(), where: 'device' });
    this.whereParam = null;
    if (this.engineChoice === 'server') this.engineChoice = 'auto';
    this.consentUrl = '';
    void this.load();
  }

  /** The served models arrived: the built-in default URL gives way to the first of them when it is not served. */
  setServed(models: ModelObject[]): void {
    this.served = models;
    const urls = models.map((m) => m.glmasr!.url);
    const current = new URL(this.modelUrl, location.href).pathname;
    // Only before anything was loaded or asked for: the address must keep naming the model that is loaded.
    const untouched = this.engine.modelState === 'none' && !this.loading;
    if (untouched && this.modelUrl === DEFAULT_MODEL_URL && urls.length && !urls.includes(current))
      this.modelUrl = urls[0]!;
    this.changed();
  }

  /** The served model the current URL names, if any. */
  get servedModel(): ModelObject | null {
    const current = new URL(this.modelUrl, location.href).pathname;
    return this.served.find((m) => m.glmasr!.url === current) ?? null;
  }

  /** *Use* on a served model: load it, the variant chosen by the planner for this device. */
  use(url: string): void {
    this.modelUrl = url;
    this.variant = 'auto';
    void this.load();
  }
}

/** Re-render a component that is handed the app's ModelChoice whenever it changes. */
export class ChoiceUpdates extends UpdatesFrom<ModelChoice> {
  constructor(host: ReactiveControllerHost, current: () => ModelChoice | undefined) {
    super(host, current, (choice, onChange) => choice.subscribe(onChange));
  }
}
