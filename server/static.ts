/**
 * Static file serving for the built app and model directories: correct MIME types, the app's security headers,
 * conditional and Range requests (server/range.ts; the model downloader resumes with Range), and nothing outside its
 * root: no dot segments or dot-files (a converter's `.NAME.partial` work directory sits beside the models), and the
 * file's real path (symbolic links resolved) must lie inside the root's real path.
 */
import type { Stats } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { notModified, rangeAnswer } from './range.ts';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json',
  '.onnx': 'application/octet-stream',
  '.onnx_data': 'application/octet-stream',
  '.jinja': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.wav': 'audio/wav',
};

/** Headers every response carries: cross-origin isolation (SharedArrayBuffer for multi-threaded WASM). */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

/** On every response: no MIME sniffing (a model file or a JSON error is never run as script), no Referer sent on. */
export const NOSNIFF_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
} as const;

/**
 * The app's Content-Security-Policy (on every file of the built app: the page, its workers and the service worker
 * each run under the policy of their own response).  What the app needs and why:
 *  - script: its own bundles, plus 'wasm-unsafe-eval' to compile onnxruntime's WebAssembly; the capture worklet is
 *    a file of the app (worklets follow script-src);
 *  - worker: the ASR worker and onnxruntime's WASM threads are files of the app;
 *  - connect: a model may be downloaded from any origin the user enters and the server route may be any
 *    OpenAI-compatible server, so every http(s) origin (the user chooses it; the page cannot know it in advance);
 *  - media and img: recordings are played from blob: URLs; styles: index.html's inline <style> and Lit's styles;
 *  - nothing else: no plugins, no <base>, forms post only here, and no page may frame the app (clickjacking).
 */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self' https: http:",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const APP_HEADERS = {
  ...ISOLATION_HEADERS,
  ...NOSNIFF_HEADERS,
  'Content-Security-Policy': APP_CSP,
  // For browsers without frame-ancestors.
  'X-Frame-Options': 'DENY',
} as const;

/** Resolve `urlPath` inside `root`, or null if it escapes it (the model directory's own files, by manifest path). */
export function safeJoin(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0')) return null;
  const full = resolve(root, '.' + (decoded.startsWith('/') ? decoded : `/${decoded}`));
  return full === root || full.startsWith(root + sep) ? full : null;
}

/** A dot-file or dot-folder anywhere on the path (`.git`, `.NAME.partial`, `.env`) is never served. */
export function hasDotSegment(segments: readonly string[]): boolean {
  return segments.some((s) => s.startsWith('.'));
}

/**
 * Open `segments` under `root` if it is a regular file whose real path lies inside the root's real path; null
 * otherwise (missing, a directory, a dot name, or a symbolic link that leads out).  The file is opened once and
 * served from that handle, so a swap of the path after the check serves nothing else.
 */
async function openInside(root: string, segments: readonly string[]): Promise<{ fh: FileHandle; info: Stats } | null> {
  if (segments.length === 0 || hasDotSegment(segments)) return null;
  let fh: FileHandle | undefined;
  try {
    const realRoot = await realpath(root);
    const real = await realpath(resolve(root, ...segments));
    if (!real.startsWith(realRoot + sep)) return null;
    fh = await open(real, 'r');
    const info = await fh.stat();
    if (!info.isFile()) {
      await fh.close();
      return null;
    }
    return { fh, info };
  } catch {
    await fh?.close().catch(() => undefined);
    return null;
  }
}

/**
 * Serve the file at `segments` (decoded path segments) under `root`.  Returns false when there is no such file to
 * serve, so the caller can fall back (SPA index, 404).
 */
export async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  segments: readonly string[],
  cache: 'immutable' | 'revalidate',
  baseHeaders: Readonly<Record<string, string>>,
): Promise<boolean> {
  const opened = await openInside(root, segments);
  if (!opened) return false;
  try {
    return await answerFrom(req, res, opened, segments, cache, baseHeaders);
  } catch (error) {
    // Whatever went wrong before the stream took the handle over: never leave it for the garbage collector.
    await opened.fh.close().catch(() => undefined);
    throw error;
  }
}

async function answerFrom(
  req: IncomingMessage,
  res: ServerResponse,
  { fh, info }: { fh: FileHandle; info: Stats },
  segments: readonly string[],
  cache: 'immutable' | 'revalidate',
  baseHeaders: Readonly<Record<string, string>>,
): Promise<boolean> {
  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const validators = { etag, mtimeMs: info.mtimeMs };
  const name = segments[segments.length - 1]!;
  const headers: Record<string, string | number> = {
    ...baseHeaders,
    'Content-Type': MIME[extname(name).toLowerCase()] ?? 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    ETag: etag,
    'Last-Modified': info.mtime.toUTCString(),
    'Cache-Control': cache === 'immutable' ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
  if (notModified(req.headers, validators)) {
    await fh.close();
    res.writeHead(304, headers);
    res.end();
    return true;
  }
  const range = rangeAnswer(req.method, req.headers, info.size, validators);
  if (range.kind === 'unsatisfiable') {
    await fh.close();
    res.writeHead(416, { ...headers, 'Content-Range': `bytes */${info.size}`, 'Content-Length': 0 });
    res.end();
    return true;
  }
  const { start, end } = range.kind === 'partial' ? range : { start: 0, end: info.size - 1 };
  const length = info.size === 0 ? 0 : end - start + 1;
  res.writeHead(range.kind === 'partial' ? 206 : 200, {
    ...headers,
    'Content-Length': length,
    ...(range.kind === 'partial' ? { 'Content-Range': `bytes ${start}-${end}/${info.size}` } : {}),
  });
  if (req.method === 'HEAD' || length === 0) {
    await fh.close();
    res.end();
    return true;
  }
  // A client that left while the file was being opened: its 'close' has already fired, so a stream piped into it
  // would pause for good and hold the descriptor until the garbage collector found it.
  if (res.destroyed) {
    await fh.close();
    return true;
  }
  // From here the stream owns the handle (autoClose). pipeline() destroys both sides when either ends early (a
  // client that goes away mid-file, a read error), which closes the handle.
  const stream = fh.createReadStream({ start, end, autoClose: true });
  pipeline(stream, res, () => undefined);
  return true;
}
