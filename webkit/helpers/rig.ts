/**
 * The WebKit suite's machinery, started and stopped by the test run itself (vitest's globalSetup, webkit/setup.ts):
 * Xvfb (MiniBrowser has no headless mode), WebKitWebDriver (WebKitGTK's WebDriver, Debian's webkit2gtk-driver), and
 * a HOME whose ALSA default is a null sink (without an audio device WebKit's first AudioContext never starts).
 * shared/docs/test-rig.md §6 has what was measured.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { ROOT } from '../../e2e/helpers/paths.ts';

export const WEBDRIVER = '/usr/bin/WebKitWebDriver';
export const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
export const XVFB = '/usr/bin/Xvfb';
const INSTALL = 'apt-get install -y webkit2gtk-driver xvfb gstreamer1.0-alsa';

export function missingTools(): string | null {
  const missing = [WEBDRIVER, MINIBROWSER, XVFB].filter((p) => !existsSync(p));
  return missing.length ? `missing ${missing.join(', ')}: install them with \`${INSTALL}\`` : null;
}

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

/** An X display number nobody uses. */
function freeDisplay(): number {
  for (let n = 90; n < 190; n++) if (!existsSync(`/tmp/.X11-unix/X${n}`) && !existsSync(`/tmp/.X${n}-lock`)) return n;
  throw new Error('no free X display between :90 and :189');
}

async function waitFor(what: string, ok: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what} did not start within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface Rig {
  webdriverPort: number;
  display: number;
  stop(): Promise<void>;
}

export async function startRig(): Promise<Rig> {
  const problem = missingTools();
  if (problem) throw new Error(`the WebKit suite needs WebKitGTK's WebDriver and Xvfb: ${problem}`);
  const home = resolve(ROOT, 'build/webkit-home');
  mkdirSync(home, { recursive: true });
  writeFileSync(resolve(home, '.asoundrc'), 'pcm.!default { type null }\n');
  const display = freeDisplay();
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const c of children.reverse()) if (c.exitCode === null) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  };
  try {
    const xvfb = spawn(XVFB, [`:${display}`, '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
    children.push(xvfb);
    await waitFor('Xvfb', () => existsSync(`/tmp/.X11-unix/X${display}`) || xvfb.exitCode !== null, 10_000);
    if (xvfb.exitCode !== null) throw new Error(`Xvfb :${display} exited with ${xvfb.exitCode}`);
    const webdriverPort = await freePort();
    const driver = spawn(WEBDRIVER, [`--port=${webdriverPort}`], {
      env: { ...process.env, DISPLAY: `:${display}`, HOME: home },
      stdio: 'ignore',
    });
    children.push(driver);
    await waitFor(
      'WebKitWebDriver',
      async () => {
        if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited with ${driver.exitCode}`);
        return fetch(`http://127.0.0.1:${webdriverPort}/status`).then(
          (r) => r.ok,
          () => false,
        );
      },
      15_000,
    );
    return { webdriverPort, display, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
