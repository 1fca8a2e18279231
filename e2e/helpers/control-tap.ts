/**
 * The capture tests' control: a second, trivial consumer of the app's own microphone stream, in the same run.
 *
 * The pass-through processor "control-tap" (registered by the app's capture worklet module, workers/capture.worklet.ts,
 * in the test build only) is connected to the very MediaStreamAudioSourceNode the app creates, in the app's
 * AudioContext, before the app connects its own node and with the same input options (one channel, explicit): it
 * receives exactly the render quanta the app's worklet receives.  It copies them into a buffer allocated up front
 * and hands it over only when the app closes its context (after Stop).  Compared with the played file it shows what
 * was lost upstream (fake device, browser); compared with the app's recording, what the app lost or changed.
 *
 * Installed into the page after navigation and before Record, by wrapping the page's AudioWorkletNode constructor and
 * two methods of its AudioContext (createMediaStreamSource, close); the app's calls pass through unchanged.
 * Works with Playwright's page and with the WebKit suite's webdriverio (`InPage`).
 */
import type { Page } from '@playwright/test';
import { inPage, type InPage } from './stored.ts';

export interface ControlRecording {
  /** The AudioContext's rate: the samples' rate. */
  rateHz: number;
  /** Channel 0 of every non-empty block, in order. */
  samples: Float32Array;
  /** Non-empty blocks whose `currentFrame` did not follow the previous one's end (render quanta skipped). */
  frameGaps: { block: number; frames: number }[];
  blocks: number;
  /** Blocks with no input (before the app connected its source, after it disconnected it). */
  emptyBlocks: number;
  /** Samples that did not fit the buffer (0 unless the recording outgrew `seconds`). */
  overflow: number;
  maxChannels: number;
}

interface TapState {
  error: string | null;
  result: unknown;
}

/** Install the control in the page (call after navigating, before Record).  `seconds`: the buffer's length. */
export async function installControlTap(page: Page | InPage, seconds = 40): Promise<void> {
  await inPage(page)(
    ({ seconds }) => {
      const w = window as unknown as { __controlTap?: TapState };
      if (w.__controlTap) return;
      const state: TapState = { error: null, result: null };
      w.__controlTap = state;
      const tapped = new WeakMap<BaseAudioContext, AudioWorkletNode>();
      const fail = (what: string, error: unknown) => {
        state.error ??= `${what}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
      };

      const Node = AudioWorkletNode;
      const controlFor = (context: BaseAudioContext) =>
        new Node(context, 'control-tap', {
          numberOfInputs: 1,
          numberOfOutputs: 1,
          outputChannelCount: [1],
          channelCountMode: 'explicit',
          channelCount: 1,
          processorOptions: { seconds },
        });
      const early = new WeakMap<BaseAudioContext, AudioWorkletNode>();
      // The control's node is made just before the app's capture node: WebKit constructs processors in that order,
      // and one made later may miss the first quanta the app's node gets.
      window.AudioWorkletNode = class extends Node {
        constructor(context: BaseAudioContext, name: string, options?: AudioWorkletNodeOptions) {
          if (name === 'capture-processor' && !early.has(context)) {
            try {
              early.set(context, controlFor(context));
            } catch (error) {
              fail('control node', error);
            }
          }
          super(context, name, options);
        }
      };

      const create = AudioContext.prototype.createMediaStreamSource;
      AudioContext.prototype.createMediaStreamSource = function (this: AudioContext, stream: MediaStream) {
        const node = create.call(this, stream);
        try {
          // Connected before the app connects its own node: the control holds every quantum the app's node gets.
          const control = early.get(this) ?? controlFor(this);
          node.connect(control);
          control.connect(this.destination);
          tapped.set(this, control);
        } catch (error) {
          fail('control node', error);
        }
        return node;
      };

      const close = AudioContext.prototype.close;
      AudioContext.prototype.close = function (this: AudioContext) {
        const control = tapped.get(this);
        if (!control) return close.call(this);
        tapped.delete(this);
        const read = new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            fail('control read', new Error('the control worklet did not answer within 5 s'));
            resolve();
          }, 5000);
          control.port.onmessage = (event: MessageEvent) => {
            clearTimeout(timer);
            state.result = event.data;
            resolve();
          };
          control.port.postMessage('read');
        });
        // A suspended context runs no worklet message handler: wake it to read.
        const awake = this.state === 'running' ? Promise.resolve() : this.resume().catch(() => undefined);
        return awake.then(() => read).then(() => close.call(this));
      };
    },
    { seconds },
  );
}

/** What the control recorded (after the app closed its AudioContext, i.e. after Stop). */
export async function readControl(page: Page | InPage): Promise<ControlRecording> {
  const raw = await inPage(page)(async () => {
    const state = (window as unknown as { __controlTap?: TapState }).__controlTap;
    if (!state) return { error: 'the control tap was not installed' };
    for (let i = 0; i < 100 && !state.result && !state.error; i++) await new Promise((r) => setTimeout(r, 100));
    if (state.error || !state.result) return { error: state.error ?? 'the control recorded nothing (no Stop?)' };
    const r = state.result as {
      rate: number;
      samples: Float32Array;
      frames: Float64Array;
      emptyBlocks: number;
      overflow: number;
      maxChannels: number;
    };
    const frameGaps: { block: number; frames: number }[] = [];
    for (let i = 1; i < r.frames.length; i++) {
      const step = (r.frames[i] as number) - (r.frames[i - 1] as number);
      if (step !== 128) frameGaps.push({ block: i, frames: step - 128 });
    }
    const bytes = new Uint8Array(r.samples.buffer, r.samples.byteOffset, r.samples.byteLength);
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    return {
      rateHz: r.rate,
      base64: btoa(s),
      frameGaps,
      blocks: r.frames.length,
      emptyBlocks: r.emptyBlocks,
      overflow: r.overflow,
      maxChannels: r.maxChannels,
    };
  }, null);
  if ('error' in raw) throw new Error(`control tap: ${raw.error}`);
  const buf = Buffer.from(raw.base64, 'base64');
  const samples = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return {
    rateHz: raw.rateHz,
    samples,
    frameGaps: raw.frameGaps,
    blocks: raw.blocks,
    emptyBlocks: raw.emptyBlocks,
    overflow: raw.overflow,
    maxChannels: raw.maxChannels,
  };
}
