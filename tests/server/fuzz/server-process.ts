/**
 * The real server as a child process for the fuzz suite (`node --import tsx server/server.ts`, the command line a
 * user runs, so its pid is the server's own): its exit is watched (an exit is a crash, whatever the code), its
 * output kept for the report, its RSS read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ROOT } from '../../helpers/data.ts';

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** Set when the process has exited (code or signal). */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  /** Everything it printed (stdout and stderr), the last 64 KiB. */
  output: () => string;
  stop: () => Promise<void>;
}

/** Start it on `port` (0: any free one; a restart after a crash takes the port it had, which its exit freed). */
export async function startServer(args: string[], env: Record<string, string> = {}, port = 0): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/server.ts', '--port', String(port), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-65536);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const proc: ServerProcess = {
    child,
    port: 0,
    exit: null,
    output: () => out,
    stop: async () => {
      if (proc.exit) return;
      const gone = new Promise<void>((ok) => child.once('close', () => ok()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
    },
  };
  // 'close' comes after the output streams end, so a crash's stack trace is in `output()` by then.
  child.on('close', (code, signal) => {
    proc.exit = { code, signal };
  });
  proc.port = await new Promise<number>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the server did not start within 60 s:\n${out}`)), 60_000);
    const look = () => {
      const m = /GLM-ASR web app on https?:\/\/[^/\s]+:(\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    };
    child.stdout!.on('data', look);
    child.once('exit', () => {
      clearTimeout(timer);
      fail(new Error(`the server exited while starting:\n${out}`));
    });
  });
  return proc;
}

/** Resident and peak resident memory of `pid` in MiB (Linux /proc). */
export function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}
