/**
 * The app under the server's Content-Security-Policy (server/static.ts): every part of it that the policy could
 * block runs here in real Chromium, served by the real server, and no violation is reported.  The page reports its
 * own violations (a `securitypolicyviolation` listener and Chromium's console); a worker or worklet that the policy
 * stopped would fail its part (no model load, no WASM compile, no audio), which the steps check.
 *  - the page, its styles and icons; the ASR worker; onnxruntime's WASM (compiled: 'wasm-unsafe-eval') with threads;
 *  - a file transcribed; the capture worklet and the VAD with the fake microphone; a recording played back (blob:).
 */
import { expect, test, type Browser, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { launchWithFakeMic } from './helpers/browser.ts';
import { ARTIFACTS, speechFile } from './helpers/paths.ts';
import { clipWav } from './helpers/reference.ts';

interface Goldens {
  max_new_tokens: number;
  clips: { id: string; files: string[]; windows: { text: string }[] }[];
}

/** Collect what the policy reports on `page` (console and DOM events), and every response's CSP header by URL. */
async function watch(page: Page) {
  const violations: string[] = [];
  const policies = new Map<string, string | null>();
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(`console: ${m.text()}`);
  });
  page.on('worker', (w) =>
    w.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(`worker: ${m.text()}`);
    }),
  );
  page.on('pageerror', (e) => {
    if (/Content Security Policy|Refused to/i.test(e.message)) violations.push(`error: ${e.message}`);
  });
  page.on('response', (r) => policies.set(new URL(r.url()).pathname, r.headers()['content-security-policy'] ?? null));
  await page.addInitScript(() => {
    const seen: string[] = [];
    (globalThis as unknown as { __csp: string[] }).__csp = seen;
    document.addEventListener('securitypolicyviolation', (e) =>
      seen.push(`${e.effectiveDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`),
    );
  });
  return {
    policies,
    all: async () => [
      ...violations,
      ...(await page.evaluate(() => (globalThis as unknown as { __csp: string[] }).__csp ?? [])),
    ],
  };
}

async function openWithModel(page: Page, extra = '') {
  await page.goto(`/?model=/models/tiny/&variant=fp32&engine=wasm${extra}`);
  await expect(page.getByTestId('engine')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('engine')).toHaveAttribute('data-provider', 'wasm');
}

test('a file transcribed under the CSP: no violation, the document and the worker both carry the policy', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const g = JSON.parse(readFileSync(resolve(ARTIFACTS, 'goldens', 'tiny', 'goldens.json'), 'utf8')) as Goldens;
  const clip = g.clips[0]!;
  const csp = await watch(page);
  await openWithModel(page, `&maxNewTokens=${g.max_new_tokens}`);
  await page.getByTestId('file-input').setInputFiles(clipWav(clip.id, clip.files));
  await expect(page.getByTestId('transcript')).toHaveText(
    clip.windows
      .map((w) => w.text)
      .join(' ')
      .trim(),
    {
      timeout: 120_000,
    },
  );
  expect(await csp.all()).toEqual([]);
  expect(csp.policies.get('/')).toContain("'wasm-unsafe-eval'");
  const worker = [...csp.policies.entries()].find(([path]) => /asr\.worker.*\.js$/.test(path));
  expect(worker, 'the ASR worker script was fetched').toBeDefined();
  expect(worker![1]).toContain("frame-ancestors 'none'");
});

test('recording with the fake microphone and playing it back under the CSP: no violation', async ({ baseURL }) => {
  test.setTimeout(240_000);
  let browser: Browser | null = null;
  try {
    browser = await launchWithFakeMic(speechFile('en/jfk.wav'));
    const page = await (await browser.newContext({ baseURL })).newPage();
    const csp = await watch(page);
    await openWithModel(page);
    await page.getByTestId('record').click();
    await expect(page.getByTestId('status')).toContainText('Recording');
    await expect(page.locator('[data-segment="final"]').first()).toBeVisible({ timeout: 60_000 });
    await page.getByTestId('stop').click();
    await expect(page.getByTestId('live-backlog')).toHaveCount(0, { timeout: 60_000 });
    // Playback of the kept recording from the library: an <audio> on a blob: URL (media-src).
    await page.getByTestId('library-item').first().click();
    const audio = page.getByTestId('doc-audio');
    await expect(audio).toHaveAttribute('src', /^blob:/, { timeout: 30_000 });
    const played = await audio.evaluate(async (el: HTMLAudioElement) => {
      el.muted = true;
      await el.play();
      await new Promise((ok) => setTimeout(ok, 300));
      return { time: el.currentTime, error: el.error?.code ?? null };
    });
    expect(played.error).toBeNull();
    expect(played.time).toBeGreaterThan(0);
    expect(await csp.all()).toEqual([]);
  } finally {
    await browser?.close();
  }
});
