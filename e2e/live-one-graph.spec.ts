/**
 * Live dictation when the model is held one graph at a time (issue 23, item 2): the `graphs=one` test knob on the
 * tiny fp32 model on WASM, a fake microphone playing two LJ Speech utterances.  Such a device cannot decode as the
 * user speaks (each segment would cost two graph swaps), so the worker decides where live text comes from
 * (workers/host/live-source.ts, carried to the page as `BackendInfo.live`):
 *
 *  - no server the user allowed: nothing is decoded while recording, the dictation panel says the words appear at
 *    Stop, and at Stop the whole recording is transcribed on the device as a file job, by itself; its transcript is
 *    the Node pipeline's decode of the recording the app offers for download (the oracle of the "record ... stop,
 *    transcribe the whole recording" test in e2e/transcribe.spec.ts), and the library keeps it; at a phone's width,
 *    recorded with the keyboard;
 *  - Automatic with this origin's server allowed: live text comes from the server as the user speaks (each final is
 *    the Node pipeline's decode of its own samples, as in e2e/live.spec.ts), while the model stays on the device
 *    (the engine line says WASM).
 */
import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { encodeWavFloat32 } from '../src/core/dsp/wav.ts';
import { CHROMIUM_ARGS } from '../playwright.config.ts';
import { launchWithFakeMic } from './helpers/browser.ts';
import { rawLibrary } from './helpers/library.ts';
import { downloadRecording, utteranceFixture } from './helpers/live.ts';
import { E2E_FIXTURES } from './helpers/paths.ts';
import { referenceDecode } from './helpers/reference.ts';

const RATE = 16_000;
const QUERY = '?model=/models/tiny/&variant=fp32&engine=wasm&graphs=one';

const fixture = () => utteranceFixture('live-one-graph', ['en/lj-LJ001-0002.wav', 'en/lj-LJ001-0004.wav'], 1.5);

/**
 * Chromium with the fake microphone and no WebGPU at all (no `navigator.gpu`): a link that names an engine keeps
 * audio on the device (src/app/settings/run-preference.ts), so the server test names none, and without a GPU the
 * planner picks WASM for the tiny model (SwiftShader's WebGPU warm-up alone would take a minute).
 */
