/**
 * Where to run, as one typed preference.  Three things decide it, each stored or given where it always was:
 *
 * - the stored *Where to transcribe* (`where`: automatic, only on this device, or the server; routing-settings.ts),
 *   which alone can keep audio on this device and which no link weakens;
 * - the backend menu (the planner's choice, one on-device backend, or the server), remembered with the last model
 *   (remembered-model.ts) and set for one page load by a link's `engine=`;
 * - a link's `where=`, for this page load only.
 *
 * `RunPreference` reads all three and answers the two questions a load or a job asks: where the audio may go (the
 * worker's `RoutingSettings`) and which on-device backend to ask the planner for.  Nothing a link set is ever
 * remembered; Settings → Where to transcribe drops the link's overrides.
 */
import type { BackendChoice, RoutingSettings, Where } from '../../core/protocol.ts';
import type { PageParams } from './page-params.ts';
import { loadRouting, saveRouting, toRouting } from './routing-settings.ts';

/** The backend menu: the planner's choice, one on-device backend, or the server. */
export type BackendMenu = BackendChoice | 'server';

/** The stored *Where to transcribe* is *Only on this device* (nothing but Settings changes that). */
export function deviceOnly(): boolean {
  return loadRouting().where === 'device';
}

export class RunPreference {
  /** The backend menu as Settings shows it (the link's `engine=` for this load, else the remembered one). */
  backend: BackendMenu;
  /** The backend menu's value came from the link (this load only: not remembered). */
  private backendFromLink = false;
  /** The link's `where=` (this load only), until Settings → Where to transcribe is saved. */
  private whereFromLink: Where | null;

  constructor(
    /** The backend menu remembered from the user's own last load. */
    private remembered: BackendMenu,
    link: Pick<PageParams, 'backend' | 'where'>,
  ) {
    this.backend = remembered;
    if (link.backend) {
      this.backend = link.backend;
      this.backendFromLink = true;
    }
    this.whereFromLink = link.where ?? null;
  }

  /** The link asked for the server while the stored setting keeps audio on this device (the link gives way). */
  static linkAsksServerOverDeviceOnly(link: Pick<PageParams, 'backend' | 'where'>): boolean {
    const onDeviceBackend = link.backend === 'webgpu' || link.backend === 'wasm';
    const serverAsked = link.backend === 'server' || (link.where === 'server' && !onDeviceBackend);
    return serverAsked && deviceOnly();
  }

  /** The user picked in Settings' backend menu: theirs from now on. */
  choose(backend: BackendMenu): void {
    this.backend = backend;
    this.backendFromLink = false;
  }

  /**
   * The routing for a load or a job.  A stored *Only on this device* is final (only Settings changes it): no backend
   * menu and no link routes audio elsewhere, and the worker is not even told a server's address.  Otherwise the
   * backend menu, else the link's `where=`, else the stored setting.
   */
  routing(): Promise<RoutingSettings> {
    const stored = loadRouting();
    const backend = this.backend;
    const where: Where =
      stored.where === 'device'
        ? 'device'
        : backend === 'server'
          ? 'server'
          : backend === 'webgpu' || backend === 'wasm'
            ? 'device'
            : (this.whereFromLink ?? stored.where);
    return toRouting(stored, where);
  }

  /** The on-device backend a load asks for (the server menu entry means the planner's choice on the device side). */
  get deviceBackend(): BackendChoice {
    return this.backend === 'server' ? 'auto' : this.backend;
  }

  /** The backend menu to remember after a load succeeded: the user's own, never the link's. */
  get toRemember(): BackendMenu {
    return this.backendFromLink ? this.remembered : this.backend;
  }

  /** A load with these choices succeeded: what the next visit opens with. */
  remember(backend: BackendMenu): void {
    this.remembered = backend;
  }

  /** Settings → Where to transcribe was saved: the link's per-load routing (`engine=`, `where=`) gives way to it. */
  dropLinkOverrides(): void {
    this.whereFromLink = null;
    if (this.backendFromLink) {
      this.backend = this.remembered;
      this.backendFromLink = false;
    }
  }

  /** The user declined the server: on this device only, remembered in *Where to transcribe*. */
  keepOnDevice(): void {
    saveRouting({ ...loadRouting(), where: 'device' });
    this.whereFromLink = null;
    if (this.backend === 'server') {
      this.backend = 'auto';
      this.backendFromLink = false;
    }
  }
}
