/**
 * `npm run bench -- library`: the transcript library with 200 stored transcripts (each 24 segments of 12 words,
 * about two minutes of speech) in Chromium, against one frame (16.7 ms at 60 Hz):
 *  - opening the list: reading every document from IndexedDB, sorting, and rendering its first page (50 rows);
 *  - rendering the list alone (the documents already read);
 *  - the longest gap between two animation frames while the list opens (what a user could see stall);
 *  - search: from a keystroke's input event until the narrowed list is rendered.
 * Each figure is the median and p95 of 20 runs, measured in the page with performance.now().
 */
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
import { sampleDocuments, seedLibrary } from '../e2e/helpers/library-docs.ts';
import { startTestApp } from '../e2e/helpers/test-app.ts';
import { median, percentile, table } from './common.ts';

const PORT = 4394;
const RUNS = 20;
const FRAME_MS = 1000 / 60;

export async function benchLibrary(): Promise<void> {
  console.log('\n## library: 200 transcripts, list and search against one frame (16.7 ms)');
  const server = await startTestApp({ port: PORT });
  const browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${PORT}/`);
    await page.getByTestId('library-empty').waitFor();
    await seedLibrary(page, sampleDocuments(200, 24, 12));
    await page.reload();
    await page.getByTestId('library-item').nth(49).waitFor();
    // (A string: this file compiles without the DOM's types.)
    const figures = await page.evaluate<{
      open: number[];
      read: number[];
      gap: number[];
      render: number[];
      search: number[];
      rows: number[];
    }>(`(async () => {
      const panel = document.querySelector('asr-app').shadowRoot.querySelector('library-panel');
      const input = () => panel.shadowRoot.querySelector('[data-testid="library-search"]');
      const rows = () => panel.shadowRoot.querySelectorAll('[data-testid="library-item"]').length;
      const out = { open: [], read: [], gap: [], render: [], search: [], rows: [] };
      for (let i = 0; i < ${RUNS}; i++) {
        // Animation frames while the list opens: the longest gap between two is the stall a user could see.
        let last = performance.now();
        let gap = 0;
        let watching = true;
        const frame = (now) => {
          gap = Math.max(gap, now - last);
          last = now;
          if (watching) requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
        await new Promise((r) => requestAnimationFrame(r));
        gap = 0;
        last = performance.now();
        await panel.library.refresh();
        await panel.updateComplete;
        await new Promise((r) => requestAnimationFrame(r));
        watching = false;
        out.gap.push(gap);
        let t = performance.now();
        await panel.library.store.documents();
        out.read.push(performance.now() - t);
        t = performance.now();
        await panel.library.refresh();
        await panel.updateComplete;
        out.open.push(performance.now() - t);
        // The list alone: from no rows to its first page (clear it with a query that matches nothing).
        input().value = 'zzzz-nothing';
        input().dispatchEvent(new Event('input'));
        await panel.updateComplete;
        t = performance.now();
        input().value = '';
        input().dispatchEvent(new Event('input'));
        await panel.updateComplete;
        out.render.push(performance.now() - t);
        // One keystroke of a search: every document's title and text are searched, the list re-rendered.
        t = performance.now();
        input().value = 'marker1' + (i % 10);
        input().dispatchEvent(new Event('input'));
        await panel.updateComplete;
        out.search.push(performance.now() - t);
        out.rows.push(rows());
        input().value = '';
        input().dispatchEvent(new Event('input'));
        await panel.updateComplete;
      }
      return out;
    })()`);
    const ms = (v: number) => `${v.toFixed(1)} ms`;
    const row = (name: string, v: number[]) => [
      name,
      ms(median(v)),
      ms(percentile(v, 95)),
      `${(median(v) / FRAME_MS).toFixed(2)} frames`,
    ];
    console.log(
      table([
        ['200 transcripts', 'median', 'p95', 'median / 16.7 ms'],
        row('open the list (IndexedDB read + sort + render)', figures.open),
        row('of which: read the 200 documents from IndexedDB', figures.read),
        row('longest gap between animation frames while it opens', figures.gap),
        row('render the list (its first 50 rows)', figures.render),
        row(`search one keystroke (→ ${median(figures.rows)} rows)`, figures.search),
      ]),
    );
  } finally {
    await browser.close();
    await server.close();
  }
}
