import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { SAMPLE_RATE_HZ } from '../../core/constants.ts';
import type { ErrorInfo } from '../../core/protocol.ts';
import { ClientUpdates, type WorkerClient } from '../worker-client.ts';
import { MicController } from './mic-controller.ts';
import type { ModelChoice } from '../settings/model-choice.ts';
import { LibraryUpdates, type Library } from '../library/library.ts';
import { formatDuration } from '../shared/format.ts';
import { asErrorInfo } from '../shared/messages.ts';
import { errorAlert, errorAlertStyles } from '../shared/error-alert.ts';
import '../library/export-menu.ts';
import './capture-meter.ts';
import './dictation-details.ts';
import './live-transcript-view.ts';
import { panelStyles } from '../shared/panel-styles.ts';

/** Keys that start and stop recording, unless focus is in a control that uses them. */
const TOGGLE_KEYS = new Set([' ', 'r', 'R']);

/**
 * Dictation, the main screen: one large Record/Stop button (also Space and R), the elapsed time and level meter
 * (capture-meter.ts: the only part that follows the capture statistics), the live transcript, and what happens to
 * the recording afterwards.  Diagnostics sit behind *Details* (dictation-details.ts).  Asks `transcribe-stored`
 * (bubbling, `{id, label}`) for a whole-recording transcription.
 *
 * Where live text comes from (`BackendInfo.live`, decided in the worker) is said before and while recording when it
 * is not this device as the user speaks (`data-testid="live-source"`, `data-live`): the server's, or, when the device
 * holds the model one graph at a time, nothing until Stop, when the worker offers the recording and the app
 * transcribes it whole as a file job (asr-app.ts, shown under *Transcribe a file*).
 */
@customElement('dictation-panel')
export class DictationPanel extends LitElement {
  @property({ attribute: false }) client!: WorkerClient;
  /** Told while dictation uses the model, so a reload with new settings waits for it. */
  @property({ attribute: false }) choice: ModelChoice | undefined;
  /** Where recordings are kept (the finished one's document gives *Save JSON*). */
  @property({ attribute: false }) library: Library | undefined;
  /** The microphone belongs to this screen: its state changes re-render it. */
  readonly mic = new MicController(this, () => this.client);
  @state() private downloadError: ErrorInfo | null = null;

  static override styles = [
    panelStyles,
    errorAlertStyles,
    css`
      .recorder {
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 0.5rem 1.25rem;
        align-items: center;
      }
      button.big {
        grid-row: span 2;
        width: 5.5rem;
        height: 5.5rem;
        border-radius: 50%;
        padding: 0;
        border: 0;
        background: var(--accent);
        color: white;
        font-size: 1rem;
        display: flex;
        flex-direction: column;
        align-items: center;
        justify-content: center;
        gap: 0.15rem;
        box-shadow: 0 2px 8px rgb(0 0 0 / 0.2);
      }
      button.big[aria-disabled='true'] {
        opacity: 0.6;
        cursor: progress;
      }
      button.big.stop {
        background: #d64541;
      }
      button.big .icon {
        font-size: 1.6rem;
        line-height: 1;
      }
      capture-meter {
        display: contents;
      }
      .elapsed {
        font-variant-numeric: tabular-nums;
        font-size: 1.6rem;
        font-weight: 600;
      }
      .meter-row {
        display: flex;
        gap: 0.75rem;
        align-items: center;
        flex-wrap: wrap;
      }
      level-meter {
        width: min(12rem, 40vw);
      }
      kbd {
        font-size: 0.75rem;
        border: 1px solid var(--border);
        border-radius: 0.25rem;
        padding: 0 0.3rem;
      }
      .status {
        margin-top: 0.75rem;
        min-height: 1.5em;
        color: var(--muted);
      }
      .interrupted {
        margin-top: 0.5rem;
      }
      .live-source {
        margin: 0.5rem 0 0;
        padding: 0.5rem 0.75rem;
        border-left: 3px solid var(--accent);
        overflow-wrap: anywhere;
      }
    `,
  ];

  constructor() {
    super();
    new ClientUpdates(this, () => this.client);
    new LibraryUpdates(this, () => this.library);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    document.addEventListener('keydown', this.onKey);
  }

  override disconnectedCallback(): void {
    document.removeEventListener('keydown', this.onKey);
    super.disconnectedCallback();
  }

  protected override updated(): void {
    this.choice?.hold('dictation', this.mic.state !== 'idle' || this.client.live.active);
  }

