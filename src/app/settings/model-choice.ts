/**
 * Which model the app loads and how: its URL, the variant, where to run (`run`: the backend menu and routing, see
 * run-preference.ts), consent, and the load itself.  Owned by the app and shared by the first-run card (its
 * *Download*), Settings (URL, variant, backend) and the file panel (routing per job); each of them re-renders
 * through `ChoiceUpdates` when anything here changes.
 *
 * The page's URL parameters (page-params.ts) apply to this page load only: what is remembered for the next visit is
 * only what the user chose in the app (remembered-model.ts), and a stored *Only on this device* wins over any
 * `engine` or `where` parameter.  A `?model=` on another origin waits for the user's yes (`pendingModel`) before
 * anything is fetched from it.
 */
import type { ReactiveControllerHost } from 'lit';
import { Listeners, UpdatesFrom } from '../shared/updates.ts';
import type { Variant } from '../../core/asr/contract.ts';
import type { ModelObject, PreparingStatus } from '../../core/remote/openai-api.ts';
import type { RoutingSettings, StorageMode } from '../../core/protocol.ts';
import { parsePageParams } from './page-params.ts';
import { loadRouting, saveRouting } from './routing-settings.ts';
import { loadRememberedModel, saveRememberedModel } from './remembered-model.ts';
import { RunPreference, type BackendMenu } from './run-preference.ts';
import type { WorkerClient } from '../worker-client.ts';

/** The app's built-in model location (the server's default model). */
export const DEFAULT_MODEL_URL = 'models/glm-asr-nano-2512/';

export class ModelChoice {
  modelUrl = DEFAULT_MODEL_URL;
  variant: Variant | 'auto' = 'auto';
  /** Where to run: the backend menu, the link's per-load routing, the stored *Where to transcribe*. */
  readonly run: RunPreference;
  /** The server a load needs permission for (CONSENT_REQUIRED), to name it in the prompt. */
  consentUrl = '';
  /** The models this app's server serves (from the model card), once listed. */
  served: ModelObject[] = [];
  /** What the server says about its first-start preparation while it serves no model (null: nothing said). */
  serverPreparing: PreparingStatus | null = null;
  /** The server answered the model list (false: not this app's server, or it wants a key). */
  serverListed = false;
  /** A `?model=` was given on this origin: load at once (a shared link or a test). */
  readonly autoLoad: boolean;
  /** A `?model=` on another origin, waiting for the user's yes or no (nothing is fetched from it before). */
  pendingModel: string | null = null;
  /** What this page's link asked that was not done (bad values, a server route over *Only on this device*). */
  readonly linkNotes: string[] = [];

  /** The model address the next visit opens with: changed only by the user's own choices, never by a link. */
  private rememberedUrl: string;
  /** The model address came from the URL (this load only: not remembered). */
  private modelFromUrl = false;
  /** The routing settings changed while a load or a job ran: reload once it ends. */
  private reloadPending = false;
  /** What is using the model now (a file job, a dictation): a reload waits until none is. */
  private readonly holds = new Set<string>();
  /** The load in flight (a second request joins it instead of starting another). */
  private loading: Promise<void> | null = null;
  private readonly listeners = new Listeners();

  constructor(
    private readonly client: WorkerClient,
    search: string = location.search,
  ) {
    const params = parsePageParams(search, location.href);
    this.linkNotes.push(...params.problems);
    const remembered = loadRememberedModel() ?? { url: DEFAULT_MODEL_URL, backend: 'auto' };
    this.rememberedUrl = remembered.url;
    this.modelUrl = remembered.url;
    this.run = new RunPreference(remembered.backend, params);
    if (params.variant) this.variant = params.variant;
    if (RunPreference.linkAsksServerOverDeviceOnly(params))
      this.linkNotes.push(
        'This link asked to transcribe on a server; your setting keeps audio on this device (Settings → Where to transcribe).',
      );
    const model = params.model;
    if (model?.crossOrigin) this.pendingModel = model.url;
    else if (model) {
      this.modelUrl = model.url;
      this.modelFromUrl = true;
    }
    this.autoLoad = !!model && !model.crossOrigin;
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
    return this.listeners.add(listener);
  }

  private changed(): void {
    this.listeners.emit();
  }

  /** Settings' own changes: these are the user's choices, remembered once a load with them succeeds. */
  set(patch: { modelUrl?: string; variant?: Variant | 'auto'; backend?: BackendMenu }): void {
    if (patch.modelUrl !== undefined) {
      this.modelUrl = patch.modelUrl;
      this.modelFromUrl = false;
    }
    if (patch.variant !== undefined) this.variant = patch.variant;
    if (patch.backend !== undefined) this.run.choose(patch.backend);
    this.changed();
  }

