// Probe: SwiftShader's time per kernel on onnxruntime-web 1.31's WebGPU EP, in one Chromium page with the e2e flags
// (plus any in XARGS, e.g. XARGS=--enable-dawn-features=disable_workgroup_init).  Three runs of each graph; the first
// includes shader compilation.
// tools/py tools/probes/swiftshader-time/make_ops.py /tmp/ops && npx tsx tools/probes/swiftshader-time/ops.ts /tmp/ops
import { chromium } from '@playwright/test';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { CHROMIUM_ARGS } from '../../../playwright.config.ts';
import { sendFromRoots } from '../../../e2e/helpers/static-roots.ts';

const dir = resolve(process.argv[2]!);
const PAGE = `<!doctype html><script type="module">
import * as ort from '/ort/ort.webgpu.min.mjs';
window.ort = ort; window.ready = true;
</script>`;
const roots = { ort: resolve('node_modules/onnxruntime-web/dist'), models: dir };
const server = createServer((req, res) => {
  const url = decodeURIComponent((req.url ?? '/').split('?')[0]!);
  if (url === '/') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(PAGE);
    return;
  }
  sendFromRoots(url, roots, res);
});
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [...CHROMIUM_ARGS, ...(process.env['XARGS'] ? process.env['XARGS'].split(' ') : [])],
});
const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
await page.waitForFunction(() => (globalThis as unknown as { ready?: boolean }).ready === true);
for (const file of readdirSync(dir).filter((f) => f.endsWith('.onnx')).sort()) {
  const ms = await page.evaluate(async (url) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const ort = (globalThis as any).ort;
    ort.env.wasm.wasmPaths = '/ort/';
    ort.env.wasm.numThreads = 1;
    ort.env.logLevel = 'error';
    const s = await ort.InferenceSession.create(new Uint8Array(await (await fetch(url)).arrayBuffer()), {
      executionProviders: ['webgpu'],
    });
    const feeds: Record<string, unknown> = {};
    for (const [i, name] of (s.inputNames as string[]).entries()) {
      const shape = s.inputMetadata[i].shape as number[];
      const n = shape.reduce((a, b) => a * b, 1);
      feeds[name] = new ort.Tensor('float32', new Float32Array(n).map((_, j) => Math.sin(j)), shape);
    }
    const times: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      await s.run(feeds);
      times.push(Math.round(performance.now() - t));
    }
    return times;
  }, `/models/${file}`);
  console.log(`${file.padEnd(20)} ${ms.join(' / ')} ms`);
}
await browser.close();
server.close();
