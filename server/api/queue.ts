/**
 * The bounded job queue: at most `concurrency` jobs run at once (sharing the loaded pipelines), at most `maxWaiting`
 * wait; a full queue is refused at once (429 with Retry-After).  A job whose client went away (its AbortSignal
 * fired) leaves the queue while waiting, and is expected to stop itself while running (the pipeline checks the
 * signal before every graph run).
 *
 * Uploads in progress hold places too, so one remote address may have at most `perAddress` of them at once (half
 * the places by default): a slow client elsewhere on the network cannot take every place.  Loopback peers are not
 * counted per address: they are this machine (or a reverse proxy on it, where every client shares one address).
 */
import { ApiError } from './errors.ts';

type Waiter = () => void;

export class JobQueue {
  private active = 0;
  private readonly waiting: Waiter[] = [];
  /** Requests whose upload is being read or decoded (they hold memory too, so they count against the limit). */
  private pending = 0;
  /** Duration of recent jobs (s), for Retry-After. */
  private recentSec = 5;

  /** Uploads in progress per remote address (loopback excluded). */
  private readonly uploadsFrom = new Map<string, number>();

  constructor(
    readonly concurrency: number,
    readonly maxWaiting: number,
    readonly perAddress = Math.max(1, Math.ceil((concurrency + maxWaiting) / 2)),
  ) {}

  get running(): number {
    return this.active;
  }
  get queued(): number {
    return this.waiting.length;
  }

  /** Seconds a refused client should wait: the time for the jobs ahead to drain, at least 1. */
  retryAfterSec(): number {
    return Math.max(1, Math.ceil(((this.waiting.length + this.pending + 1) * this.recentSec) / this.concurrency));
  }

  private full(): ApiError {
    return new ApiError(
      429,
      'rate_limit_error',
      'queue_full',
      `the server is busy: ${this.active} job(s) running, ${this.waiting.length} waiting and ${this.pending} upload(s) being read (the limit); retry later`,
      null,
      { 'Retry-After': String(this.retryAfterSec()) },
    );
  }

  get uploading(): number {
    return this.pending;
  }

  /**
   * Reserve a place before reading an upload: uploads in progress, waiting and running jobs together stay within
   * `concurrency + maxWaiting` (so N clients at once cannot each buffer a 100 MB upload), and `address` (the peer)
   * has at most `perAddress` uploads in progress.  Throws the 429 when there is no place; otherwise returns the
   * release, to call once the job is queued or failed.
   */
  reserve(address?: string): () => void {
    if (this.active + this.waiting.length + this.pending >= this.concurrency + this.maxWaiting) throw this.full();
    const key = address && !isLoopback(address) ? address : undefined;
    const from = key ? (this.uploadsFrom.get(key) ?? 0) : 0;
    if (key && from >= this.perAddress)
      throw new ApiError(
        429,
        'rate_limit_error',
        'too_many_uploads',
        `${from} uploads from your address are in progress, the most one address may have at once; send the next when one is done`,
        null,
        { 'Retry-After': String(this.retryAfterSec()) },
      );
    this.pending++;
    if (key) this.uploadsFrom.set(key, from + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.pending--;
      if (!key) return;
      const left = (this.uploadsFrom.get(key) ?? 1) - 1;
      if (left > 0) this.uploadsFrom.set(key, left);
      else this.uploadsFrom.delete(key);
    };
  }

  /** Run `job` when a slot is free.  Rejects with 429 when full, or with the signal's reason when aborted first. */
  async run<T>(job: () => Promise<T>, signal?: AbortSignal, reservation?: () => void): Promise<T> {
    reservation?.();
    signal?.throwIfAborted();
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting) throw this.full();
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(waiter);
      });
    } else {
      this.active++;
    }
    // A slot is ours here (taken by us, or handed over by the job that ended).
    const t0 = performance.now();
    try {
      return await job();
    } finally {
      this.recentSec = 0.7 * this.recentSec + 0.3 * ((performance.now() - t0) / 1000);
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** 127.0.0.0/8 and ::1, also as IPv4-mapped IPv6 (how a dual-stack socket reports an IPv4 peer). */
function isLoopback(address: string): boolean {
  const a = address.toLowerCase().replace(/^::ffff:/, '');
  return a === '::1' || /^127\./.test(a);
}
