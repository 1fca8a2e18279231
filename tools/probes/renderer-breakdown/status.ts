/**
 * The renderers' resident set split as /proc/<pid>/status does (RssAnon, RssFile, RssShmem), at idle and sampled
 * every 100 ms through a load of a model (a first visit, then a stored one: VISITS) and a transcription (AUDIO).
 *   npx tsx tools/probes/renderer-breakdown/status.ts [engine] [variant] [extra query]
 * Env: MODEL, MODELS (a models directory; default the test artifacts'), AUDIO (a file to transcribe after the load),
 * JSFLAGS (V8 flags), SERIES_EVERY (print every Nth sample).
 */
import { chromium } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { browserPid, renderers, tree } from '../../../bench/memory-meter.ts';
import { CHROMIUM_ARGS } from '../../../playwright.config.ts';
import { start } from '../../../server/server.ts';
import { MB, status, type S } from './proc-status.ts';

const engine = process.argv[2] ?? 'webgpu';
const variant = process.argv[3] ?? 'fp32';
const extra = process.argv[4] ?? '';
const model = process.env['MODEL'] ?? 'tiny';
const models = process.env['MODELS'] ?? resolve('build/test-artifacts/models');
const audio = process.env['AUDIO'];
const PORT = 4599;

let root = 0;
const renderersNow = () => renderers(tree(root));

const server = await start({ port: PORT, host: '127.0.0.1', dist: resolve('build/dist-test'), models });
const profile = mkdtempSync(resolve(tmpdir(), 'glmasr-probe-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  args: [...CHROMIUM_ARGS, `--js-flags=--max-old-space-size=8192 ${process.env['JSFLAGS'] ?? ''}`],
  serviceWorkers: 'block',
});
const browser = { close: () => context.close() };
root = browserPid(profile);
const url = `http://127.0.0.1:${PORT}/?model=/models/${model}/&variant=${variant}&engine=${engine}&maxNewTokens=2&warmUpTimeoutMs=3600000${extra}`;
/** One visit in a page of its own, measured from an idle blank page; the first finds the store empty. */
async function visit(name: string): Promise<void> {
  const page = await context.newPage();
  await page.goto('about:blank');
  await new Promise((ok) => setTimeout(ok, 3000));
  const idle = status(renderersNow());
  console.log(`${name}: idle anon ${MB(idle.anon)} file ${MB(idle.file)} shmem ${MB(idle.shmem)}`);
  let phase = 'load';
  let ticks = 0;
  const peak: Record<string, S & { sum: number }> = {};
  const timer = setInterval(() => {
    const s = status(renderersNow());
    const d = { anon: s.anon - idle.anon, file: s.file - idle.file, shmem: s.shmem - idle.shmem };
    const sum = d.anon + d.file + d.shmem;
    if (!peak[phase] || sum > peak[phase]!.sum) peak[phase] = { ...d, sum };
    if (++ticks % Number(process.env['SERIES_EVERY'] ?? 1e9) === 0)
      console.log(`${name} ${(ticks / 10).toFixed(0)}s ${phase} anon ${MB(d.anon)} file ${MB(d.file)} shmem ${MB(d.shmem)}`);
  }, 100);
  await page.goto(url);
  await page.getByTestId('engine').waitFor({ timeout: 3_600_000 });
  if (audio) {
    phase = 'transcribe';
    await page.getByTestId('file-input').setInputFiles(audio);
    await page.getByTestId('transcript').waitFor({ timeout: 3_600_000 });
  }
  phase = 'after';
  await new Promise((ok) => setTimeout(ok, 3000));
  clearInterval(timer);
  for (const [k, v] of Object.entries(peak))
    console.log(`${name} ${k.padEnd(10)} peak above idle: ${MB(v.sum)} = anon ${MB(v.anon)} + file ${MB(v.file)} + shmem ${MB(v.shmem)}`);
  await page.close();
}
const visits = (process.env['VISITS'] ?? 'first,stored').split(',');
if (!visits.includes('first')) {
  const p = await context.newPage();
  await p.goto(url);
  await p.getByTestId('engine').waitFor({ timeout: 3_600_000 });
  await p.close();
}
for (const v of visits) await visit(v);
await browser.close();
server.close();