function launchWithFakeMicNoGpu(wavPath: string): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium',
    headless: true,
    args: [
      ...CHROMIUM_ARGS.filter((a) => a !== '--enable-unsafe-webgpu'),
      '--disable-blink-features=WebGPU',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wavPath}%noloop`,
    ],
    ignoreDefaultArgs: ['--mute-audio'],
  });
}

/** Seconds recorded so far, as the panel shows them. */
const elapsed = async (page: Page) => Number((await page.getByTestId('elapsed').textContent())?.split(':')[1]);

/** Open the app with the model one graph at a time on WASM; the engine line must show it ready. */
async function open(page: Page) {
  await page.goto(`/${QUERY}`);
  const engine = page.getByTestId('engine');
  await expect(engine).toHaveAttribute('data-provider', 'wasm', { timeout: 60_000 });
  return engine;
}

test('one graph at a time, no server allowed: no live text, the recording is transcribed on the device at Stop', async () => {
  test.setTimeout(120_000);
  const fx = fixture();
  const browser = await launchWithFakeMic(fx.path);
  try {
    const page = await browser.newPage();
    const v1: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.startsWith('/v1/')) v1.push(`${r.method()} ${new URL(r.url()).pathname}`);
    });
    // A phone's width, and the keyboard (R starts and stops) as for the rest of the panel.
    await page.setViewportSize({ width: 360, height: 800 });
    await open(page);
    // Said before recording...
    const note = page.getByTestId('live-source');
    await expect(note).toHaveAttribute('data-live', 'after-stop');
    await expect(note).toContainText('your words appear when you press Stop');
    const box = (await note.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(360);
    expect(await note.evaluate((e) => e.scrollWidth - e.clientWidth)).toBe(0);
    await page.keyboard.press('r');
    // ...and while recording.
    await expect(page.getByTestId('status')).toHaveText('Recording: your words appear when you press Stop.');
    await expect(note).toBeVisible();
    await expect.poll(() => elapsed(page), { timeout: (fx.seconds + 30) * 1000 }).toBeGreaterThanOrEqual(fx.seconds);
    // Both utterances were heard and nothing was decoded: no live transcript at all.
    await expect(page.locator('live-transcript-view')).toHaveCount(0);
    await expect(page.locator('[data-segment]')).toHaveCount(0);
    await page.keyboard.press('r');
    // The whole recording is transcribed by itself, as a file job, on this device.
    await expect(page.getByTestId('status')).toContainText('transcribed on this device now');
    await expect(page.getByTestId('transcript')).toBeVisible({ timeout: 60_000 });
    const engines = await page
      .getByTestId('windows')
      .locator('li')
      .evaluateAll((lis) => lis.map((li) => li.getAttribute('data-engine')));
    expect(engines).toEqual(['wasm']);
    const recording = await downloadRecording(page);
    const wav = resolve(E2E_FIXTURES, 'live-one-graph-recording.wav');
    writeFileSync(wav, encodeWavFloat32(recording, RATE));
    const reference = referenceDecode('tiny', 'fp32', wav);
    expect(reference.text.length).toBeGreaterThan(0);
    await expect(page.getByTestId('transcript')).toHaveText(reference.text);
    // No second offer to transcribe what is already transcribed (it would only say a job is running).
    await expect(page.getByTestId('download')).toBeVisible();
    await expect(page.getByTestId('transcribe-recording')).toHaveCount(0);
    // Kept: the recording's library document holds the whole-recording windows.
    await expect
      .poll(async () => {
        const doc = (await rawLibrary(page)).docs[0];
        return [doc?.['status'], (doc?.['segments'] as { text: string }[] | undefined)?.map((s) => s.text)];
      })
      .toEqual(['done', reference.windows.map((w) => w.text)]);
    // No live text and no server: nothing went to /v1/.
    expect(v1).toEqual([]);
    await expect(page.locator('[data-segment]')).toHaveCount(0);
  } finally {
    await browser.close();
  }
});

test('one graph at a time, Automatic with the server allowed: live text from the server, the model on the device', async () => {
  test.setTimeout(120_000);
  const fx = fixture();
  const browser = await launchWithFakeMicNoGpu(fx.path);
  try {
    const page = await browser.newPage();
    // This origin's API allowed, as the consent prompt leaves it (src/app/settings/routing-settings.ts).
    const origin = new URL(test.info().project.use.baseURL!).origin;
    await page.addInitScript(
      (consented) =>
        localStorage.setItem(
          'glm-asr.routing',
          JSON.stringify({ where: 'auto', serverUrl: '', apiKey: '', consented: [consented] }),
        ),
      `${origin}/v1`,
    );
    const posts: number[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/v1/audio/transcriptions') posts.push(Date.now());
    });
    await page.goto(`${origin}/?model=/models/tiny/&variant=fp32&graphs=one`);
    await expect(page.getByTestId('engine')).toHaveAttribute('data-provider', 'wasm', { timeout: 60_000 });
    const note = page.getByTestId('live-source');
    await expect(note).toHaveAttribute('data-live', 'server');
    await expect(note).toHaveText(
      `Live text comes from the server ${new URL(origin).host} while you speak; files stay on this device.`,
    );
    await page.getByTestId('record').click();
    await expect(page.getByTestId('status')).toHaveText('Recording: your words appear below as you speak.');
    // The first utterance's final arrives while still recording, from the server.
    await expect(page.locator('[data-segment="final"]').first()).toBeVisible({ timeout: (fx.seconds + 20) * 1000 });
    await expect(page.getByTestId('stop')).toBeVisible();
    expect(posts.length).toBeGreaterThan(0);
    await expect.poll(() => elapsed(page), { timeout: (fx.seconds + 30) * 1000 }).toBeGreaterThanOrEqual(fx.seconds);
    await page.getByTestId('stop').click();
    await expect(page.locator('[data-segment="partial"]')).toHaveCount(0, { timeout: 60_000 });
    await expect(page.getByTestId('live-backlog')).toHaveCount(0, { timeout: 60_000 });
    const finals = await page.locator('[data-segment="final"]').evaluateAll((els) =>
      els.map((e) => ({
        engine: e.getAttribute('data-engine'),
        startSample: Number(e.getAttribute('data-start-sample')),
        endSample: Number(e.getAttribute('data-end-sample')),
        text: e.querySelector('[data-text]')?.getAttribute('data-text') ?? '',
      })),
    );
    // One final per utterance, each from the server and equal to the Node decode of exactly its samples.
    expect(finals.map((f) => f.engine)).toEqual(['server', 'server']);
    const recording = await downloadRecording(page);
    for (const [i, f] of finals.entries()) {
      const wav = resolve(E2E_FIXTURES, `live-one-graph-server-${i}.wav`);
      writeFileSync(wav, encodeWavFloat32(recording.slice(f.startSample, f.endSample), RATE));
      expect(f.text, `segment ${i}`).toBe(referenceDecode('tiny', 'fp32', wav).text);
    }
    // Transcribed live: no whole-recording job started at Stop.
    await expect(page.getByTestId('transcript')).toHaveCount(0);
  } finally {
    await browser.close();
  }
});
