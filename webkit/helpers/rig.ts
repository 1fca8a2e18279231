/**
 * The WebKit suite's machinery, started and stopped by the test run itself (vitest's globalSetup, webkit/setup.ts):
 * Xvfb (MiniBrowser has no headless mode), WebKitWebDriver (WebKitGTK's WebDriver, Debian's webkit2gtk-driver), and
 * a HOME whose ALSA default is a null sink (without an audio device WebKit's first AudioContext never starts; a
 * session hung there).  docs/testing.md describes the rig, docs/platforms.md what WebKitGTK offers.  Each process runs in its own process group, so stopping it also
 * stops what it started (MiniBrowser and WebKit's web processes); their output goes to build/webkit-home/*.log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { ROOT } from '../../e2e/helpers/paths.ts';

export const WEBDRIVER = '/usr/bin/WebKitWebDriver';
export const XVFB = '/usr/bin/Xvfb';
/** WebKitGTK's MiniBrowser, wherever the architecture puts it (/usr/lib/<triplet>/webkit2gtk-4.1/). */
export const MINIBROWSER =
  readdirSync('/usr/lib')
    .map((dir) => `/usr/lib/${dir}/webkit2gtk-4.1/MiniBrowser`)
    .find((path) => existsSync(path)) ?? '';
const INSTALL = 'apt-get install -y webkit2gtk-driver xvfb gstreamer1.0-alsa';
const HOME = resolve(ROOT, 'build/webkit-home');

export function missingTools(): string | null {
  const missing = [WEBDRIVER, XVFB].filter((p) => !existsSync(p));
  if (!MINIBROWSER) missing.push('MiniBrowser (/usr/lib/*/webkit2gtk-4.1/MiniBrowser)');
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

async function waitFor(what: string, ok: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what} did not start within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The last lines a process wrote (for an error message). */
function tail(log: string): string {
  try {
    const lines = readFileSync(log, 'utf8').trim().split('\n').slice(-8).join('\n');
    return lines ? `\n--- ${log} (last lines) ---\n${lines}` : '';
  } catch {
    return '';
  }
}

/** Start `command` in a process group of its own, its output in build/webkit-home/<name>.log. */
function launch(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const log = resolve(HOME, `${name}.log`);
  const fd = openSync(log, 'w');
  const child = spawn(command, args, { env, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  return { child, log };
}

function kill(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  try {
    process.kill(-child.pid, signal); // the whole group
  } catch {
    // already gone
  }
}

export interface Rig {
  webdriverPort: number;
  display: number;
  stop(): Promise<void>;
}

/** Xvfb on a display nobody uses: the first free one from :90 (another run may take one between check and start). */
async function startXvfb(children: ChildProcess[]): Promise<number> {
  for (let n = 90; n < 190; n++) {
    if (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) continue;
    const { child, log } = launch('xvfb', XVFB, [`:${n}`, '-screen', '0', '1280x1024x24', '-nolisten', 'tcp']);
    children.push(child);
    await waitFor('Xvfb', () => existsSync(`/tmp/.X11-unix/X${n}`) || child.exitCode !== null, 10_000);
    if (child.exitCode === null) return n;
    if (n > 100) throw new Error(`Xvfb did not start (last tried :${n})${tail(log)}`);
  }
  throw new Error('no free X display between :90 and :189');
}

export async function startRig(): Promise<Rig> {
  const problem = missingTools();
  if (problem) throw new Error(`the WebKit suite needs WebKitGTK's WebDriver and Xvfb: ${problem}`);
  mkdirSync(HOME, { recursive: true });
  writeFileSync(resolve(HOME, '.asoundrc'), 'pcm.!default { type null }\n');
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const c of [...children].reverse()) kill(c, 'SIGTERM');
    const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
    for (let i = 0; i < 20 && !children.every(exited); i++) await new Promise((r) => setTimeout(r, 100));
    for (const c of children) kill(c, 'SIGKILL');
  };
  try {
    const display = await startXvfb(children);
    const webdriverPort = await freePort();
    const { child: driver, log } = launch('webkitwebdriver', WEBDRIVER, [`--port=${webdriverPort}`], {
      ...process.env,
      DISPLAY: `:${display}`,
      HOME,
    });
    children.push(driver);
    await waitFor(
      'WebKitWebDriver',
      async () => {
        if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited with ${driver.exitCode}${tail(log)}`);
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

/** For a session that would not start: what WebKitWebDriver (and the MiniBrowser it started) wrote. */
export function driverLog(): string {
  return tail(resolve(HOME, 'webkitwebdriver.log'));
}
