/**
 * The file panel's job: one transcription at a time of an opened file or of a kept recording, with its per-window
 * progress, the streaming text, cancel, errors and the failover notices (a backend failed, the next one took over).
 * A controller, as `LiveTranscript` is dictation's, so the view only renders what is here.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { SAMPLE_RATE_HZ } from '../../core/constants.ts';
import type { TranscribeEvent, Transcript, WindowResult } from '../../core/asr/contract.ts';
import type { ErrorInfo, TranscribeSource } from '../../core/protocol.ts';
import type { WorkerClient, TranscribeCall as RunningRequest } from '../worker-client.ts';
import type { ModelChoice } from '../settings/model-choice.ts';
import { decodeAudioFile } from './audio-file.ts';
import { formatDuration } from '../shared/format.ts';
import { asErrorInfo } from '../shared/messages.ts';
import type { JobWindow } from './job-view.ts';

export type BackendSwitch = Extract<TranscribeEvent, { type: 'engine-switch' }>;
export type BackendFailing = Extract<TranscribeEvent, { type: 'engine-failed' }>;

export class TranscriptionJob implements ReactiveController {
  /** The file's name and length (or the recording's label) of the running or last job. */
  label = '';
  windows: JobWindow[] = [];
  windowCount = 0;
  /** The low-memory mode's phase (one graph at a time: encoding, loading the other graph, decoding), else null. */
  phase: Extract<TranscribeEvent, { type: 'phase' }> | null = null;
  /** 0..1 over the whole job. */
  progress = 0;
  /** `performance.now()` when the job started (for the ETA). */
  startedAt = 0;
  result: Transcript | null = null;
  /** The library document of the running or last job (null when storage refused it). */
  docId: string | null = null;
  error: ErrorInfo | null = null;
  /** The browser is decoding the opened file. */
  decoding = false;
  /** The backend switches of the running or last job. */
  switches: BackendSwitch[] = [];
  /** A backend failed and the next one is starting (shown until the switch or the end of the job). */
  failing: BackendFailing | null = null;
  private request: RunningRequest | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly client: () => WorkerClient,
    private readonly choice: () => ModelChoice,
  ) {
    host.addController(this);
  }

  /** Nothing to start with the host: a job starts when asked and its request lives in the worker client. */
  hostConnected(): void {}

  /** A transcription is running (until its result or error). */
  get running(): boolean {
    return this.request !== null;
  }

  /** A new job can start: the model is ready and nothing is decoding or running. */
  get canStart(): boolean {
    return this.client().modelState === 'ready' && !this.request && !this.decoding;
  }

  /** Seconds left, estimated from the time so far, once there is enough progress to tell. */
  etaSec(now = performance.now()): number | null {
    const elapsed = (now - this.startedAt) / 1000;
    return this.progress > 0.02 && this.request ? (elapsed * (1 - this.progress)) / this.progress : null;
  }

  cancel(): void {
    this.request?.cancel();
  }

  /** Decode an opened or dropped file and transcribe it (kept in the library under its name). */
  async openFile(file: File): Promise<void> {
    this.reset(file.name);
    this.decoding = true;
    this.host.requestUpdate();
    let pcm: Float32Array;
    try {
      pcm = await decodeAudioFile(file);
    } catch (err) {
      this.error = asErrorInfo(err, 'BAD_AUDIO');
      return;
    } finally {
      this.decoding = false;
      this.host.requestUpdate();
    }
    await this.run(
      { kind: 'pcm', samples: pcm, keep: { fileName: file.name } },
      `${file.name} (${formatDuration(pcm.length / SAMPLE_RATE_HZ)})`,
    );
  }

  /** Transcribe a library document's audio whole: a recording after Stop, or one a reload left unfinished. */
  transcribeStored(id: string, label: string): void {
    void this.run({ kind: 'stored', id }, label);
  }

  /** Clear the previous job's text, progress and error for a new one named `label`. */
  private reset(label: string): void {
    this.error = null;
    this.result = null;
    this.docId = null;
    this.windows = [];
    this.windowCount = 0;
    this.phase = null;
    this.progress = 0;
    this.label = label;
    this.switches = [];
    this.failing = null;
    this.host.requestUpdate();
  }

  private async run(source: TranscribeSource, label: string): Promise<void> {
    const client = this.client();
    if (this.request) {
      this.error = { code: 'JOB_RUNNING', detail: `asked for "${label}" while "${this.label}" runs` };
      this.host.requestUpdate();
      return;
    }
    if (client.modelState !== 'ready') {
      this.error = { code: 'NOT_LOADED', detail: `model state: ${client.modelState}` };
      this.host.requestUpdate();
      return;
    }
    this.reset(label);
    this.startedAt = performance.now();
    const choice = this.choice();
    const routing = await choice.routing();
    const request = client.transcribe(source, (e) => this.onEvent(e), routing);
    this.request = request;
    choice.hold('file', true);
    this.host.requestUpdate();
    try {
      const { transcript, docId } = await request.done;
      this.result = transcript;
      this.docId = docId;
      this.progress = 1;
      this.windows = transcript.windows.map((w: WindowResult): JobWindow => ({
        index: w.index,
        startSec: w.startSec,
        endSec: w.endSec,
        text: w.text,
        result: w,
        done: true,
      }));
    } catch (err) {
      this.error = asErrorInfo(err);
    } finally {
      this.request = null;
      choice.hold('file', false);
      this.host.requestUpdate();
    }
  }

  private onEvent(e: TranscribeEvent): void {
    switch (e.type) {
      case 'window-start':
        this.windowCount = e.count;
        this.windows = [
          ...this.windows,
          { index: e.index, startSec: e.startSec, endSec: e.endSec, text: '', done: false },
        ];
        this.progress = e.index / e.count;
        break;
      case 'token': {
        const w = this.windows.find((x) => x.index === e.index);
        if (w) w.text = e.text;
        this.windows = [...this.windows];
        this.progress = (e.index + Math.min(1, e.generated / e.cap)) / Math.max(1, this.windowCount);
        break;
      }
      case 'phase':
        this.phase = e;
        this.windowCount = e.count;
        break;
      case 'engine-failed':
        this.failing = e;
        break;
      case 'engine-switch': {
        this.failing = null;
        this.switches = [...this.switches, e];
        // The window restarts on the new backend: drop the text the failed backend had produced for it.
        const w = this.windows.find((x) => x.index === e.index);
        if (w) w.text = '';
        this.windows = [...this.windows];
        break;
      }
      case 'window-end': {
        const w = this.windows.find((x) => x.index === e.result.index);
        if (w) {
          w.text = e.result.text;
          w.done = true;
        }
        this.windows = [...this.windows];
        this.progress = (e.result.index + 1) / e.count;
        break;
      }
    }
    this.host.requestUpdate();
  }
}
