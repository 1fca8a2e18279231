/**
 * A page on an origin that exists only in the page's routes, serving one worker script: for code that runs in a
 * dedicated worker with nothing of the app around it (no server).  An https origin is a secure context (WebGPU needs
 * one).  Used by e2e/piece-bytes.spec.ts and bench/staging.ts.
 */
import type { Page } from '@playwright/test';

/** Serves `script` at `<origin>/<name>` and a blank page everywhere else on `origin`, then opens `<origin>/`. */
export async function openWorkerOrigin(page: Page, origin: string, name: string, script: string): Promise<void> {
  await page.route(`${origin}/**`, (route) =>
    route.fulfill(
      new URL(route.request().url()).pathname === `/${name}`
        ? { contentType: 'text/javascript', body: script }
        : { contentType: 'text/html', body: '<!doctype html><title>worker</title>' },
    ),
  );
  await page.goto(`${origin}/`);
}