  private readonly onKey = (event: KeyboardEvent): void => {
    if (!TOGGLE_KEYS.has(event.key)) return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.composedPath()[0];
    // Space activates a focused button, link, summary or form control; R is typed into text fields.
    if (
      target instanceof HTMLElement &&
      (target.isContentEditable ||
        /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) ||
        (event.key === ' ' && /^(BUTTON|A|SUMMARY|LABEL)$/.test(target.tagName)))
    )
      return;
    event.preventDefault();
    void this.toggle();
  };

  private async toggle(): Promise<void> {
    if (this.mic.state === 'idle') await this.mic.start();
    else if (this.mic.state === 'recording' || this.mic.state === 'interrupted') await this.mic.stop();
  }

  private async downloadWav(): Promise<void> {
    this.downloadError = null;
    try {
      const wav = await this.client.recordingWav(this.mic.recordingId);
      const url = URL.createObjectURL(new Blob([wav as Uint8Array<ArrayBuffer>], { type: 'audio/wav' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `recording-${new Date(this.mic.startedAt).toISOString().replace(/[:.]/g, '-')}.wav`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      this.downloadError = asErrorInfo(error);
    }
  }

  private transcribeWhole(seconds: number): void {
    const detail = { id: this.mic.recordingId, label: `Recording (${formatDuration(seconds)})` };
    this.dispatchEvent(new CustomEvent('transcribe-stored', { detail, bubbles: true, composed: true }));
  }

  /** Where live text comes from with the loaded model ('device' also when none is loaded). */
  private liveSource(): 'device' | 'server' | 'after-stop' {
    const backend = this.client.modelState === 'ready' ? this.client.backend : null;
    return backend?.live ?? 'device';
  }

  /** The sentence that says where live text comes from, when it is not this device as the user speaks. */
  private liveNote() {
    const backend = this.client.modelState === 'ready' ? this.client.backend : null;
    const source = this.liveSource();
    if (!backend || source === 'device' || (source === 'server' && backend.backend === 'server')) return nothing;
    let host = backend.liveServer ?? '';
    try {
      host = new URL(host).host;
    } catch {
      /* not a URL: shown as it is */
    }
    const text =
      source === 'server'
        ? `Live text comes from the server ${host} while you speak; files stay on this device.`
        : 'This device holds the model one part at a time, so your words appear when you press Stop: the ' +
          'recording is then transcribed on this device, with its progress under “Transcribe a file”.';
    return html`<p class="live-source" data-testid="live-source" data-live=${source}>${text}</p>`;
  }

  private status(): string {
    const mic = this.mic;
    const finished = this.client.finished.get(mic.recordingId);
    const ready = this.client.modelState === 'ready';
    const atStop = ready && this.liveSource() === 'after-stop';
    switch (mic.state) {
      case 'starting':
        return 'Starting the microphone…';
      case 'stopping':
        return 'Finishing the recording…';
      case 'recording':
        if (atStop) return 'Recording: your words appear when you press Stop.';
        return ready
          ? 'Recording: your words appear below as you speak.'
          : 'Recording. Without a model yet, it can be transcribed once the model is here.';
      case 'interrupted':
        return 'Paused by the system';
      default:
        if (finished && atStop)
          return `Recorded ${formatDuration(finished.stats.samples / SAMPLE_RATE_HZ)}: transcribed on this device now`;
        if (finished) return `Recorded ${formatDuration(finished.stats.samples / SAMPLE_RATE_HZ)}`;
        return ready ? 'Ready. Press Record, Space or R, and speak.' : 'Press Record, Space or R to record.';
    }
  }

  override render() {
    const mic = this.mic;
    const live = this.client.live;
    const busy = mic.state === 'starting' || mic.state === 'stopping';
    const recording = mic.state === 'recording' || mic.state === 'interrupted';
    const finished = this.client.finished.get(mic.recordingId);
    const showTranscript =
      live.lines.length > 0 ||
      live.active ||
      (this.client.modelState === 'ready' && this.liveSource() !== 'after-stop') ||
      live.liveRecordings.size > 0;
    return html`<section aria-labelledby="rec-title">
      <h2 id="rec-title">Dictation</h2>
      <div class="recorder">
        <button
          class=${recording ? 'big stop' : 'big'}
          @click=${() => (busy ? undefined : recording ? this.mic.stop() : this.mic.start())}
          aria-disabled=${busy ? 'true' : 'false'}
          aria-pressed=${recording ? 'true' : 'false'}
          aria-keyshortcuts="Space R"
          data-testid=${recording ? 'stop' : 'record'}
        >
          <span class="icon" aria-hidden="true">${recording ? '■' : '●'}</span>${recording ? 'Stop' : 'Record'}
        </button>
        <capture-meter .client=${this.client} .recordingId=${mic.recordingId}></capture-meter>
      </div>
      <div class="status" role="status" data-testid="status">${this.status()}</div>
      ${this.liveNote()}
      ${
        mic.state === 'interrupted'
          ? html`<div class="row interrupted" data-testid="interrupted">
              <button class="primary" @click=${() => this.mic.resume()} data-testid="resume">Resume</button>
              <button @click=${() => this.mic.stop()}>Stop here</button>
            </div>`
          : nothing
      }
      ${errorAlert(mic.error)} ${errorAlert(this.client.lastError)} ${errorAlert(this.downloadError)}
      ${
        showTranscript
          ? html`<live-transcript-view
              .lines=${live.lines}
              .backlog=${live.backlog}
              .error=${live.error}
            ></live-transcript-view>`
          : nothing
      }
      ${
        finished && mic.state === 'idle'
          ? html`<export-menu
                .segments=${live.segments}
                .doc=${
                  // The JSON is one recording's document: offered when the transcript on screen is that recording.
                  live.recordingCount <= 1 ? (this.library?.get(mic.recordingId) ?? null) : null
                }
                .name=${`dictation-${new Date(mic.startedAt).toISOString().replace(/[:.]/g, '-')}`}
              ></export-menu>
              <div class="row" style="margin-top:.75rem">
                <button @click=${() => this.downloadWav()} data-testid="download">Download recording (WAV)</button>
                ${
                  // In 'after-stop' the whole recording is already being transcribed (recording-offer, asr-app.ts).
                  this.client.modelState === 'ready' && !live.active && this.liveSource() !== 'after-stop'
                    ? html`<button
                        @click=${() => this.transcribeWhole(finished.stats.samples / SAMPLE_RATE_HZ)}
                        data-testid="transcribe-recording"
                      >
                        Transcribe whole recording
                      </button>`
                    : nothing
                }
              </div>`
          : nothing
      }
      <dictation-details
        .client=${this.client}
        .recordingId=${mic.recordingId}
        .inputRateHz=${mic.inputRateHz}
        .wakeLock=${mic.wakeLock}
      ></dictation-details>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dictation-panel': DictationPanel;
  }
}
