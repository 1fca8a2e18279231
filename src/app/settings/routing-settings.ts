/**
 * *Where to transcribe*, persisted in localStorage: Automatic / Only on this device / Server, the server's API root
 * and key, and the server URLs the user agreed to send audio to (asked once per URL).  The default server is this
 * origin's `/v1` when the page comes from the app's own server (its `/healthz` says so: no request to `/v1/` is
 * needed to find out), otherwise none.
 */
import type { RoutingSettings, Where } from '../../core/protocol.ts';

const KEY = 'glm-asr.routing';

export interface StoredRouting {
  where: Where;
  /** '' = the default (this origin's API when it has one). */
  serverUrl: string;
  apiKey: string;
  /** Normalised server URLs the user allowed audio to go to. */
  consented: string[];
}

const DEFAULTS: StoredRouting = { where: 'auto', serverUrl: '', apiKey: '', consented: [] };

/** An absolute http(s) URL without a trailing slash; a path alone means this origin; anything else: ''. */
export function normaliseServerUrl(url: string): string {
  const trimmed = url.trim();
  if (!trimmed) return '';
  try {
    // "example.org/v1" is not a path on this origin: only "/…" is.
    const u = trimmed.startsWith('/') ? new URL(trimmed, location.href) : new URL(trimmed);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return '';
    return u.href.replace(/\/+$/, '');
  } catch {
    return '';
  }
}

export function loadRouting(): StoredRouting {
  try {
    const raw = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Partial<StoredRouting> | null;
    if (!raw || typeof raw !== 'object') return { ...DEFAULTS };
    return {
      where: raw.where === 'device' || raw.where === 'server' ? raw.where : 'auto',
      serverUrl: typeof raw.serverUrl === 'string' ? raw.serverUrl : '',
      apiKey: typeof raw.apiKey === 'string' ? raw.apiKey : '',
      consented: Array.isArray(raw.consented) ? raw.consented.filter((u) => typeof u === 'string') : [],
    };
  } catch {
    return { ...DEFAULTS };
  }
}

export function saveRouting(settings: StoredRouting): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(settings));
  } catch {
    /* storage disabled: the settings last for this page */
  }
}

let originApi: Promise<string> | null = null;

/** This origin's API root when the app's own server serves the page, else ''. */
export function originServerUrl(): Promise<string> {
  originApi ??= fetch(new URL('/healthz', location.href), { cache: 'no-store' })
    .then(async (res) => {
      if (!res.ok) return '';
      const body = (await res.json()) as { ok?: unknown; api?: unknown };
      if (body.ok !== true) return '';
      return normaliseServerUrl(typeof body.api === 'string' ? body.api : '/v1');
    })
    .catch(() => '');
  return originApi;
}

/** The server the settings point to: the typed URL, else this origin's API, else none. */
export async function effectiveServerUrl(settings: StoredRouting): Promise<string> {
  return normaliseServerUrl(settings.serverUrl) || (await originServerUrl());
}

/** The worker's routing settings (`where` may be overridden by the page URL, e.g. `?engine=server`). */
export async function toRouting(settings: StoredRouting, where: Where = settings.where): Promise<RoutingSettings> {
  const url = where === 'device' ? '' : await effectiveServerUrl(settings);
  return {
    where,
    server: url
      ? { url, consented: settings.consented.includes(url), ...(settings.apiKey ? { apiKey: settings.apiKey } : {}) }
      : null,
  };
}
