/**
 * The model the next visit opens with: the address and backend menu of the last load the user chose in the app
 * (Settings, a served model's *Use*, the first-run *Download*), never what a link set.  Stored in localStorage
 * under `glm-asr.model` as `{ url, engine }` (`engine` is the backend menu's value; the stored shape stays as it
 * always was so earlier visits' choices still open).
 */
import { modelAddress } from './page-params.ts';
import type { BackendMenu } from './run-preference.ts';

const LAST_KEY = 'glm-asr.model';

export interface RememberedModel {
  url: string;
  backend: BackendMenu;
}

export function loadRememberedModel(): RememberedModel | null {
  try {
    const raw = JSON.parse(localStorage.getItem(LAST_KEY) ?? 'null') as { url?: unknown; engine?: unknown } | null;
    // Anything but an http(s) address (an old or edited value) is no model to open with.
    if (!raw || typeof raw.url !== 'string' || !modelAddress(raw.url, location.href)) return null;
    const backend = raw.engine;
    return {
      url: raw.url,
      backend: backend === 'webgpu' || backend === 'wasm' || backend === 'server' ? backend : 'auto',
    };
  } catch {
    return null;
  }
}

export function saveRememberedModel(last: RememberedModel): void {
  try {
    localStorage.setItem(LAST_KEY, JSON.stringify({ url: last.url, engine: last.backend }));
  } catch {
    /* storage refused: the next visit starts from the defaults */
  }
}
