/**
 * The request target (`req.url`) as the server routes it.  Only origin-form (`/path?query`) is accepted; the path is
 * split into segments and each is percent-decoded once.  Anything that cannot name a file or route without
 * guessing is refused with the reason, so the caller can answer 400: malformed percent-encoding, a decoded `/`, `\`
 * or NUL inside a segment, control characters, and dot segments (`.`, `..`), which a browser never sends and which
 * only serve to climb out of a directory.
 */

export interface Target {
  /** The decoded path, segments joined by `/` (always starts with `/`; a trailing `/` is kept). */
  path: string;
  /** The decoded segments (empty ones, from `//` or a trailing `/`, removed). */
  segments: string[];
  /** The raw query (without `?`), '' when none. */
  query: string;
  /** The authority of an absolute-form target (`http://host:port/path`), which stands for the Host header. */
  authority?: string;
}

export type TargetResult = { ok: true; target: Target } | { ok: false; reason: string };

const MAX_TARGET = 8192;

/** A C0 control, DEL, or (with `space`) a space: never part of a path a client means. */
function hasControl(s: string, space: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || (space && c === 0x20)) return true;
  }
  return false;
}

function refuse(reason: string): TargetResult {
  return { ok: false, reason };
}

export function parseTarget(raw: string | undefined): TargetResult {
  if (!raw) return refuse('the request has no target');
  if (raw.length > MAX_TARGET) return refuse(`the request target is longer than ${MAX_TARGET} characters`);
  // Absolute-form (what a client sends to a proxy) must be accepted too; its authority replaces Host.
  const absolute = /^https?:\/\/([^/?#]*)(.*)$/i.exec(raw);
  if (absolute) {
    const rest = absolute[2] || '/';
    if (!rest.startsWith('/') && !rest.startsWith('?'))
      return refuse('the request target must be a path starting with "/"');
    const inner = parseTarget(rest.startsWith('?') ? `/${rest}` : rest);
    return inner.ok ? { ok: true, target: { ...inner.target, authority: absolute[1]! } } : inner;
  }
  if (!raw.startsWith('/')) return refuse('the request target must be a path starting with "/"');
  // Node's parser already refuses raw controls and spaces in the target; a tab or DEL may still pass.
  if (hasControl(raw, true)) return refuse('the request target contains a control character or space');
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? '' : raw.slice(q + 1);
  const hash = rawPath.indexOf('#');
  if (hash >= 0) return refuse('the request target contains a fragment ("#")');
  const segments: string[] = [];
  for (const part of rawPath.split('/')) {
    if (part === '') continue;
    let decoded: string;
    try {
      decoded = decodeURIComponent(part);
    } catch {
      return refuse(`malformed percent-encoding in the path segment "${part.slice(0, 64)}"`);
    }
    if (decoded === '.' || decoded === '..') return refuse('the path contains a "." or ".." segment');
    if (decoded.includes('/') || decoded.includes('\\'))
      return refuse('a path segment encodes "/" or "\\" (%2F and %5C are not allowed in paths)');
    if (hasControl(decoded, false)) return refuse('a path segment encodes NUL or another control character');
    segments.push(decoded);
  }
  const trailing = rawPath.endsWith('/') && segments.length > 0 ? '/' : '';
  return { ok: true, target: { path: `/${segments.join('/')}${trailing}`, segments, query } };
}
