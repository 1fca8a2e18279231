/**
 * Who may talk to the server, decided before any route runs.
 *
 * Host: a page on another site can make a browser send requests to this server under its own name (DNS rebinding:
 * attacker.example resolves to 127.0.0.1 after the page loaded), and the browser then treats our answers as that
 * site's, readable by its script.  So the `Host` header must name this server:
 *  - bound to loopback: `localhost`, `127.0.0.1` or `[::1]` with the server's own port, and nothing else;
 *  - bound to another address: any IP literal (a rebinding page cannot have an IP literal as its name and still be
 *    another site), `localhost`, this machine's host name (and `<name>.local`), with any port (a port may be
 *    forwarded);
 *  - plus, in both cases, every `--allow-host` entry (`name` for any port, `name:port` for one; `*` turns the check
 *    off, for a reverse proxy that has checked it already).
 * A request without a Host header (HTTP/1.0, which no browser sends) passes: it cannot come from a rebinding page.
 *
 * Origin (only on /v1/): a browser names the page that made a request; a page of another origin may still send a
 * CORS "simple" request (a hand-written multipart POST with `mode: 'no-cors'`) that reaches the server without a
 * preflight, and the server would do the work even though the page cannot read the answer.  A present Origin must
 * be this server's own (its host equal to the request's Host) or one of `--allow-origin` (`*`: any).
 */
import { hostname } from 'node:os';
import { isIP } from 'node:net';

export interface HostPolicy {
  /** The listening address (`--host`). */
  bindHost: string;
  /** The port actually listened on. */
  port: number;
  /** `--allow-host` entries. */
  allowHosts: readonly string[];
}

/** `127.0.0.0/8`, `::1`, `localhost`: only this machine can connect. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** Split a Host header into a lower-case name (IPv6 without brackets) and a port (null when absent); null if malformed. */
export function splitHost(value: string): { name: string; port: number | null } | null {
  const v = value.trim().toLowerCase();
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?$/.exec(v);
  if (!m) return null;
  const name = m[1]!.replace(/^\[|\]$/g, '');
  if (m[1]!.startsWith('[') && isIP(name) !== 6) return null;
  const port = m[2] === undefined ? null : Number(m[2]);
  if (port !== null && port > 65535) return null;
  return { name, port };
}

/**
 * A checker for the Host header: returns null when allowed, else the sentence to answer with.
 * `defaultPort` is the port a Host without one means (80 or 443).
 */
export function hostCheck(policy: HostPolicy, defaultPort: number): (host: string | undefined) => string | null {
  const entries = policy.allowHosts.map((h) => h.trim().toLowerCase()).filter(Boolean);
  const any = entries.includes('*');
  const listed = entries.map((e) => splitHost(e)).filter((e): e is NonNullable<typeof e> => e !== null);
  const loopbackBind = isLoopback(policy.bindHost);
  const machine = hostname().toLowerCase();
  const own = new Set(['localhost', machine, `${machine}.local`]);
  const hint = `(the server accepts ${
    loopbackBind
      ? `localhost, 127.0.0.1 and [::1] on port ${policy.port}`
      : "IP addresses, localhost and this machine's name"
  }; add a name with --allow-host)`;
  return (host) => {
    if (host === undefined || any) return null;
    const h = splitHost(host);
    if (!h) return `the Host header "${host.slice(0, 100)}" is not a valid host ${hint}`;
    const port = h.port ?? defaultPort;
    if (listed.some((e) => e.name === h.name && (e.port === null || e.port === port))) return null;
    if (loopbackBind) {
      const bound = policy.bindHost.toLowerCase().replace(/^\[|\]$/g, '');
      const loopName = h.name === 'localhost' || h.name === '127.0.0.1' || h.name === '::1' || h.name === bound;
      if (loopName && port === policy.port) return null;
    } else if (isIP(h.name) || own.has(h.name)) {
      return null;
    }
    return `this server does not answer to the host "${host.slice(0, 100)}" ${hint}`;
  };
}

/**
 * Whether a request's Origin may call /v1/: absent (not a browser, or a same-origin GET), the server's own origin
 * (the Origin's host equals the request's Host, which the Host check has accepted), or listed.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: ReadonlySet<string>,
): boolean {
  if (origin === undefined) return true;
  if (allowed.has('*') || allowed.has(origin)) return true;
  if (!host) return false;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false; // 'null' (a sandboxed frame, a file:// page) and anything else that is not an origin
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
  // A browser sends an origin in its serialized form; anything else (a path, user info) is not one.
  if (parsed.origin !== origin) return false;
  // URL drops a default port (http://x:80 → http://x); compare with the Host the same way.
  try {
    return parsed.host === new URL(`${parsed.protocol}//${host}`).host;
  } catch {
    return false;
  }
}
