/**
 * The test knobs: URL parameters that bend the app so tests can reach states a user's device rarely shows (a token
 * cap, a full disk, a lost GPU, an AudioContext rate).  The one place they are read.
 *
 * They exist only in a test build (`vite build --mode test`, where vite.config.ts defines `__TEST_BUILD__` as true).
 * In the production build `__TEST_BUILD__` is the literal `false`: the parser below is dead code the bundler
 * removes, so no link can truncate every transcript, fake a full disk or change how audio is captured.  Parsed once
 * per page load; the page keeps `contextRate` and hands the rest to the ASR worker in one message.
 *
 *   maxNewTokens=N        per-window token cap of file jobs
 *   libraryQuotaAfter=N   the library's audio writes fail as on a full disk after N bytes
 *   quotaAfterBytes=N     the model store's writes fail as on a full disk after N bytes of a load
 *   contextRate=N         open the AudioContext at N Hz (8000..192000) instead of the device's rate
 *   loseGpuAfterWindows=N destroy the GPU device after N WebGPU windows of a job
 *   warmUpTimeoutMs=N     time limit of the WebGPU warm-up
 *   storage=memory        model loads keep the weights in memory only
 *   chunkKiB=N            KiB per stored model record
 *   graphs=one            on-device loads keep one graph at a time (the low-memory mode: a job encodes every window
 *                         with the audio encoder alone, then decodes them with the embedding and decoder alone)
 */
import type { WorkerKnobs } from '../core/protocol.ts';

export interface Knobs extends WorkerKnobs {
  /** The AudioContext's rate instead of the device's (the page's own knob). */
  contextRate?: number;
}

/** A whole number in [min, max], else undefined (a knob with a bad value is not set). */
function whole(params: URLSearchParams, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw.trim() === '') return undefined;
  const value = Number(raw);
  return Number.isInteger(value) && value >= min && value <= max ? value : undefined;
}

/** The knobs a URL's query sets (every knob absent or well-formed; anything else is left unset). */
export function parseKnobs(search: string): Knobs {
  const params = new URLSearchParams(search);
  const knobs: Knobs = {};
  const set = <K extends keyof Knobs>(key: K, value: Knobs[K] | undefined) => {
    if (value !== undefined) knobs[key] = value;
  };
  set('maxNewTokens', whole(params, 'maxNewTokens', 1));
  set('libraryQuotaAfterBytes', whole(params, 'libraryQuotaAfter', 0));
  set('quotaAfterBytes', whole(params, 'quotaAfterBytes', 0));
  set('contextRate', whole(params, 'contextRate', 8000, 192_000));
  set('loseGpuAfterWindows', whole(params, 'loseGpuAfterWindows', 1));
  set('warmUpTimeoutMs', whole(params, 'warmUpTimeoutMs', 1));
  if (params.get('storage') === 'memory') knobs.storage = 'memory';
  if (params.get('graphs') === 'one') knobs.graphs = 'one-at-a-time';
  const chunkKiB = whole(params, 'chunkKiB', 1, 1024 * 1024);
  if (chunkKiB !== undefined) knobs.chunkBytes = chunkKiB * 1024;
  return knobs;
}

/** This page load's knobs: none outside a test build. */
export const knobs: Readonly<Knobs> =
  // `typeof`: Node (the unit tests) has no Vite define; the bundler folds this to `false` in production.
  typeof __TEST_BUILD__ !== 'undefined' && __TEST_BUILD__
    ? parseKnobs((globalThis as { location?: { search: string } }).location?.search ?? '')
    : {};

/** What the worker applies (everything but the page's own `contextRate`). */
export function workerKnobs(all: Readonly<Knobs> = knobs): WorkerKnobs {
  const { contextRate: _page, ...rest } = all;
  return rest;
}
