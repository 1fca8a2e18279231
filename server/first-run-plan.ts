/**
 * The first start's plan (server/first-run.ts): where the checkpoint comes from and how big it is.  A checkpoint
 * directory is measured on disk; a hub id is probed (its files' sizes, the commit `main` points to) and, when the hub
 * cannot be reached, found in the hub cache if it was downloaded before.  Also the small helpers both use.
 */
import { existsSync, readFileSync, readdirSync, statSync, statfsSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, resolve } from 'node:path';

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;
const HUB_PATTERNS = [/\.json$/, /\.safetensors$/, /\.jinja$/, /\.txt$/];

export interface PlanOptions {
  /** `--model-source`: directory or `owner/name[@revision]`. */
  source: string;
  /** Hub endpoint (HF_ENDPOINT) and how long to wait for it. */
  hubEndpoint?: string;
  hubTimeoutMs?: number;
}

export interface Plan {
  source: string;
  revision: string | null;
  hub: boolean;
  /** Bytes to download (0: local or cached). */
  download: number;
  checkpointBytes: number;
  id: string;
  offline: boolean;
}

export function dirBytes(dir: string): number {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = resolve(dir, e.name);
    try {
      if (e.isDirectory()) total += dirBytes(p);
      else if (e.isFile()) total += statSync(p).size;
    } catch {
      // renamed or removed meanwhile (the hub's *.incomplete files): not counted
    }
  }
  return total;
}

export function gb(bytes: number): string {
  return `${(bytes / 1e9).toFixed(bytes < 1e9 ? 2 : 1)} GB`;
}

export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s >= 3600
    ? `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
    : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Free bytes on the filesystem that holds `path` (or its nearest existing parent). */
export function freeBytes(path: string): number {
  let p = resolve(path);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  const s = statfsSync(p);
  return s.bavail * s.bsize;
}

export function hubCache(): string {
  return (
    process.env['HF_HUB_CACHE'] ?? resolve(process.env['HF_HOME'] ?? resolve(homedir(), '.cache/huggingface'), 'hub')
  );
}

/** The directory name a source converts into: the checkpoint's name, lower case. */
export function modelIdFor(source: string): string {
  const name = basename(source.replace(/@[^/]*$/, '').replace(/\/+$/, ''));
  return name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-') || 'model';
}

/** A shell word: as is when safe, else single-quoted. */
export function quote(word: string): string {
  return /^[\w./@:=+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A public path as a shell word: `~/` stays outside the quotes so the shell expands it. */
export function shellPath(p: string): string {
  return p.startsWith('~/') ? `~/${quote(p.slice(2))}` : quote(p);
}

export async function planSource(o: PlanOptions): Promise<Plan> {
  const raw = o.source;
  const id = modelIdFor(raw);
  const local = resolve(raw.replace(/^~(?=\/)/, homedir()));
  if (existsSync(local)) {
    if (!statSync(local).isDirectory() || !existsSync(resolve(local, 'config.json')))
      throw new Error(`--model-source ${raw} is not a checkpoint directory (it has no config.json).`);
    return {
      source: local,
      revision: null,
      hub: false,
      download: 0,
      checkpointBytes: dirBytes(local),
      id,
      offline: false,
    };
  }
  const [repo, revision] = raw.split(/@(?=[^/]*$)/) as [string, string | undefined];
  if (!HUB_ID.test(repo))
    throw new Error(`--model-source ${raw}: no such directory, and not a hub id of the form owner/name[@revision].`);
  const endpoint = (o.hubEndpoint ?? process.env['HF_ENDPOINT'] ?? 'https://huggingface.co').replace(/\/+$/, '');
  const cached = resolve(hubCache(), `models--${repo.replace('/', '--')}`);
  try {
    const res = await fetch(
      `${endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision ?? 'main')}?blobs=true`,
      {
        signal: AbortSignal.timeout(o.hubTimeoutMs ?? 8000),
      },
    );
    if (res.status === 404 || res.status === 401)
      throw new Error(`The model hub has no model ${repo}${revision ? ` at ${revision}` : ''} (HTTP ${res.status}).`);
    if (!res.ok) throw new Error(`The model hub answered HTTP ${res.status}.`);
    const info = (await res.json()) as { sha?: string; siblings?: { rfilename: string; size?: number }[] };
    const bytes = (info.siblings ?? [])
      .filter((f) => HUB_PATTERNS.some((p) => p.test(f.rfilename)))
      .reduce((n, f) => n + (f.size ?? 0), 0);
    const have = dirBytes(resolve(cached, 'blobs'));
    return {
      source: `${repo}@${info.sha ?? revision ?? 'main'}`,
      revision: info.sha ?? revision ?? null,
      hub: true,
      download: Math.max(0, bytes - have),
      checkpointBytes: bytes,
      id,
      offline: false,
    };
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('The model hub has no model')) throw err;
    // Offline, but downloaded before: convert from the hub cache.
    const snapshots = resolve(cached, 'snapshots');
    const refMain = resolve(cached, 'refs', revision ?? 'main');
    const wanted = revision ?? (existsSync(refMain) ? readFileSync(refMain, 'utf8').trim() : undefined);
    const snap = existsSync(snapshots)
      ? readdirSync(snapshots).find(
          (s) => (!wanted || s.startsWith(wanted)) && existsSync(resolve(snapshots, s, 'config.json')),
        )
      : undefined;
    if (snap)
      return {
        source: `${repo}@${snap}`,
        revision: snap,
        hub: true,
        download: 0,
        checkpointBytes: dirBytes(resolve(cached, 'blobs')),
        id,
        offline: true,
      };
    const why =
      err instanceof Error && err.name === 'TimeoutError'
        ? 'no answer'
        : err instanceof Error
          ? err.cause instanceof Error
            ? err.cause.message
            : err.message
          : String(err);
    throw new Error(
      `The model hub (${endpoint}) cannot be reached (${why}), and ${repo} is not in the hub cache, so the model cannot be downloaded now.`,
      { cause: err },
    );
  }
}
