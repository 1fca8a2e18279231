/**
 * Capture worklet: microphone audio at the AudioContext's own rate -> 16 kHz mono frames of FRAME_SAMPLES,
 * transferred straight to the ASR worker over a MessagePort (no main-thread hop).
 *
 * Runs in AudioWorkletGlobalScope.  Imports only constants, the resampler and the protocol guards: nothing that
 * touches the DOM or allocates per call.  `process()` allocates nothing in steady state: frames come from a pool
 * the worker refills by sending each buffer back (`recycle`); the message object and transfer list are reused.
 * If the worker falls behind and the pool runs dry, a new frame is allocated (counted as a pool miss) rather than
 * dropping audio.
 */

import { FRAME_POOL_SIZE, FRAME_SAMPLES, SAMPLE_RATE_HZ } from '../src/core/constants.ts';
import { Resampler } from '../src/core/dsp/resampler.ts';
import { isMainToWorklet, isWorkerToWorklet, type FrameMessage, type WorkletToMain } from '../src/core/protocol.ts';
import { downmix } from '../src/core/dsp/mono.ts';

const RENDER_QUANTUM = 128;

class CaptureProcessor extends AudioWorkletProcessor {
  private resampler = new Resampler(sampleRate, SAMPLE_RATE_HZ, RENDER_QUANTUM);
  private readonly mono = new Float32Array(RENDER_QUANTUM);
  private readonly pool: Float32Array[] = [];
  private readonly message: FrameMessage = { type: 'frame', seq: 0, samples: new Float32Array(0), rms: 0, peak: 0 };
  private readonly transfer: ArrayBuffer[] = [new ArrayBuffer(0)];
  private frame: Float32Array | null = null;
  private fill = 0;
  private seq = 0;
  private sumSquares = 0;
  private sumCount = 0;
  private peak = 0;
  private poolMisses = 0;
  private port2: MessagePort | null = null;
  private recordingId = '';
  private running = false;

  constructor() {
    super();
    for (let i = 0; i < FRAME_POOL_SIZE; i++) this.pool.push(new Float32Array(FRAME_SAMPLES));
    this.port.onmessage = (event: MessageEvent) => this.onControl(event.data);
  }

  private post(message: WorkletToMain): void {
    this.port.postMessage(message);
  }

  private onControl(data: unknown): void {
    if (!isMainToWorklet(data)) return;
    switch (data.type) {
      case 'start':
        this.port2 = data.port;
        this.port2.onmessage = (event: MessageEvent) => {
          const msg: unknown = event.data;
          if (isWorkerToWorklet(msg) && msg.buffer.byteLength === FRAME_SAMPLES * 4) {
            this.pool.push(new Float32Array(msg.buffer));
          }
        };
        this.recordingId = data.recordingId;
        if (this.seq > 0) this.resampler = new Resampler(sampleRate, SAMPLE_RATE_HZ, RENDER_QUANTUM);
        this.seq = 0;
        this.poolMisses = 0;
        this.running = true;
        this.port2.postMessage({ type: 'capture-started', recordingId: this.recordingId, inputRateHz: sampleRate });
        break;
      case 'stop':
        this.finish();
        break;
    }
  }

  process(inputs: Float32Array[][]): boolean {
    if (!this.running) return true;
    const channels = inputs[0];
    if (!channels || channels.length === 0) return true; // source gone or not connected yet: nothing to record
    const first = channels[0] as Float32Array;
    const length = first.length;
    const block = channels.length > 1 ? downmix(channels, length, this.mono) : first;
    for (let i = 0; i < length; i++) {
      const v = block[i] as number;
      this.sumSquares += v * v;
      const a = v < 0 ? -v : v;
      if (a > this.peak) this.peak = a;
    }
    this.sumCount += length;
    this.emit(this.resampler.process(block, length));
    return true;
  }

  /** Move `count` resampled samples from the resampler's output into frames, posting each full frame. */
  private emit(count: number): void {
    const src = this.resampler.output;
    let i = 0;
    while (i < count) {
      if (!this.frame) {
        this.frame = this.pool.pop() ?? this.allocate();
        this.fill = 0;
      }
      const n = Math.min(count - i, FRAME_SAMPLES - this.fill);
      this.frame.set(src.subarray(i, i + n), this.fill);
      this.fill += n;
      i += n;
      if (this.fill === FRAME_SAMPLES) this.sendFrame();
    }
  }

