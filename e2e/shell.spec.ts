import { expect, test } from '@playwright/test';

test('the app shell renders its main controls', async ({ page }, testInfo) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('/');
  const record = page.getByTestId('record');
  await expect(record).toBeVisible();
  await expect(record).toBeEnabled();
  await expect(page.getByRole('heading', { name: 'GLM-ASR Nano' })).toBeVisible();
  await expect(page.getByRole('img', { name: /log-mel spectrogram/ })).toBeVisible();
  await expect(page.getByRole('meter', { name: 'Input level' })).toBeAttached();
  await expect(page.getByTestId('elapsed')).toHaveText('0:00.0');
  // The capability line reports the real adapter: --enable-unsafe-webgpu gives SwiftShader here.
  await expect(page.getByTestId('capability')).toContainText(/WebGPU: .*max buffer \d+ MiB.*shader-f16 (yes|no)/);
  const shot = await page.screenshot({ fullPage: true });
  await testInfo.attach('app-shell', { body: shot, contentType: 'image/png' });
  // Everything the user needs first is inside the first screen.
  const box = await record.boundingBox();
  expect(box && box.y + box.height).toBeLessThan(page.viewportSize()!.height);
  expect(errors).toEqual([]);
});

test('the record button is reachable by keyboard', async ({ page }) => {
  await page.goto('/');
  await page.keyboard.press('Tab');
  await expect(page.getByTestId('record')).toBeFocused();
});
