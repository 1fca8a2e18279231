/**
 * The worker's end of a recording: receives frames from the worklet's MessagePort, keeps every sample
 * (SampleStore), checks the sequence for lost or repeated frames, returns each buffer to the worklet's pool, and
 * computes log-mel columns for the live view as audio arrives.
 */

import { FRAME_SAMPLES, HOP_SAMPLES, N_FFT, N_MELS } from '../../src/core/constants.ts';
import type { LogMel } from '../../src/core/dsp/mel.ts';
import { isWorkletToWorker, type CaptureStats, type MelColumns, type RecycleMessage } from '../../src/core/protocol.ts';
import { SampleStore } from './sample-store.ts';

/** The MessagePort surface the sink uses (the DOM's and Node's MessagePort both have it). */
export interface PortLike {
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  start(): void;
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  close(): void;
}

export interface CaptureSinkEvents {
  onFinished(stats: CaptureStats, poolMisses: number): void;
  /** New samples are in `store` (live dictation reads them from there). */
  onAudio?(store: SampleStore): void;
}

export class CaptureSink {
  readonly store = new SampleStore();
  private inputRateHz = 0;
  private inputSamples = 0;
  private frames = 0;
  private expectedSeq = 0;
  private lostFrames = 0;
  private duplicateFrames = 0;
  private rms = 0;
  private peak = 0;
  private finished = false;
  // live mel: next frame centre (in samples) and the columns computed since the last `takeMel`
  private nextCenter = 0;
  private readonly melColumns: number[] = [];
  private readonly melFrame = new Float32Array(N_MELS);
  private melCount = 0;

  constructor(
    readonly recordingId: string,
    private readonly port: PortLike,
    private readonly logMel: LogMel,
    private readonly events: CaptureSinkEvents,
  ) {
    port.addEventListener('message', (event) => this.onMessage(event.data));
    port.start();
  }

  get done(): boolean {
    return this.finished;
  }

  private onMessage(data: unknown): void {
    if (!isWorkletToWorker(data)) return;
    switch (data.type) {
      case 'capture-started':
        this.inputRateHz = data.inputRateHz;
        break;
      case 'frame': {
        if (data.seq < this.expectedSeq) {
          this.duplicateFrames++;
        } else {
          this.lostFrames += data.seq - this.expectedSeq;
          this.expectedSeq = data.seq + 1;
          this.store.append(data.samples);
          this.frames++;
          this.updateMel();
          this.events.onAudio?.(this.store);
        }
        if (data.rms > this.rms) this.rms = data.rms;
        if (data.peak > this.peak) this.peak = data.peak;
        if (data.samples.length === FRAME_SAMPLES) {
          const recycle: RecycleMessage = { type: 'recycle', buffer: data.samples.buffer as ArrayBuffer };
          this.port.postMessage(recycle, [recycle.buffer]);
        }
        break;
      }
      case 'capture-stopped':
        this.store.append(data.tail);
        this.inputSamples = data.inputSamples;
        this.updateMel();
        this.finished = true;
        this.port.close();
        this.events.onFinished(this.stats(), data.poolMisses);
        break;
    }
  }

  /** Statistics, resetting the level peak-hold. */
  stats(): CaptureStats {
    const stats: CaptureStats = {
      recordingId: this.recordingId,
      samples: this.store.length,
      inputSamples: this.inputSamples,
      frames: this.frames,
      lostFrames: this.lostFrames,
      duplicateFrames: this.duplicateFrames,
      inputRateHz: this.inputRateHz,
      rms: this.rms,
      peak: this.peak,
    };
    this.rms = 0;
    this.peak = 0;
    return stats;
  }

  /** Columns computed since the last call, or null. */
  takeMel(): MelColumns | null {
    if (this.melCount === 0) return null;
    const data = Float32Array.from(this.melColumns);
    const columns = this.melCount;
    this.melColumns.length = 0;
    this.melCount = 0;
    return { columns, data };
  }

  private updateMel(): void {
    const available = this.store.length;
    const half = N_FFT / 2;
    while (this.nextCenter + half <= available) {
      const start = this.nextCenter - half;
      const from = Math.max(0, start);
      const window = this.store.view(from, this.nextCenter + half);
      // frameLog10 centres on `center` within `window`; before sample 0 counts as silence
      this.logMel.frameLog10(window, this.nextCenter - from, this.melFrame);
      for (let m = 0; m < N_MELS; m++) this.melColumns.push(this.melFrame[m] as number);
      this.melCount++;
      this.nextCenter += HOP_SAMPLES;
    }
  }
}
