/**
 * The app's server as a child process, started with the command line a user runs (`node --import tsx
 * server/server.ts`, so the pid is the server's own, not a launcher's): the API's crash and fuzz tests, the first
 * start, the e2e specs that need a server of their own and the upload bench.  It is listening once it prints
 * "GLM-ASR web app on <url>/"; everything it prints (stdout and stderr) is kept for the test's report.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ROOT } from './data.ts';

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcessOptions {
  /** Extra environment over this process's own. */
  env?: Record<string, string>;
  /** `--port` (0: any free one). */
  port?: number;
  /** Keep only the last this many characters of its output (default: all of it). */
  keepChars?: number;
  /** How long it may take to print its URL (default 60 s). */
  startTimeoutMs?: number;
}

export interface ServerProcess {
  child: ChildProcess;
  /** The app's origin (`http://host:port`, no trailing slash) once it listens; rejects if it ends or times out first. */
  listening: Promise<string>;
  /** Set when the process has ended; `exited` resolves then.  Both wait for 'close' (after the output streams end),
   *  so a crash's stack trace is in `log()` by then. */
  exit: ServerExit | null;
  exited: Promise<ServerExit>;
  /** Everything it printed so far (stdout and stderr). */
  log: () => string;
  /** Resolves when its output matches `pattern` (already or later); rejects after `timeoutMs`. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<void>;
  /** SIGTERM (SIGKILL after 5 s) and wait for the end; nothing when it has already ended. */
  stop: () => Promise<void>;
}

const LISTENING = /GLM-ASR web app on (https?:\/\/[^/\s]+)\//;

/** Start `server/server.ts --port <port> ...args` at once; `listening` says when it listens. */
export function spawnServer(args: string[], options: ServerProcessOptions = {}): ServerProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'server/server.ts', '--port', String(options.port ?? 0), ...args],
    {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const waiters = new Set<() => void>();
  const keep = (d: Buffer) => {
    out += d.toString();
    if (options.keepChars !== undefined) out = out.slice(-options.keepChars);
    for (const check of [...waiters]) check();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<ServerExit>((done) =>
    child.on('close', (code, signal) => {
      proc.exit = { code, signal };
      done(proc.exit);
    }),
  );
  const waitFor = (pattern: RegExp, timeoutMs = 120_000) =>
    new Promise<void>((done, fail) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        fail(new Error(`no ${pattern} within ${timeoutMs} ms; log:\n${out}`));
      }, timeoutMs);
      const check = () => {
        if (!pattern.test(out)) return;
        waiters.delete(check);
        clearTimeout(timer);
        done();
      };
      waiters.add(check);
      check();
    });
  const listening = new Promise<string>((done, fail) => {
    const timeoutMs = options.startTimeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      waiters.delete(look);
      fail(new Error(`the server did not start within ${timeoutMs / 1000} s:\n${out}`));
    }, timeoutMs);
    const look = () => {
      const m = LISTENING.exec(out);
      if (!m) return;
      waiters.delete(look);
      clearTimeout(timer);
      done(m[1]!);
    };
    waiters.add(look);
    void exited.then((why) => {
      clearTimeout(timer);
      fail(new Error(`the server ended before listening (${why.code ?? why.signal}):\n${out}`));
    });
  });
  // A caller that never asks for the URL (or stops the server first) is not told it failed to start.
  listening.catch(() => undefined);
  const proc: ServerProcess = {
    child,
    listening,
    exit: null,
    exited,
    log: () => out,
    waitFor,
    stop: async () => {
      if (proc.exit) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
  return proc;
}

/** A started server: its origin and port known. */
export interface ListeningServer extends ServerProcess {
  /** `http://host:port`, no trailing slash. */
  url: string;
  port: number;
}

/** Start it and wait until it listens. */
export async function startServerProcess(args: string[], options: ServerProcessOptions = {}): Promise<ListeningServer> {
  const proc = spawnServer(args, options);
  const url = await proc.listening;
  return Object.assign(proc, { url, port: Number(new URL(url).port) });
}

/** Resident and peak resident memory of `pid` in MiB (Linux /proc). */
export function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}
