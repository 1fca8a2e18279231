/** A model directory served over HTTP(S) (same origin, or a URL a user points to) as a pipeline `ModelSource`. */
import type { ModelSource } from './load.ts';

export function urlSource(baseUrl: string): ModelSource {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const get = async (path: string): Promise<Response> => {
    let res: Response;
    try {
      res = await fetch(new URL(path, base));
    } catch (err) {
      throw new Error(`cannot reach ${new URL(path, base).href} (${err instanceof Error ? err.message : err})`, {
        cause: err,
      });
    }
    if (!res.ok) throw new Error(`${new URL(path, base).href}: HTTP ${res.status} ${res.statusText}`);
    return res;
  };
  return {
    label: base,
    text: async (path) => (await get(path)).text(),
    binary: async (path, onBytes) => {
      const res = await get(path);
      const length = Number(res.headers.get('Content-Length') ?? 0);
      if (!res.body) return new Uint8Array(await res.arrayBuffer());
      // One buffer of the announced size, filled in place (no chunk list plus a concatenated copy).
      let out = new Uint8Array(length);
      let at = 0;
      const reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (at + value.length > out.length) {
          const grown = new Uint8Array(Math.max(out.length * 2, at + value.length));
          grown.set(out.subarray(0, at));
          out = grown;
        }
        out.set(value, at);
        at += value.length;
        onBytes?.(at);
      }
      return at === out.length ? out : out.slice(0, at);
    },
  };
}
