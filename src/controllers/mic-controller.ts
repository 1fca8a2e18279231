/**
 * Owns the microphone: the single-tab lock, getUserMedia, the AudioContext at the device's native rate, the capture
 * worklet, and the MessagePort that joins the worklet to the ASR worker.  Every failure becomes an ErrorInfo with a
 * code; audio that was already captured stays in the worker whatever happens here.
 */

import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ErrorInfo } from '../../workers/protocol.ts';
import { isWorkletToMain } from '../../workers/protocol.ts';
import workletUrl from '../../workers/capture.worklet.ts?worker&url';
import type { EngineController } from './engine-controller.ts';

export type MicState = 'idle' | 'starting' | 'recording' | 'interrupted' | 'stopping';

const LOCK_NAME = 'glm-asr-web:microphone';
const STOP_TIMEOUT_MS = 2000;

/** getUserMedia's DOMException names -> our codes. */
function micError(error: unknown): ErrorInfo {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError':
      return { code: 'MIC_DENIED', detail };
    case 'NotFoundError':
    case 'OverconstrainedError':
    case 'DevicesNotFoundError':
      return { code: 'MIC_NOT_FOUND', detail };
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return { code: 'MIC_BUSY', detail };
    default:
      return { code: 'INTERNAL', detail };
  }
}

export class MicController implements ReactiveController {
  state: MicState = 'idle';
  error: ErrorInfo | null = null;
  /** Session of the current or latest recording (0: none yet). */
  sessionId = 0;
  /** The AudioContext's real rate while recording. */
  inputRateHz = 0;

