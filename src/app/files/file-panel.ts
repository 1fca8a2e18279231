import { LitElement, css, html } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { ClientUpdates, type WorkerClient } from '../worker-client.ts';
import type { ModelChoice } from '../settings/model-choice.ts';
import { LibraryUpdates, type Library } from '../library/library.ts';
import { AUDIO_ACCEPT } from './audio-file.ts';
import { backendLineStyles } from '../model/backend-line.ts';
import { errorAlert, errorAlertStyles } from '../shared/error-alert.ts';
import { jobView } from './job-view.ts';
import { TranscriptionJob } from './transcription-job.ts';
import { panelStyles } from '../shared/panel-styles.ts';

/**
 * Files: *Open audio file…* and drop, then the job's view (per-window progress, ETA, cancel, backend switches and
 * the streaming text); also a whole recording when asked (the recorder's *Transcribe recording*).  The job's state
 * is its controller's (`TranscriptionJob`); this view only places it.
 */
@customElement('file-panel')
export class FilePanel extends LitElement {
  @property({ attribute: false }) client!: WorkerClient;
  @property({ attribute: false }) choice!: ModelChoice;
  /** Where the finished transcription is kept (its document gives *Save JSON*). */
  @property({ attribute: false }) library: Library | undefined;

  @state() private dragging = false;
  private readonly job = new TranscriptionJob(
    this,
    () => this.client,
    () => this.choice,
  );

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
    // The worker client belongs to the app; re-render on every worker message it routes.
    new ClientUpdates(this, () => this.client);
    new LibraryUpdates(this, () => this.library);
  }

  /** Transcribe a library document's audio whole: a recording after Stop, or one a reload left unfinished. */
  transcribeStored(id: string, label: string): void {
    this.job.transcribeStored(id, label);
  }

  private async onFiles(files: FileList | null | undefined): Promise<void> {
    const file = files?.[0];
    if (file) await this.job.openFile(file);
  }

  override render() {
    const canRun = this.job.canStart;
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
      ${errorAlert(this.job.error)} ${jobView(this.job, this.library)}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'file-panel': FilePanel;
  }
}
