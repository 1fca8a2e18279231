/**
 * Owns the microphone: the single-tab lock, getUserMedia, the AudioContext at the device's native rate, the capture
 * worklet, and the MessagePort that joins the worklet to the ASR worker.  Every failure becomes an ErrorInfo with a
 * code; audio that was already captured stays in the worker whatever happens here.
 */

import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { isWorkletToMain, type ErrorInfo, type MainToWorklet, type RecordingId } from '../../core/protocol.ts';
import { recordingDocId } from '../../core/format/document.ts';
import workletUrl from '../../../workers/capture.worklet.ts?worker&url';
import { SAMPLE_RATE_HZ } from '../../core/constants.ts';
import { knobs } from '../knobs.ts';
import type { WorkerClient } from '../worker-client.ts';

export type MicState = 'idle' | 'starting' | 'recording' | 'interrupted' | 'stopping';
/** The Screen Wake Lock while recording: held, not offered by this browser, or refused (low battery, hidden page). */
export type WakeLockState = 'held' | 'unsupported' | 'denied' | null;

interface WakeLockLike {
  release(): Promise<void>;
  addEventListener(type: 'release', listener: () => void): void;
}

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
  /** The current or latest recording ('' before the first), and when its Record was pressed (ms since 1970). */
  recordingId: RecordingId = '';
  startedAt = 0;
  /** The AudioContext's real rate while recording. */
  inputRateHz = 0;
  wakeLock: WakeLockState = null;
  /** The `contextRate` test knob (a test build only): open the AudioContext at this rate instead of the device's. */
  private readonly contextRate = __TEST_BUILD__ ? knobs.contextRate : undefined;
  private lock: WakeLockLike | null = null;
  private lockRequest: Promise<void> | null = null;
  /** When and at which sample the system interrupted the recording (for the note in the transcript). */
  private interruption: { at: number; sample: number } | null = null;

  private context: AudioContext | null = null;
  private stream: MediaStream | null = null;
  private node: AudioWorkletNode | null = null;
  private source: MediaStreamAudioSourceNode | null = null;
  private releaseLock: (() => void) | null = null;
  private stopped: (() => void) | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    /** The app's worker client (a getter: the host may receive it as a property after construction). */
    private readonly clientOf: () => WorkerClient,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    document.addEventListener('visibilitychange', this.onVisibility);
    window.addEventListener('pagehide', this.onPageHide);
  }

  hostDisconnected(): void {
    document.removeEventListener('visibilitychange', this.onVisibility);
    window.removeEventListener('pagehide', this.onPageHide);
    void this.stop();
  }

  private get client(): WorkerClient {
    return this.clientOf();
  }

  private toWorklet(message: MainToWorklet, transfer: Transferable[] = []): void {
    this.node?.port.postMessage(message, transfer);
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
    const context = new AudioContext({
      latencyHint: 'interactive',
      ...(this.contextRate ? { sampleRate: this.contextRate } : {}),
    });
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
      this.startedAt = Date.now();
      this.recordingId = recordingDocId(this.startedAt);
      this.inputRateHz = context.sampleRate;
      const channel = new MessageChannel();
      // With a model ready, the worker transcribes while recording (live dictation).
      const live = this.client.modelState === 'ready';
      const { recordingId, startedAt } = this;
      this.client.post({ type: 'capture-attach', recordingId, startedAt, port: channel.port1, live }, [channel.port1]);
      this.toWorklet({ type: 'start', recordingId, port: channel.port2 }, [channel.port2]);
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
      void this.keepScreenOn();
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
      this.toWorklet({ type: 'stop' });
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
    if (this.context?.state === 'running' && this.state === 'interrupted') {
      this.noteResumed();
      this.set('recording', null);
    }
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

  /** Screen Wake Lock while recording, where the browser offers it (a dimmed iPhone screen would stop the audio). */
  private keepScreenOn(): Promise<void> {
    // One request at a time: start and a visibilitychange may both ask.
    this.lockRequest ??= this.requestWakeLock().finally(() => (this.lockRequest = null));
    return this.lockRequest;
  }

  private async requestWakeLock(): Promise<void> {
    const wakeLock = (navigator as Navigator & { wakeLock?: { request(type: 'screen'): Promise<WakeLockLike> } })
      .wakeLock;
    if (!wakeLock) {
      this.wakeLock = 'unsupported';
      return;
    }
    if (this.lock || document.visibilityState !== 'visible') return;
    try {
      const lock = await wakeLock.request('screen');
      if (this.state !== 'recording' && this.state !== 'interrupted') {
        await lock.release();
        return;
      }
      this.lock = lock;
      this.wakeLock = 'held';
      // The browser releases it when the page is hidden; visibilitychange asks again.
      lock.addEventListener('release', () => {
        if (this.lock !== lock) return;
        this.lock = null;
        this.wakeLock = null;
        this.host.requestUpdate();
      });
    } catch {
      this.wakeLock = 'denied';
    }
    this.host.requestUpdate();
  }

  /** Where the system paused the capture, noted in the live transcript when it continues. */
  private noteResumed(): void {
    const gap = this.interruption;
    this.interruption = null;
    if (!gap) return;
    const missing = (performance.now() - gap.at) / 1000;
    this.client.live.noteGap(this.recordingId, gap.sample / SAMPLE_RATE_HZ, missing);
  }

  private async teardown(): Promise<void> {
    const lock = this.lock;
    this.lock = null;
    if (this.wakeLock === 'held') this.wakeLock = null;
    void lock?.release().catch(() => undefined);
    this.interruption = null;
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
      const stats = this.client.capture.latest;
      const sample = stats?.recordingId === this.recordingId ? stats.samples : 0;
      this.interruption = { at: performance.now(), sample };
      this.set('interrupted', { code: 'CAPTURE_INTERRUPTED', detail: `AudioContext state ${state}` });
    } else if (this.state === 'interrupted' && state === 'running') {
      this.noteResumed();
      this.set('recording', null);
    }
  };

  private readonly onVisibility = (): void => {
    if (document.visibilityState !== 'visible') return;
    if (this.state === 'interrupted') void this.context?.resume();
    if (this.state === 'recording' || this.state === 'interrupted') void this.keepScreenOn();
  };

  /**
   * The page is going away (tab closed, navigation, iOS discarding it).  A hidden page goes on recording where the
   * browser lets it (a desktop tab in the background); on an iPhone the system interrupts the AudioContext instead,
   * which `onContextState` handles, and the wake lock is given back by the browser and asked for again on return.
   */
  private readonly onPageHide = (): void => {
    if (this.state === 'idle') return;
    // The page may be frozen or gone before anything async runs: tell the worklet to flush and let go of the
    // microphone and the wake lock now; stop() then finishes what it can.
    this.toWorklet({ type: 'stop' });
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    void this.lock?.release().catch(() => undefined);
    void this.stop();
  };
}
