/**
 * The page's own URL parameters (a shared link or a test): `?model=<url>`, `&variant=<name|auto>`,
 * `&engine=<auto|webgpu|wasm|server>`, `&where=<auto|device|server>`.  They apply to this page load only: nothing
 * here is ever stored (ModelChoice remembers only what the user chose in the app), and they never weaken a stored
 * *Only on this device*.  A model on another origin is not loaded until the user agrees in the app.
 */
import type { Variant } from '../../core/asr/contract.ts';
import { VARIANTS, type BackendChoice, type Where } from '../../core/protocol.ts';

export interface PageParams {
  /** `?model=`, resolved against the page; `crossOrigin`: served from another origin than the page's. */
  model?: { url: string; crossOrigin: boolean };
  variant?: Variant | 'auto';
  /** The link's `engine=`: the backend menu's value (an on-device backend, the planner's choice, or the server). */
  backend?: BackendChoice | 'server';
  where?: Where;
  /** What the link asked that could not be honoured, one sentence each (shown to the user). */
  problems: string[];
}

/** The longest model address a link may carry (a hub URL is about 100 characters). */
const MAX_MODEL_URL = 2048;

/** An http(s) URL for a model directory, resolved against `page`; null for anything else. */
export function modelAddress(raw: string, page: string): URL | null {
  if (raw.length > MAX_MODEL_URL) return null;
  try {
    const url = new URL(raw, page);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    // Credentials in a link would be sent with every model request, unseen by the user.
    if (url.username || url.password) return null;
    // This origin's API is never a model: a link must not make the page reach /v1/ (a standing device-only choice
    // promises that nothing does).
    if (url.origin === new URL(page).origin && /^\/v1(\/|$)/i.test(url.pathname)) return null;
    return url;
  } catch {
    return null;
  }
}

/** `search` (location.search) read against the page's address `page` (location.href). */
export function parsePageParams(search: string, page: string): PageParams {
  const params = new URLSearchParams(search);
  const out: PageParams = { problems: [] };
  const variant = params.get('variant');
  if (variant !== null) {
    // The list itself, not `in` on an object: "constructor" is no variant.
    if (variant === 'auto' || (VARIANTS as string[]).includes(variant)) out.variant = variant as Variant | 'auto';
    else out.problems.push(`The link's variant "${variant.slice(0, 40)}" is not one this app knows; it was ignored.`);
  }
  // The parameter keeps its name `engine` (links in the wild carry it); its value is a backend.
  const backend = params.get('engine');
  if (backend !== null) {
    if (backend === 'auto' || backend === 'webgpu' || backend === 'wasm' || backend === 'server') out.backend = backend;
    else out.problems.push(`The link's engine "${backend.slice(0, 40)}" is not one this app knows; it was ignored.`);
  }
  const where = params.get('where');
  if (where !== null) {
    if (where === 'auto' || where === 'device' || where === 'server') out.where = where;
    else
      out.problems.push(`The link's "where" value "${where.slice(0, 40)}" is not one this app knows; it was ignored.`);
  }
  const model = params.get('model');
  if (model) {
    const url = modelAddress(model, page);
    const crossOrigin = url !== null && url.origin !== new URL(page).origin;
    // This origin's model keeps the address as written (Settings shows it so); another origin's, resolved.
    if (url) out.model = { url: crossOrigin ? url.href : model, crossOrigin };
    else
      out.problems.push(
        "The link's model address is not one the app can load (an http:// or https:// address of a model folder); it was ignored.",
      );
  }
  return out;
}
