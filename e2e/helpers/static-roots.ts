/**
 * A file under one of `roots` (URL prefix → directory), for the small pages the benches and the WebGPU KV-cache spec
 * serve: `/<prefix>/<path>` streamed with its type, 404 for anything else, a path that leaves its root included.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
};

export function sendFromRoots(url: string, roots: Record<string, string>, res: ServerResponse): void {
  const [, prefix, ...rest] = url.split('/');
  const root = roots[prefix ?? ''];
  const file = root ? resolve(root, rest.join('/')) : '';
  if (!root || !file.startsWith(resolve(root) + sep) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404);
    res.end();
    return;
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': statSync(file).size,
  });
  createReadStream(file).pipe(res);
}
