import { expect, test, type Page } from '@playwright/test';
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
import { launchWithFakeMic } from './helpers/browser.ts';
import { speechFile } from './helpers/paths.ts';

/** The app's microphone controller, reached the way an OS event would reach it: through its media objects. */
async function micInternals(page: Page, action: 'suspend' | 'end-track') {
  await page.evaluate(async (what) => {
    const app = document.querySelector('asr-app')!.shadowRoot!.querySelector('dictation-panel') as unknown as {
      mic: { context: AudioContext | null; stream: MediaStream | null };
    };
    if (what === 'suspend') await app.mic.context?.suspend();
    else {
      const track = app.mic.stream?.getAudioTracks()[0];
      track?.stop(); // stop() alone fires no event; a device unplug does, so dispatch it as the browser would
      track?.dispatchEvent(new Event('ended'));
    }
  }, action);
}

async function secondsRecorded(page: Page): Promise<number> {
  const text = (await page.getByTestId('elapsed').textContent()) ?? '0:0';
  const [m, s] = text.split(':');
  return Number(m) * 60 + Number(s);
}

test.describe('capture failures keep what was recorded', () => {
  test('an unplugged microphone stops the recording with a message; the audio so far is kept', async () => {
    const browser = await launchWithFakeMic(speechFile('en/jfk.wav'));
    try {
      const page = await browser.newPage();
      await page.goto('/');
      await page.getByTestId('record').click();
      await expect.poll(() => secondsRecorded(page)).toBeGreaterThan(2);
      await micInternals(page, 'end-track');
      await expect(page.getByRole('alert')).toHaveAttribute('data-error-code', 'DEVICE_LOST');
      await expect(page.getByRole('alert')).toContainText('microphone was disconnected');
      await expect(page.getByTestId('record')).toBeEnabled();
      const samples = Number(
        await page.getByTestId('capture-stats').locator('[data-samples]').getAttribute('data-samples'),
      );
      expect(samples).toBeGreaterThan(2 * 16_000);
      await expect(page.getByTestId('download')).toBeVisible();
    } finally {
      await browser.close();
    }
  });

  test('a system interruption pauses, Resume continues, the transcript notes the missing audio, and both parts end up in one recording', async () => {
    const browser = await launchWithFakeMic(speechFile('en/jfk.wav'));
    try {
      const page = await browser.newPage();
      await page.goto('/');
      await page.getByTestId('record').click();
      await expect.poll(() => secondsRecorded(page)).toBeGreaterThan(1.5);
      await micInternals(page, 'suspend');
      await expect(page.getByRole('alert')).toHaveAttribute('data-error-code', 'CAPTURE_INTERRUPTED');
      await expect(page.getByRole('alert')).toContainText('Nothing recorded so far is lost');
      await expect(page.getByTestId('status')).toHaveText('Paused by the system');
      const paused = await secondsRecorded(page);
      await page.waitForTimeout(2000);
      expect(await secondsRecorded(page)).toBeLessThan(paused + 0.3); // nothing flows while suspended
      await page.getByTestId('resume').click();
      await expect(page.getByRole('alert')).toHaveCount(0);
      // The transcript says where audio is missing and for how long (2 s plus the clicks' latency), placed where
      // capture stopped (the elapsed time comes every 100 ms).
      const gap = page.locator('[data-segment="gap"]');
      await expect(gap).toContainText('Audio missing here: the system paused the microphone for');
      const missing = Number(await gap.getAttribute('data-missing'));
      const start = Number(await gap.getAttribute('data-start'));
      const figures = `gap at ${start} s for ${missing} s; elapsed ${paused} s at the pause`;
      console.log(`[interruption] ${figures}`);
      expect(missing, figures).toBeGreaterThanOrEqual(2);
      expect(missing, figures).toBeLessThan(2.6);
      expect(Math.abs(start - paused), figures).toBeLessThanOrEqual(0.15);
      await expect.poll(() => secondsRecorded(page)).toBeGreaterThan(paused + 1.5);
      await page.getByTestId('stop').click();
      await expect(page.locator('[data-lost]')).toHaveAttribute('data-lost', '0');
      const samples = Number(
        await page.getByTestId('capture-stats').locator('[data-samples]').getAttribute('data-samples'),
      );
      expect(samples).toBeGreaterThan((paused + 1.5) * 16_000);
    } finally {
      await browser.close();
    }
  });

  test('a second tab cannot take the microphone while the first records', async () => {
    const browser = await launchWithFakeMic(speechFile('en/jfk.wav'));
    try {
      const context = await browser.newContext();
      const first = await context.newPage();
      const second = await context.newPage();
      await first.goto('/');
      await second.goto('/');
      await first.getByTestId('record').click();
      await expect(first.getByTestId('stop')).toBeVisible();
      await second.getByTestId('record').click();
      await expect(second.getByRole('alert')).toHaveAttribute('data-error-code', 'MIC_IN_OTHER_TAB');
      await expect(second.getByRole('alert')).toContainText('Another tab of this app is recording');
      await first.getByTestId('stop').click();
      await expect(first.getByTestId('record')).toBeVisible();
      // once the first tab stopped, the second one can record
      await second.getByTestId('record').click();
      await expect(second.getByTestId('stop')).toBeVisible();
      await second.getByTestId('stop').click();
    } finally {
      await browser.close();
    }
  });
});

test('no microphone at all gives its own message', async () => {
  // No fake device: headless Chromium on this machine has no audio input.
  const browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, '--use-fake-ui-for-media-stream'],
  });
  try {
    const page = await browser.newPage();
    await page.goto('/');
    await page.getByTestId('record').click();
    await expect(page.getByRole('alert')).toHaveAttribute('data-error-code', 'MIC_NOT_FOUND');
    await expect(page.getByTestId('record')).toBeEnabled();
  } finally {
    await browser.close();
  }
});
