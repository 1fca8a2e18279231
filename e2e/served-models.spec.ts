/**
 * The app asks its server which models it serves (GET /v1/models) and offers them in a card; *Use* loads one.  A
 * server whose first start cannot get the model (hub unreachable) still serves a working app that says why and what
 * to run.
 */
import { expect, test } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { spawnServer } from '../tests/helpers/server-process.ts';

test('the served models are listed with revision and sizes; Use loads one', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('/');
  const card = page.getByTestId('served-models');
  await expect(card).toBeVisible();
  await card.locator('summary').click();
  const tiny = card.locator('li[data-model="tiny"]');
  await expect(tiny).toContainText('glm-asr-tiny');
  await expect(tiny).toContainText(/revision [0-9a-f]{16}/);
  await expect(tiny).toContainText(/q4 1\.0 MB/); // the tiny q4 files: 1010808 bytes (ls -l)
  await expect(card.locator('li')).toHaveCount(3);
  // The built-in default URL is not served here: the field shows the first served model instead.
  await page.getByTestId('model-settings').locator('summary').click();
  await expect(page.getByTestId('model-url')).toHaveValue('/models/tiny/');
  await page.getByTestId('engine-choice').selectOption('wasm');
  await tiny.getByRole('button', { name: 'Use glm-asr-tiny' }).click();
  await expect(page.getByTestId('engine')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('engine')).toHaveAttribute('data-provider', 'wasm');
  await expect(card).toBeHidden();
  expect(errors).toEqual([]);
});

test('a first start without the hub: the app says why and what to run', async ({ page }) => {
  const base = mkdtempSync(resolve(tmpdir(), 'nohub-'));
  const server = spawnServer(['--quiet', '--models', resolve(base, 'models')], {
    env: { HF_ENDPOINT: 'http://127.0.0.1:9', HF_HUB_CACHE: resolve(base, 'hub') },
  });
  try {
    const url = await server.listening;
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    const card = page.getByTestId('model-preparing');
    await expect(card).toHaveAttribute('data-state', 'unavailable', { timeout: 30_000 });
    await expect(card).toContainText('cannot be reached');
    await expect(page.getByTestId('prepare-command')).toHaveText(
      // The models directory is outside the project and the home directory: visitors see only its last component.
      "npm run model:convert -- --from zai-org/GLM-ASR-Nano-2512 --out '…/glm-asr-nano-2512' --variants q4f16,q4,q8 --model-id glm-asr-nano-2512",
    );
    await expect(page.getByTestId('record')).toBeEnabled();
    expect(errors).toEqual([]);
  } finally {
    server.child.kill('SIGTERM');
  }
});
