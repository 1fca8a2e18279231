/**
 * The first screen is honest about a server without a model.  The real server, its models folder empty, starts
 * with the model hub unreachable (and, second, with --no-convert): the model card offers no Download, says plainly
 * that this server has no speech model yet, why (the server's own sentence), and what the user can do, and shows no
 * path of the server's disk anywhere on the page.  Screenshots at 390×844 and 1280×800 in test-results/.
 */
import { expect, test, type Browser } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { type ServerProcess, spawnServer } from '../tests/helpers/server-process.ts';
import { TEST_DIST } from './helpers/dist.ts';
import { ROOT } from './helpers/paths.ts';

/** `server/server.ts` on the test build with an empty models folder and no reachable hub. */
function firstStart(base: string, extra: string[]): ServerProcess {
  return spawnServer(['--dist', TEST_DIST, '--models', resolve(base, 'models'), ...extra], {
    env: { HF_ENDPOINT: 'http://127.0.0.1:9', HF_HUB_CACHE: resolve(base, 'hub') },
  });
}

async function expectHonestCard(browser: Browser, url: string, base: string, state: string, shots: boolean) {
  for (const [width, height] of [
    [390, 844],
    [1280, 800],
  ] as const) {
    const page = await browser.newPage({ viewport: { width, height } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    const card = page.getByTestId('model-preparing');
    await expect(card).toHaveAttribute('data-state', state, { timeout: 30_000 });
    await expect(card).toContainText('This server has no speech model yet');
    await expect(card).toContainText('What you can do');
    await expect(card).toContainText('Settings → Model and engine');
    // Nothing offers a download that could only fail, nor facts about a model that is not there.
    await expect(page.getByTestId('load-model')).toHaveCount(0);
    await expect(page.getByTestId('model-facts')).toHaveCount(0);
    await expect(page.getByRole('button', { name: /download/i })).toHaveCount(0);
    // Recording still works without a model, and its button is on the first screen.
    await expect(page.getByTestId('record')).toBeEnabled();
    const record = await page.getByTestId('record').boundingBox();
    expect(record!.y + record!.height).toBeLessThan(height);
    // No path of the server's disk anywhere on the page (the models folder lives under `base`).
    const text = await page.evaluate(() => {
      const all: string[] = [];
      const walk = (root: Document | ShadowRoot) => {
        for (const el of root.querySelectorAll('*')) {
          if (el.shadowRoot) {
            all.push(el.shadowRoot.textContent ?? '');
            walk(el.shadowRoot);
          }
        }
      };
      walk(document);
      return `${document.body.innerText}\n${all.join('\n')}`;
    });
    expect(text).not.toContain(base);
    expect(text).not.toContain(tmpdir());
    expect(text).not.toContain(ROOT);
    if (shots)
      await page.screenshot({ path: `test-results/first-screen-no-model-${width}x${height}.png`, fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  }
}

for (const [why, extra, state, message] of [
  ['the model hub cannot be reached', [], 'unavailable', 'cannot be reached'],
  ['the server was told not to convert', ['--no-convert'], 'skipped', '--no-convert'],
] as const) {
  test(`no model on the server and none coming (${why}): no Download, what happened and what to do`, async ({
    browser,
  }) => {
    test.setTimeout(120_000);
    const base = mkdtempSync(resolve(tmpdir(), 'first-screen-'));
    const server = firstStart(base, [...extra]);
    try {
      const origin = await server.listening;
      await expectHonestCard(browser, origin, base, state, state === 'unavailable');
      const page = await browser.newPage();
      await page.goto(origin);
      await expect(page.getByTestId('preparing-message')).toContainText(message);
      await page.close();
    } finally {
      server.child.kill('SIGTERM');
    }
  });
}
