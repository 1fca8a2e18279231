import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { SAMPLE_RATE_HZ } from '../../core/constants.ts';
import type { TranscribeEvent, Transcript, WindowResult } from '../../core/asr/contract.ts';
import type { ErrorInfo, TranscribeSource } from '../../core/protocol.ts';
import { EngineUpdates, type WorkerClient, type TranscriptionJob } from '../worker-client.ts';
import type { ModelChoice } from '../settings/model-choice.ts';
import { LibraryUpdates, type Library } from '../library/library.ts';
import { AUDIO_ACCEPT, decodeAudioFile } from './audio-file.ts';
import { formatDuration } from '../shared/format.ts';
import { asErrorInfo } from '../shared/messages.ts';
import { backendLineStyles } from '../model/backend-line.ts';
import { errorAlert, errorAlertStyles } from '../shared/error-alert.ts';
import { windowList, type JobWindow } from './job-view.ts';
import { panelStyles } from '../shared/panel-styles.ts';
import '../library/export-menu.ts';
import { segmentsOf } from '../../core/format/export.ts';

/**
 * Files: *Open audio file…* and drop, then the transcription with per-window progress, ETA, cancel, engine switches
 * and the streaming text; also a whole recording when asked (the recorder's *Transcribe recording*).
 */
@customElement('file-panel')
export class FilePanel extends LitElement {
  @property({ attribute: false }) engine!: WorkerClient;
  @property({ attribute: false }) choice!: ModelChoice;
  /** Where the finished transcription is kept (its document gives *Save JSON*). */
  @property({ attribute: false }) library: Library | undefined;

  /** The engine switches of the running or last job. */
  @state() private switches: Extract<TranscribeEvent, { type: 'engine-switch' }>[] = [];
  /** An engine failed and the next one is starting (shown until the switch or the end of the job). */
  @state() private failing: Extract<TranscribeEvent, { type: 'engine-failed' }> | null = null;
  @state() private job: TranscriptionJob | null = null;
  @state() private label = '';
  @state() private windows: JobWindow[] = [];
  @state() private windowCount = 0;
  @state() private progress = 0;
  @state() private startedAt = 0;
  @state() private result: Transcript | null = null;
  /** The library document of the running or last job. */
  @state() private docId: string | null = null;
  @state() private error: ErrorInfo | null = null;
  @state() private dragging = false;
  @state() private decoding = false;

  static override styles = [
    panelStyles,
    errorAlertStyles,
    backendLineStyles,
    css`
      section.drag {
        outline: 3px dashed var(--accent);
      }
      .file input {
        position: absolute;
        width: 1px;
        height: 1px;
        opacity: 0;
      }
      ol {
        list-style: none;
        padding: 0;
        margin: 0.75rem 0 0;
      }
      li {
        display: grid;
        grid-template-columns: 7.5rem 1fr;
        gap: 0.75rem;
        padding: 0.3rem 0;
        border-top: 1px solid var(--border);
      }
      .time {
        font-variant-numeric: tabular-nums;
        color: var(--muted);
        font-size: 0.85rem;
      }
      .transcript {
        display: block;
        margin-top: 0.75rem;
        padding: 0.75rem;
        border-radius: 0.5rem;
        background: var(--bg, white);
        white-space: pre-wrap;
        min-height: 1.5em;
      }
    `,
  ];

  constructor() {
    super();
    // The engine controller belongs to the app; re-render on every worker message it routes.
    new EngineUpdates(this, () => this.engine);
    new LibraryUpdates(this, () => this.library);
  }

  /** Transcribe a library document's audio whole: a recording after Stop, or one a reload left unfinished. */
  transcribeStored(id: string, label: string): void {
    void this.run({ kind: 'stored', id }, label);
  }

  private async onFiles(files: FileList | null | undefined): Promise<void> {
    const file = files?.[0];
    if (!file) return;
    this.reset(file.name);
    this.decoding = true;
    let pcm: Float32Array;
    try {
      pcm = await decodeAudioFile(file);
    } catch (err) {
      this.error = asErrorInfo(err, 'BAD_AUDIO');
      return;
    } finally {
      this.decoding = false;
    }
    await this.run(
      { kind: 'pcm', samples: pcm, keep: { fileName: file.name } },
      `${file.name} (${formatDuration(pcm.length / SAMPLE_RATE_HZ)})`,
    );
  }

  /** Clear the previous job's text, progress and error for a new one named `label`. */
  private reset(label: string): void {
    this.error = null;
    this.result = null;
    this.docId = null;
    this.windows = [];
    this.windowCount = 0;
    this.progress = 0;
    this.label = label;
    this.switches = [];
    this.failing = null;
  }

