/**
 * A model host for download tests, on its own origin (like a hub `resolve/main/` URL): serves a converted model
 * directory with CORS and Range support, counts every byte it writes per file, and injects faults on request —
 * a dropped connection or a stall at an exact byte offset, an HTTP status, a wrong length, corrupted bytes.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { resolve } from 'node:path';

/** Bytes per write: small, so a stall stops every body within one slice. */
const SLICE = 16 * 1024;
const DROP_AFTER_MS = 150;

export interface Interruption {
  path: string;
  /** Absolute byte offset in the file: the server writes bytes before it, then drops or stalls. */
  offset: number;
  mode: 'drop' | 'stall';
}

export class ModelServer {
  /** Bytes written per file path (bodies only). */
  readonly served = new Map<string, number>();
  readonly requests: { path: string; range: string | undefined; status: number }[] = [];
  /** Pending interruptions; each fires once, in file order. */
  interruptions: Interruption[] = [];
  readonly fired: Interruption[] = [];
  /** Per-path faults: a status to answer with, a length to lie about, or corrupted content. */
  readonly status = new Map<string, number>();
  readonly wrongLength = new Set<string>();
  readonly corrupt = new Set<string>();
  private readonly stalled = new Set<Socket>();
  private server: Server | null = null;
  url = '';

  constructor(readonly dir: string) {}

  file(path: string): Buffer {
    return readFileSync(resolve(this.dir, path));
  }

  sha256(path: string): string {
    return createHash('sha256').update(this.file(path)).digest('hex');
  }

  get stalls(): number {
    return this.stalled.size;
  }

  /** Drop every stalled connection (after the test reloaded the page). */
  releaseStalls(): void {
    for (const s of this.stalled) s.destroy();
    this.stalled.clear();
  }

  resetCounts(): void {
    this.served.clear();
    this.requests.length = 0;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req.method ?? 'GET', req.url ?? '/', req.headers.range, res));
    await new Promise<void>((ok) => this.server?.listen(0, '127.0.0.1', ok));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.releaseStalls();
    this.server?.closeAllConnections();
    await new Promise<void>((ok) => this.server?.close(() => ok()));
  }

  private handle(method: string, rawUrl: string, range: string | undefined, res: ServerResponse): void {
    const path = decodeURIComponent(new URL(rawUrl, 'http://x').pathname.slice(1));
    const cors = {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Headers': 'Range',
      'Access-Control-Expose-Headers': 'Content-Length, Content-Range, Accept-Ranges',
      'Cross-Origin-Resource-Policy': 'cross-origin',
      'Cache-Control': 'no-store',
    };
    const answer = (status: number, headers: Record<string, string | number> = {}) => {
      this.requests.push({ path, range, status });
      res.writeHead(status, { ...cors, ...headers });
    };
    if (method === 'OPTIONS') {
      answer(204);
      res.end();
      return;
    }
    let data: Buffer;
    try {
      data = this.file(path);
    } catch {
      answer(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    const status = this.status.get(path);
    if (status) {
      answer(status, { 'Content-Type': 'text/plain' });
      res.end(`fault injected: ${status}`);
      return;
    }
    if (this.wrongLength.has(path)) data = data.subarray(0, data.length - 100);
    if (this.corrupt.has(path)) {
      data = Buffer.from(data);
      for (let i = 0; i < data.length; i += 4096) data[i] = (data[i] as number) ^ 0xff;
    }
    let start = 0;
    let end = data.length - 1;
    const m = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    if (m) {
      start = Number(m[1]);
      end = m[2] ? Math.min(Number(m[2]), end) : end;
      answer(206, {
        'Content-Length': end - start + 1,
        'Content-Range': `bytes ${start}-${end}/${data.length}`,
        'Accept-Ranges': 'bytes',
      });
    } else {
      answer(200, { 'Content-Length': data.length, 'Accept-Ranges': 'bytes' });
    }
    if (method === 'HEAD') {
      res.end();
      return;
    }
    const cut = this.interruptions.find((i) => i.path === path && i.offset >= start && i.offset <= end);
    if (cut) {
      this.interruptions = this.interruptions.filter((i) => i !== cut);
      this.fired.push(cut);
    }
    void this.send(res, path, data.subarray(start, cut ? cut.offset : end + 1), cut);
  }

  /**
   * Write a body in slices, each after the previous one reached the socket, counting what was written.  While a
   * stall is pending every other response waits too, so when the test reloads the page nothing is left in transit
   * beyond what the client already received.
   */
  private async send(res: ServerResponse, path: string, body: Buffer, cut: Interruption | undefined): Promise<void> {
    for (let at = 0; at < body.length; at += SLICE) {
      while (this.stalled.size > 0 && !res.destroyed) await new Promise((ok) => setTimeout(ok, 10));
      if (res.destroyed) return;
      const slice = body.subarray(at, at + SLICE);
      const ok = await new Promise<boolean>((done) => res.write(slice, (err) => done(!err)));
      if (!ok) return;
      this.served.set(path, (this.served.get(path) ?? 0) + slice.length);
    }
    if (!cut) res.end();
    else if (cut.mode === 'drop') {
      // The connection breaks after byte `offset` arrived: give the client time to read it (a browser discards
      // response bytes it has not read yet when the connection fails), then cut.
      await new Promise((ok) => setTimeout(ok, DROP_AFTER_MS));
      res.socket?.destroy();
    } else if (res.socket) this.stalled.add(res.socket);
  }
}