  /** The routing for a load or a job (see `RunPreference.routing`). */
  routing(): Promise<RoutingSettings> {
    return this.run.routing();
  }

  /** Settings → Where to transcribe was saved: the link's per-load routing (`engine`, `where`) gives way to it. */
  dropRoutingOverrides(): void {
    this.run.dropLinkOverrides();
    this.changed();
  }

  /** The user's answer about the link's model on another origin: load it for this page (never remembered), or not. */
  answerPendingModel(load: boolean): void {
    const url = this.pendingModel;
    this.pendingModel = null;
    if (url && load) {
      this.modelUrl = url;
      this.modelFromUrl = true;
      void this.load();
    }
    this.changed();
  }

  /**
   * Load the chosen model (`storage` 'memory': without saving it; `ifStored`: only what this browser already holds,
   * failing with NOT_STORED instead of downloading).  Progress and errors are on the worker client.  A load already in
   * flight is joined, not doubled.
   */
  load(storage: StorageMode = 'store', ifStored = false): Promise<void> {
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
      await this.client.loadModel(
        this.modelUrl,
        this.variant,
        this.run.deviceBackend,
        { storage, ...(ifStored ? { ifStored } : {}) },
        routing,
      );
      // Remember the user's own choices only: what a link set applies to this page load alone.
      if (!this.modelFromUrl) this.rememberedUrl = this.modelUrl;
      const backend = this.run.toRemember;
      this.run.remember(backend);
      saveRememberedModel({ url: this.rememberedUrl, backend });
    } catch {
      /* shown from the worker client's modelError */
    }
  }

  /** Reload with the current settings when a model was loaded or failed (after the routing settings changed). */
  reloadWithSettings(): void {
    if (this.client.modelState === 'none') return;
    this.reloadPending = true;
    this.changed();
    this.reloadIfPending();
  }

  /** Settings' *Load/Reload with these choices*: now, or once the model's current work ends. */
  apply(): void {
    if (this.client.modelState === 'none' || this.client.modelState === 'error') void this.load();
    else this.reloadWithSettings();
  }

  /** A reload waits for the model's current work (Settings says so). */
  get reloadWaiting(): boolean {
    return this.reloadPending;
  }

  private reloadIfPending(): void {
    if (!this.reloadPending || this.held || this.loading || this.client.modelState === 'loading') return;
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
    this.run.keepOnDevice();
    this.consentUrl = '';
    void this.load();
  }

  /** The model address resolved against the page ('' when it is not a URL: typed in Settings, or a stored value). */
  get modelHref(): string {
    try {
      return new URL(this.modelUrl, location.href).href;
    } catch {
      return '';
    }
  }

  /** The model address is on this page's origin (the app's own server's models, or its default). */
  get sameOrigin(): boolean {
    const href = this.modelHref;
    return href !== '' && new URL(href).origin === location.origin;
  }

  /**
   * This server has no model and none is coming (its first start could not get one, or was told not to), and the
   * chosen model is this server's: a *Download* could only fail.
   */
  get serverHasNoModel(): boolean {
    const p = this.serverPreparing;
    return this.serverListed && this.served.length === 0 && p !== null && this.sameOrigin;
  }

  /** The served models (and the server's preparation status) arrived: the built-in default URL gives way to the
   *  first served model when it is not served. */
  setServed(models: ModelObject[], preparing: PreparingStatus | null = null): void {
    this.served = models;
    this.serverPreparing = preparing;
    this.serverListed = true;
    const urls = models.map((m) => m.glmasr!.url);
    const current = this.modelHref && new URL(this.modelHref).pathname;
    // Only before anything was loaded or asked for: the address must keep naming the model that is loaded.
    const untouched = this.client.modelState === 'none' && !this.loading;
    if (untouched && this.modelUrl === DEFAULT_MODEL_URL && urls.length && !urls.includes(current))
      this.modelUrl = urls[0]!;
    this.changed();
  }

  /** The served model the current URL names, if any. */
  get servedModel(): ModelObject | null {
    if (!this.sameOrigin) return null;
    const current = new URL(this.modelHref).pathname;
    return this.served.find((m) => m.glmasr!.url === current) ?? null;
  }

  /** *Use* on a served model: load it, the variant chosen by the planner for this device. */
  use(url: string): void {
    this.modelUrl = url;
    this.modelFromUrl = false;
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
