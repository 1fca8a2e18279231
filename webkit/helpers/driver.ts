/**
 * A WebKitGTK browser for one test: webdriverio (classic WebDriver: this WebKitWebDriver has no BiDi) driving
 * MiniBrowser with the mock capture devices on (a microphone that plays a tone).  Every session starts with an empty
 * profile.  Elements inside the app's shadow roots are reached with webdriverio's deep selector (`>>>`).
 */
import { afterEach, beforeEach, inject } from 'vitest';
import { remote } from 'webdriverio';
import type { InPage } from '../../e2e/helpers/stored.ts';
import { MINIBROWSER, driverLog } from './rig.ts';

export type Browser = WebdriverIO.Browser;

export async function openBrowser(): Promise<Browser> {
  const session = remote({
    hostname: '127.0.0.1',
    port: inject('webdriverPort'),
    logLevel: 'warn',
    capabilities: {
      browserName: 'MiniBrowser',
      'wdio:enforceWebDriverClassic': true,
      'webkitgtk:browserOptions': {
        binary: MINIBROWSER,
        args: ['--automation', '--enable-media-stream=true', '--enable-mock-capture-devices=true'],
      },
    } as WebdriverIO.Capabilities,
  });
  return session.catch((err: unknown) => {
    throw new Error(`MiniBrowser did not start: ${err instanceof Error ? err.message : String(err)}${driverLog()}`);
  });
}

/** Close a test's browser (if it started) and then the rest, whatever fails on the way. */
export async function closeAll(b: Browser | undefined, ...rest: (() => Promise<unknown>)[]): Promise<void> {
  try {
    await b?.deleteSession();
  } finally {
    for (const close of rest) await close();
  }
}

/**
 * A fresh browser for each test of the file, after `setup` (e.g. a server of the test's own); closed after the test,
 * then `cleanup`.  Returns the current test's browser.
 */
export function browserPerTest(setup?: () => Promise<void>, cleanup?: () => Promise<unknown>): () => Browser {
  let opened: Browser | undefined;
  beforeEach(async () => {
    opened = undefined;
    await setup?.();
    opened = await openBrowser();
  });
  afterEach(async () => {
    await closeAll(opened, ...(cleanup ? [cleanup] : []));
  });
  return () => opened!;
}

/** The app's URL (behind the error collector) with `path` (e.g. '/?model=/models/tiny/&variant=fp32'). */
export const appUrl = (path = '/') => `${inject('appUrl')}${path}`;

/** An element by its data-testid, anywhere in the page's shadow roots. */
export const byTestId = (b: Browser, id: string) => b.$(`>>>[data-testid="${id}"]`);

/** Wait for an element by data-testid and return it. */
export async function waitTestId(b: Browser, id: string, timeout = 60_000) {
  const el = byTestId(b, id);
  await el.waitForExist({
    timeout,
    interval: 200,
    timeoutMsg: `[data-testid="${id}"] did not appear in ${timeout} ms`,
  });
  return el;
}

/** What the page's error collector caught: console errors and warnings, uncaught errors, rejections, worker errors. */
export async function pageErrors(b: Browser): Promise<string[]> {
  return (await b.execute(
    () => (window as unknown as { __errors?: string[] }).__errors ?? ['no error collector'],
  )) as string[];
}

/** The e2e helpers' `InPage` (e2e/helpers/stored.ts) for this browser. */
export function inBrowser(b: Browser): InPage {
  // (webdriverio types execute()'s arguments as elements or values; every argument here is plain JSON.)
  return <A, R>(fn: (arg: A) => R | Promise<R>, arg: A) =>
    b.execute(fn as unknown as (arg: unknown) => R, arg as unknown) as Promise<R>;
}

/** Wait until `check` holds, polling; fails with `what`. */
export async function until(b: Browser, what: string, check: () => Promise<boolean>, timeout = 60_000): Promise<void> {
  await b.waitUntil(check, { timeout, interval: 200, timeoutMsg: what });
}