  private context: AudioContext | null = null;
  private stream: MediaStream | null = null;
  private node: AudioWorkletNode | null = null;
  private source: MediaStreamAudioSourceNode | null = null;
  private releaseLock: (() => void) | null = null;
  private stopped: (() => void) | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly engine: EngineController,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    document.addEventListener('visibilitychange', this.onVisibility);
  }

  hostDisconnected(): void {
    document.removeEventListener('visibilitychange', this.onVisibility);
    void this.stop();
  }

  private set(state: MicState, error: ErrorInfo | null = this.error): void {
    this.state = state;
    this.error = error;
    this.host.requestUpdate();
  }

  /** Start recording.  Call from a user gesture: Safari only starts an AudioContext inside one. */
  async start(): Promise<void> {
    if (this.state !== 'idle') return;
    if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
      this.set('idle', { code: 'INSECURE_CONTEXT', detail: `isSecureContext=${window.isSecureContext}` });
      return;
    }
    if (typeof AudioWorkletNode === 'undefined') {
      this.set('idle', { code: 'UNSUPPORTED_BROWSER', detail: 'AudioWorkletNode is not defined' });
      return;
    }
    this.set('starting', null);
    // Created synchronously inside the gesture, at the hardware rate (Safari ignores a requested rate anyway).
    const context = new AudioContext({ latencyHint: 'interactive' });
    this.context = context;
    void context.resume().catch(() => undefined);
    // The worklet module loads while the permission prompt is up, so audio flows as soon as the microphone opens
    // (a word spoken right after pressing Record is not lost to the module load).
    const moduleLoaded = context.audioWorklet.addModule(workletUrl);
    moduleLoaded.catch(() => undefined); // awaited below; a rejection before then is not unhandled
    try {
      if (!(await this.acquireLock())) {
        await this.teardown();
        this.set('idle', { code: 'MIC_IN_OTHER_TAB', detail: `lock ${LOCK_NAME} is held` });
        return;
      }
      try {
        this.stream = await navigator.mediaDevices.getUserMedia({
          audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
        });
      } catch (error) {
        await this.teardown();
        this.set('idle', micError(error));
        return;
      }
      await moduleLoaded;
      const node = new AudioWorkletNode(context, 'capture-processor', {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        outputChannelCount: [1],
        channelCountMode: 'explicit',
        channelCount: 1,
      });
      this.node = node;
      node.port.onmessage = (event: MessageEvent) => {
        const data: unknown = event.data;
        if (isWorkletToMain(data) && data.type === 'stopped') this.stopped?.();
      };
      this.sessionId = Date.now();
      this.inputRateHz = context.sampleRate;
      const channel = new MessageChannel();
      // With a model ready, the worker transcribes while recording (live dictation).
      const live = this.engine.modelState === 'ready';
      this.engine.post({ type: 'capture-attach', sessionId: this.sessionId, port: channel.port1, live }, [
        channel.port1,
      ]);
      node.port.postMessage({ type: 'start', sessionId: this.sessionId, port: channel.port2 }, [channel.port2]);
      this.source = context.createMediaStreamSource(this.stream);
      this.source.connect(node);
      // The node must reach the destination to be pulled in every browser; it only ever outputs silence.
      node.connect(context.destination);
      for (const track of this.stream.getAudioTracks()) {
        track.addEventListener('ended', this.onTrackEnded);
      }
      context.addEventListener('statechange', this.onContextState);
      if (context.state !== 'running') await context.resume().catch(() => undefined);
      this.set(context.state === 'running' ? 'recording' : 'interrupted', null);
    } catch (error) {
      await this.teardown();
      this.set('idle', micError(error));
    }
  }

  /** Stop recording; resolves once the worklet has flushed its last samples to the worker. */
  async stop(error: ErrorInfo | null = null): Promise<void> {
    if (this.state === 'idle' || this.state === 'stopping') return;
    const wasStarting = this.state === 'starting';
    this.set('stopping', error ?? this.error);
    if (this.node && !wasStarting) {
      const flushed = new Promise<void>((resolve) => {
        this.stopped = resolve;
        setTimeout(resolve, STOP_TIMEOUT_MS);
      });
      // A suspended context never runs the worklet's message handler; wake it to flush.
      if (this.context && this.context.state !== 'running') await this.context.resume().catch(() => undefined);
      this.node.port.postMessage({ type: 'stop' });
      await flushed;
      this.stopped = null;
    }
    await this.teardown();
    this.set('idle');
  }

  /** Continue after an interruption (iOS lock screen, call): needs a user gesture on Safari. */
  async resume(): Promise<void> {
    if (this.state !== 'interrupted' || !this.context) return;
    await this.context.resume().catch(() => undefined);
    if (this.context.state === 'running') this.set('recording', null);
  }

  private acquireLock(): Promise<boolean> {
    const locks = navigator.locks;
    if (!locks) return Promise.resolve(true); // no Web Locks: cannot detect other tabs, carry on
    return new Promise<boolean>((resolve) => {
      void locks
        .request(LOCK_NAME, { ifAvailable: true }, (lock) => {
          if (!lock) {
            resolve(false);
            return undefined;
          }
          resolve(true);
          return new Promise<void>((release) => (this.releaseLock = release));
        })
        .catch(() => resolve(true));
    });
  }

  private async teardown(): Promise<void> {
    for (const track of this.stream?.getTracks() ?? []) {
      track.removeEventListener('ended', this.onTrackEnded);
      track.stop();
    }
    this.stream = null;
    this.source?.disconnect();
    this.source = null;
    this.node?.disconnect();
    this.node = null;
    if (this.context) {
      this.context.removeEventListener('statechange', this.onContextState);
      await this.context.close().catch(() => undefined);
      this.context = null;
    }
    this.releaseLock?.();
    this.releaseLock = null;
  }

  private readonly onTrackEnded = (): void => {
    void this.stop({ code: 'DEVICE_LOST', detail: 'the audio track ended' });
  };

  private readonly onContextState = (): void => {
    const state = this.context?.state as string | undefined;
    if (this.state === 'recording' && state !== 'running') {
      // 'suspended' by the system or WebKit's 'interrupted' (lock screen, phone call)
      this.set('interrupted', { code: 'CAPTURE_INTERRUPTED', detail: `AudioContext state ${state}` });
    } else if (this.state === 'interrupted' && state === 'running') {
      this.set('recording', null);
    }
  };

  private readonly onVisibility = (): void => {
    if (document.visibilityState === 'visible' && this.state === 'interrupted') void this.context?.resume();
  };
}
