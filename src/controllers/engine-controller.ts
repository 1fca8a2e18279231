/**
 * Owns the ASR worker: creates it when the host connects, terminates it when the host goes away, routes its typed
 * messages to listeners and turns request/response pairs into promises.
 */

import type { ReactiveController, ReactiveControllerHost } from 'lit';
import {
  isWorkerToMain,
  type CaptureStats,
  type ErrorInfo,
  type MainToWorker,
  type MelColumns,
  type WorkerToMain,
} from '../../workers/protocol.ts';

export interface FinishedCapture {
  stats: CaptureStats;
  poolMisses: number;
}

type Listener = (message: WorkerToMain) => void;

export class EngineController implements ReactiveController {
  /** Latest stats of the running capture (level meter, elapsed time). */
  captureStats: CaptureStats | null = null;
  /** Final stats per finished capture session. */
  readonly finished = new Map<number, FinishedCapture>();
  /** Errors the worker reported without a request id. */
  lastError: ErrorInfo | null = null;

  private worker: Worker | null = null;
  private readonly listeners = new Set<Listener>();
  private readonly melListeners = new Set<(mel: MelColumns) => void>();
  private readonly pending = new Map<number, { resolve: (m: WorkerToMain) => void; reject: (e: ErrorInfo) => void }>();
  private nextRequestId = 1;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  hostConnected(): void {
    this.worker = new Worker(new URL('../../workers/asr.worker.ts', import.meta.url), {
      type: 'module',
      name: 'asr',
    });
    this.worker.onmessage = (event: MessageEvent) => this.onMessage(event.data);
    this.worker.onerror = (event: ErrorEvent) => {
      this.lastError = { code: 'INTERNAL', detail: `worker failed: ${event.message}` };
      this.host.requestUpdate();
    };
  }

  hostDisconnected(): void {
    this.worker?.terminate();
    this.worker = null;
    for (const { reject } of this.pending.values()) reject({ code: 'CANCELLED', detail: 'worker terminated' });
    this.pending.clear();
  }

  post(message: MainToWorker, transfer: Transferable[] = []): void {
    if (!this.worker) throw new Error('the ASR worker is not running');
    this.worker.postMessage(message, transfer);
  }

  onMel(listener: (mel: MelColumns) => void): () => void {
    this.melListeners.add(listener);
    return () => this.melListeners.delete(listener);
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What a capture session recorded, as a 16-bit WAV file (a copy). */
  recordingWav(sessionId: number): Promise<Uint8Array> {
    const requestId = this.nextRequestId++;
    return new Promise<WorkerToMain>((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      this.post({ type: 'recording-get', requestId, sessionId, format: 'wav16' });
    }).then((message) => {
      if (message.type !== 'recording' || message.format !== 'wav16') throw new Error('unexpected reply');
      return message.data;
    });
  }

  private onMessage(data: unknown): void {
    if (!isWorkerToMain(data)) return;
    switch (data.type) {
      case 'capture-stats':
        this.captureStats = data.stats;
        break;
      case 'capture-finished':
        this.captureStats = data.stats;
        this.finished.set(data.stats.sessionId, { stats: data.stats, poolMisses: data.poolMisses });
        break;
      case 'mel-columns':
        for (const listener of this.melListeners) listener(data.mel);
        return; // no re-render for mel columns: the canvas draws them itself
      case 'error':
        if (data.requestId !== undefined && this.pending.has(data.requestId)) {
          this.pending.get(data.requestId)?.reject(data.error);
          this.pending.delete(data.requestId);
        } else {
          this.lastError = data.error;
        }
        break;
      case 'recording': {
        const entry = this.pending.get(data.requestId);
        this.pending.delete(data.requestId);
        entry?.resolve(data);
        break;
      }
      case 'ready':
        break;
    }
    for (const listener of this.listeners) listener(data);
    this.host.requestUpdate();
  }
}
