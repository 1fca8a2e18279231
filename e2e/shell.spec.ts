import { expect, test } from '@playwright/test';
import { launchWithFakeMic } from './helpers/browser.ts';
import { speechFile } from './helpers/paths.ts';

test('the app shell renders its main controls', async ({ page }, testInfo) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('/');
  const record = page.getByTestId('record');
  await expect(record).toBeVisible();
  await expect(record).toBeEnabled();
  await expect(page.getByRole('heading', { name: 'GLM-ASR Nano' })).toBeVisible();
  // First run: one card says what will be downloaded, with one Download button (the tiny manifest's variants: q4f16
  // 534944 bytes to fp32 1578147, each graph's .onnx with its .onnx_data, ls -l).
  await expect(page.getByTestId('model-facts')).toContainText(/glm-asr-tiny\s+revision [0-9a-f]{12}/);
  await expect(page.getByTestId('model-facts')).toContainText(/535 kB to 1\.6 MB[\s\S]* free/);
  await expect(page.getByTestId('load-model')).toHaveText('Download');
  // The model's address, variant and engine are in Settings, not on the main screen.
  await expect(page.getByTestId('model-url')).toBeHidden();
  // Diagnostics are behind Details.
  await expect(page.getByRole('img', { name: /log-mel spectrogram/ })).toBeHidden();
  await page.getByTestId('details').locator('summary').click();
  await expect(page.getByRole('img', { name: /log-mel spectrogram/ })).toBeVisible();
  await expect(page.getByRole('meter', { name: 'Input level' })).toBeAttached();
  await expect(page.getByTestId('elapsed')).toHaveText('0:00.0');
  // The capability line is the worker's probe (the one the planner reads): --enable-unsafe-webgpu gives SwiftShader.
  await expect(page.getByTestId('capability')).toContainText(
    /WebGPU: google swiftshader \(software fallback\) · max buffer \d+ MiB · max binding \d+ MiB · shader-f16 no · \d+ CPU threads?/,
  );
  const shot = await page.screenshot({ fullPage: true });
  await testInfo.attach('app-shell', { body: shot, contentType: 'image/png' });
  // Everything the user needs first is inside the first screen.
  const box = await record.boundingBox();
  expect(box && box.y + box.height).toBeLessThan(page.viewportSize()!.height);
  expect(errors).toEqual([]);
});

test('on a phone (390×844, portrait) the model card and the Record button fit the first screen', async ({
  browser,
}) => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await page.goto('/');
  const record = page.getByTestId('record');
  await expect(page.getByTestId('load-model')).toBeVisible();
  const box = await record.boundingBox();
  expect(box && box.y + box.height).toBeLessThan(844);
  // Nothing wider than the screen.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  const shot = await page.screenshot({ fullPage: true });
  await test.info().attach('phone', { body: shot, contentType: 'image/png' });
  await page.close();
});

test('the record button is reachable by keyboard, and Space and R start and stop recording', async () => {
  const browser = await launchWithFakeMic(speechFile('en/jfk.wav'));
  const page = await browser.newPage();
  await page.goto('/');
  await expect(page.getByTestId('load-model')).toBeVisible();
  // First run: Download, the served models' disclosure, then Record.
  const order: string[] = [];
  for (let i = 0; i < 3; i++) {
    await page.keyboard.press('Tab');
    order.push(
      await page.evaluate(() => {
        let el: Element | null = document.activeElement;
        while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
        return el?.getAttribute('data-testid') ?? el?.tagName ?? '';
      }),
    );
  }
  expect(order).toEqual(['load-model', 'SUMMARY', 'record']);
  // R on the focused button toggles once; the button keeps the focus (one element: Record becomes Stop).
  await page.keyboard.press('r');
  await expect(page.getByTestId('stop')).toBeVisible();
  await expect(page.getByTestId('stop')).toBeFocused();
  await expect(page.getByTestId('stop')).toHaveAttribute('aria-pressed', 'true');
  // Space on the focused Stop presses it once (the button's own activation, not also the shortcut).
  await page.keyboard.press('Space');
  await expect(page.getByTestId('record')).toBeVisible();
  await expect(page.getByTestId('status')).toContainText('Recorded');
  await page.waitForTimeout(500);
  await expect(page.getByTestId('record')).toBeVisible();
  // With focus nowhere in particular, R and Space are the shortcut.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('r');
  await expect(page.getByTestId('stop')).toBeVisible();
  await page.keyboard.press(' ');
  await expect(page.getByTestId('record')).toBeVisible();
  await browser.close();
});

test('a model address that is not one is refused in Settings with a specific message, and nothing breaks', async ({
  page,
}) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('/');
  await page.getByTestId('model-settings').locator('summary').click();
  const field = page.getByTestId('model-url');
  const before = await field.inputValue();
  for (const bad of ['javascript:alert(1)', 'http://[', 'file:///etc/passwd']) {
    await field.fill(bad);
    await field.press('Tab');
    await expect(page.getByTestId('model-url-invalid')).toContainText(`"${bad}" is not a model address`);
  }
  await field.fill(before);
  await field.press('Tab');
  await expect(page.getByTestId('model-url-invalid')).toHaveCount(0);
  await expect(page.getByTestId('record')).toBeEnabled();
  expect(errors).toEqual([]);
});
