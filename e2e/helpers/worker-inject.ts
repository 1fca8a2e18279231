/**
 * Run a script in every dedicated worker of a page before the worker's own code runs.
 *
 * Playwright's `addInitScript` reaches pages and frames, not workers, yet the tests and benches need to patch what a
 * worker sees from its first line (the memory meter's GPU ledger wraps `GPUDevice.prototype.createBuffer`; the
 * Safari-adapter spec reshapes `navigator.gpu`).
 *
 * How: every JavaScript file the page or its workers load (`.js`, `.mjs`) is fetched through `page.route` and served
 * with a prefix that runs the scripts, once per realm, only where `self` is a `DedicatedWorkerGlobalScope`.  On the
 * page it does nothing; in a worker it runs before anything else of the worker's entry file, and for a module
 * worker even earlier, before the first imported module's body.  The response keeps its status and headers (the
 * app's CSP and isolation headers), so nothing else changes; a leading "use strict" stays in force.
 *
 * Why not the DevTools protocol (`Target.setAutoAttach` with `waitForDebuggerOnStart`, then `Runtime.evaluate` and
 * `Runtime.runIfWaitingForDebugger` in each paused worker)?  Playwright auto-attaches to workers the same way and
 * resumes each one at once; a worker runs as soon as any session resumes it, so the script raced the worker's code.
 * Measured in Chromium 156: of 8 workers per page, 0 to 8 saw the script first, varying from page to page.
 *
 * What it means for a script:
 *  - it runs inside a function in the worker's global scope (no `eval`: the app's CSP forbids it), so what it
 *    exports goes on `self`/`globalThis`; `this` is not the global object;
 *  - it also runs in workers that workers start (onnxruntime's WASM threads) whose files come from the page's
 *    origin, not in workers made from `blob:` or `data:` URLs, nor in shared or service workers;
 *  - a script that throws is reported with `console.error` in the worker and does not stop it.
 * `page.workers()`, `page.on('worker')` and `worker.evaluate` are untouched.  Routing disables the browser's HTTP
 * cache for the page (Playwright's rule), which the app does not rely on (the model lives in IndexedDB).
 *
 *   await injectIntoWorkers(page, 'self.patched = true;');   // before page.goto
 *   await page.goto(url);
 */
import type { Page, Route } from '@playwright/test';

/** The scripts of each page, in call order (one route per page serves them all). */
const scriptsOf = new WeakMap<Page, string[]>();

/** A file's text with `prefix` put first, after a leading "use strict" directive if there is one. */
function prepend(source: string, prefix: string): string {
  const directive = /^\s*(['"])use strict\1;?/.exec(source);
  if (!directive) return `${prefix}\n${source}`;
  return `${directive[0]}\n${prefix}\n${source.slice(directive[0].length)}`;
}

/** The prefix: each script once per realm, in a dedicated worker only. */
function prefixOf(scripts: readonly string[]): string {
  const runs = scripts
    .map(
      (script, i) =>
        `if (!g[K + ${i}]) { g[K + ${i}] = true; try { (function () {\n${script}\n})(); } catch (e) { console.error('injectIntoWorkers: script ${i} failed', e); } }`,
    )
    .join('\n');
  return (
    `;(function () { var g = globalThis, K = '__injectIntoWorkers';` +
    ` if (typeof DedicatedWorkerGlobalScope === 'undefined' || !(g instanceof DedicatedWorkerGlobalScope)) return;\n` +
    `${runs}\n})();`
  );
}

/**
 * From now on, every dedicated worker the page starts runs `script` (JavaScript source) before its own code.  Call
 * before `page.goto`.  Several calls on one page run their scripts in call order.
 */
export async function injectIntoWorkers(page: Page, script: string): Promise<void> {
  const known = scriptsOf.get(page);
  if (known) {
    known.push(script);
    return;
  }
  const scripts = [script];
  scriptsOf.set(page, scripts);
  await page.route(
    (url) => /\.m?js$/.test(url.pathname),
    async (route: Route) => {
      const response = await route.fetch();
      if (!response.ok()) return route.fulfill({ response });
      await route.fulfill({ response, body: prepend(await response.text(), prefixOf(scripts)) });
    },
  );
}