  private allocate(): Float32Array {
    this.poolMisses++;
    return new Float32Array(FRAME_SAMPLES);
  }

  private sendFrame(): void {
    const frame = this.frame as Float32Array;
    const msg = this.message;
    msg.seq = this.seq++;
    msg.samples = frame;
    msg.rms = this.sumCount ? Math.sqrt(this.sumSquares / this.sumCount) : 0;
    msg.peak = this.peak;
    this.transfer[0] = frame.buffer as ArrayBuffer;
    this.port2?.postMessage(msg, this.transfer);
    this.frame = null;
    this.fill = 0;
    this.sumSquares = 0;
    this.sumCount = 0;
    this.peak = 0;
  }

  /** Drain the resampler, send the partial last frame as `tail`, and tell both sides we stopped. */
  private finish(): void {
    if (!this.running) {
      this.post({ type: 'stopped', recordingId: this.recordingId });
      return;
    }
    this.running = false;
    for (let n = this.resampler.flush(); n > 0; n = this.resampler.flush()) this.emit(n);
    const tail = this.frame ? this.frame.slice(0, this.fill) : new Float32Array(0);
    this.frame = null;
    this.fill = 0;
    this.port2?.postMessage({
      type: 'capture-stopped',
      recordingId: this.recordingId,
      tail,
      frames: this.seq,
      inputSamples: this.resampler.counts.input,
      poolMisses: this.poolMisses,
    });
    this.port2?.close();
    this.port2 = null;
    this.post({ type: 'stopped', recordingId: this.recordingId });
  }
}

registerProcessor('capture-processor', CaptureProcessor);
if (__TEST_BUILD__) registerControlTap();

/**
 * The capture tests' control (test build only: registered behind `__TEST_BUILD__` above, so the production bundle
 * does not contain it).  A trivial second consumer of the microphone's source node: it copies channel 0 of every
 * render quantum, with the quantum's `currentFrame`, into buffers allocated up front, and does nothing else: no
 * resampling, no messages while recording, no allocation in `process()`.  On any message it posts what it holds.
 * The tests (e2e/helpers/control-tap.ts) compare it with the played file (what the browser lost upstream of the
 * graph) and with the app's recording (what the app lost or changed).  It lives in the app's worklet module because
 * the app's Content-Security-Policy (script-src 'self') admits no module a test could make.
 */
function registerControlTap(): void {
  class ControlTap extends AudioWorkletProcessor {
    private readonly samples: Float32Array;
    private readonly frames: Float64Array;
    private written = 0;
    private blocks = 0;
    private emptyBlocks = 0;
    private overflow = 0;
    private maxChannels = 0;

    constructor(options?: { processorOptions?: unknown }) {
      super();
      const asked = Number((options?.processorOptions as { seconds?: unknown } | undefined)?.seconds);
      // Bounded: a test asks for tens of seconds; anything else gets a minute.
      const seconds = asked > 0 && asked <= 600 ? asked : 60;
      this.samples = new Float32Array(Math.ceil(seconds * sampleRate));
      this.frames = new Float64Array(Math.ceil(this.samples.length / RENDER_QUANTUM) + 1);
      this.port.onmessage = () => {
        this.port.postMessage({
          rate: sampleRate,
          samples: this.samples.slice(0, this.written),
          frames: this.frames.slice(0, this.blocks),
          emptyBlocks: this.emptyBlocks,
          overflow: this.overflow,
          maxChannels: this.maxChannels,
        });
      };
    }

    process(inputs: Float32Array[][]): boolean {
      const channels = inputs[0];
      if (!channels || channels.length === 0) {
        this.emptyBlocks++;
        return true;
      }
      if (channels.length > this.maxChannels) this.maxChannels = channels.length;
      const block = channels[0] as Float32Array;
      if (this.written + block.length > this.samples.length || this.blocks >= this.frames.length) {
        this.overflow += block.length;
        return true;
      }
      this.samples.set(block, this.written);
      this.frames[this.blocks++] = currentFrame;
      this.written += block.length;
      return true;
    }
  }
  registerProcessor('control-tap', ControlTap);
}
