import { chromium, type Browser } from '@playwright/test';
import { CHROMIUM_ARGS } from '../../playwright.config.ts';

/** Chromium with a fake microphone that plays `wavPath` once (then silence). */
export function launchWithFakeMic(wavPath: string): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    args: [
      ...CHROMIUM_ARGS,
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wavPath}%noloop`,
    ],
    ignoreDefaultArgs: ['--mute-audio'],
  });
}

/** Chromium whose permission prompt always says no. */
export function launchDenyingMic(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--deny-permission-prompts'],
    ignoreDefaultArgs: ['--mute-audio'],
  });
}
