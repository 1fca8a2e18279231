/**
 * The page's end of the worker's calls: each call gets an id, its answer (`result` or `error` with that id) settles
 * the promise it returned, and nothing else matches ids.  The table of calls and their results is `Calls` in
 * src/core/protocol.ts.
 */

import type { CallName, CallRequest, CallResult, ErrorInfo, MainToWorker } from '../../core/protocol.ts';

export interface StartedCall<K extends CallName> {
  /** The call's id: its events carry it, and a notice (cancel, download-stop) names the call by it. */
  id: number;
  result: Promise<CallResult<K>>;
}

export class Calls {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (res: unknown) => void; reject: (error: ErrorInfo) => void }>();

  constructor(private readonly post: (message: MainToWorker, transfer: Transferable[]) => void) {}

  /** Send call `name`; `transfer` moves big buffers (e.g. samples to transcribe) instead of copying them. */
  start<K extends CallName>(name: K, req: CallRequest<K>, transfer: Transferable[] = []): StartedCall<K> {
    const id = this.nextId++;
    const result = new Promise<CallResult<K>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (res: unknown) => void, reject });
      try {
        this.post({ type: 'call', call: name, id, req } as MainToWorker, transfer);
      } catch (error) {
        this.pending.delete(id);
        throw error;
      }
    });
    return { id, result };
  }

  call<K extends CallName>(name: K, req: CallRequest<K>, transfer: Transferable[] = []): Promise<CallResult<K>> {
    return this.start(name, req, transfer).result;
  }

  /** The worker answered call `id`. */
  resolve(id: number, res: unknown): void {
    this.pending.get(id)?.resolve(res);
    this.pending.delete(id);
  }

  /** Call `id` failed; false when no call has that id (the error then belongs to no call). */
  reject(id: number, error: ErrorInfo): boolean {
    const entry = this.pending.get(id);
    if (!entry) return false;
    this.pending.delete(id);
    entry.reject(error);
    return true;
  }

  /** The worker is gone: every call still waiting fails. */
  rejectAll(error: ErrorInfo): void {
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}