  private async run(source: TranscribeSource, label: string): Promise<void> {
    if (this.job) {
      this.error = { code: 'JOB_RUNNING', detail: `asked for "${label}" while "${this.label}" runs` };
      return;
    }
    if (this.engine.modelState !== 'ready') {
      this.error = { code: 'NOT_LOADED', detail: `model state: ${this.engine.modelState}` };
      return;
    }
    this.reset(label);
    this.startedAt = performance.now();
    const routing = await this.choice.routing();
    const job = this.engine.transcribe(source, (e) => this.onEvent(e), routing);
    this.job = job;
    this.choice.hold('file', true);
    try {
      const { transcript, docId } = await job.done;
      this.result = transcript;
      this.docId = docId;
      this.progress = 1;
      this.windows = this.result.windows.map((w: WindowResult): JobWindow => ({
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
      this.job = null;
      this.choice.hold('file', false);
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
      case 'engine-failed':
        this.failing = e;
        break;
      case 'engine-switch': {
        this.failing = null;
        this.switches = [...this.switches, e];
        // The window restarts on the new engine: drop the text the failed engine had produced for it.
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
  }

  private renderJob() {
    if (!this.job && !this.result && !this.decoding) return nothing;
    const elapsed = (performance.now() - this.startedAt) / 1000;
    const eta = this.progress > 0.02 && this.job ? (elapsed * (1 - this.progress)) / this.progress : null;
    const current = this.windows.at(-1);
    return html`<div data-testid="job" style="margin-top:1rem">
      <div class="row">
        <strong>${this.label}</strong>
        ${this.job ? html`<button @click=${() => this.job?.cancel()} data-testid="cancel">Cancel</button>` : nothing}
      </div>
      ${this.decoding ? html`<div class="muted">Decoding the file…</div>` : nothing}
      ${
        this.failing && this.job
          ? html`<div class="note switch" role="status" data-testid="engine-failing">
              ${this.failing.from} failed at window ${this.failing.index + 1} (${this.failing.reason}); starting the
              next engine for the rest…
            </div>`
          : nothing
      }
      ${this.switches.map(
        (sw) =>
          html`<div class="note switch" role="status" data-testid="engine-switch" data-window=${sw.index}>
            From window ${sw.index + 1} on, this runs on <strong>${sw.to}</strong> because ${sw.from} failed:
            ${sw.reason}
          </div>`,
      )}
      ${
        this.job
          ? html`<progress max="1" .value=${this.progress} data-testid="transcribe-progress"></progress>
              <div class="muted" data-testid="job-status">
                ${
                  current
                    ? `Window ${current.index + 1} of ${this.windowCount} (${formatDuration(current.startSec)}–${formatDuration(current.endSec)})`
                    : 'Starting…'
                }
                ${eta !== null ? ` · about ${formatDuration(eta)} left` : ''}
              </div>`
          : nothing
      }
      ${
        this.result
          ? html`<div class="muted" data-testid="job-done">
              Done: ${formatDuration(this.result.audioSec)} of audio in ${(this.result.totalMs / 1000).toFixed(1)} s
            </div>`
          : nothing
      }
      ${windowList(this.windows)}
      ${
        this.result
          ? html`<output class="transcript" data-testid="transcript" aria-label="Transcript"
                >${this.result.text}</output
              >
              <export-menu
                .segments=${segmentsOf(this.result.windows)}
                .doc=${(this.docId && this.library?.get(this.docId)) || null}
                .name=${this.label.replace(/ \([^)]*\)$/, '').replace(/\.[^.]+$/, '') || 'transcript'}
              ></export-menu>`
          : nothing
      }
    </div>`;
  }

  override render() {
    const canRun = this.engine.modelState === 'ready' && !this.job && !this.decoding;
    return html`<section
      aria-labelledby="tr-title"
      class=${this.dragging ? 'drag' : ''}
      @dragover=${(e: DragEvent) => {
        e.preventDefault();
        this.dragging = true;
      }}
      @dragleave=${() => (this.dragging = false)}
      @drop=${(e: DragEvent) => {
        e.preventDefault();
        this.dragging = false;
        if (canRun) void this.onFiles(e.dataTransfer?.files);
      }}
    >
      <h2 id="tr-title">Transcribe a file</h2>
      <div class="row">
        <label class="file" aria-disabled=${!canRun}>
          Open audio file…
          <input
            type="file"
            accept=${AUDIO_ACCEPT}
            ?disabled=${!canRun}
            data-testid="file-input"
            @change=${(e: Event) => {
              const input = e.target as HTMLInputElement;
              void this.onFiles(input.files).finally(() => (input.value = ''));
            }}
          />
        </label>
        <span class="muted">or drop a file here (WAV, MP3, M4A, OGG, WebM, MP4)</span>
      </div>
      ${errorAlert(this.error)} ${this.renderJob()}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'file-panel': FilePanel;
  }
}
