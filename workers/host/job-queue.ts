/**
 * The model's turns: transcription jobs and live-dictation decodes share the loaded model's state, so they run one
 * at a time, each after the one before it has settled.  Each waiting or running turn can be cancelled by its request
 * id (live decodes get negative ids of their own), and a release cancels them all.
 */
export class JobQueue {
  private readonly running = new Map<number, AbortController>();
  /** Settles when the last queued turn has. */
  private turn: Promise<unknown> = Promise.resolve();
  private liveIds = 0;

  /** Whether no turn is waiting or running. */
  get idle(): boolean {
    return this.running.size === 0;
  }

  /** A request id for a live decode (negative: never one of the page's). */
  liveId(): number {
    return -++this.liveIds;
  }

  /**
   * `work` when the turns before it have settled, under a signal that `cancel(id)`, `cancelAll` and `outer` (when
   * given) abort.
   */
  async run<T>(id: number, work: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal): Promise<T> {
    const controller = new AbortController();
    const onAbort = () => controller.abort(outer?.reason);
    outer?.addEventListener('abort', onAbort, { once: true });
    this.running.set(id, controller);
    try {
      const take = () => work(controller.signal);
      const run = this.turn.then(take, take);
      this.turn = run.catch(() => undefined);
      return await run;
    } finally {
      this.running.delete(id);
      outer?.removeEventListener('abort', onAbort);
    }
  }

  cancel(id: number, reason: unknown): void {
    this.running.get(id)?.abort(reason);
  }

  cancelAll(reason: unknown): void {
    for (const c of this.running.values()) c.abort(reason);
  }
}
