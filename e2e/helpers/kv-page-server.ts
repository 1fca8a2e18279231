/**
 * Serves kv-page.ts (bundled here by esbuild; the page imports onnxruntime-web's WebGPU bundle and starts it),
 * onnxruntime-web's dist under /ort/ and the test models under /models/, on a port of its own (127.0.0.1, any free
 * port).  Used by e2e/webgpu-kv.spec.ts and bench/webgpu.ts.
 */
import { bundleForBrowser } from './bundle.ts';
import { sendFromRoots } from './static-roots.ts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const ORT_DIST = resolve(ROOT, 'node_modules/onnxruntime-web/dist');

const PAGE = `<!doctype html>
<script type="module">
import * as ort from '/ort/ort.webgpu.min.mjs';
import { start } from '/kv-page.js';
start(ort);
</script>`;

export interface KvPageServer {
  url: string;
  close(): Promise<void>;
}

/** Bundle the page and serve it with `models` (a directory of model directories) under /models/. */
export async function startKvPage(models = resolve(ROOT, 'build/test-artifacts/models')): Promise<KvPageServer> {
  const script = await bundleForBrowser({ entry: resolve(ROOT, 'e2e/helpers/kv-page.ts') });
  const roots: Record<string, string> = { ort: ORT_DIST, models };
  const server: Server = createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    if (url === '/' || url === '/kv-page.js') {
      res.writeHead(200, { 'content-type': url === '/' ? 'text/html' : 'text/javascript' });
      res.end(url === '/' ? PAGE : script);
      return;
    }
    sendFromRoots(url, roots, res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
