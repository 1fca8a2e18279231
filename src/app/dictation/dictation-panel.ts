import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { SAMPLE_RATE_HZ } from '../../core/constants.ts';
import type { DeviceReport, ErrorInfo } from '../../core/protocol.ts';
import { EngineUpdates, type WorkerClient } from '../worker-client.ts';
import { MicController } from './mic-controller.ts';
import type { ModelChoice } from '../settings/model-choice.ts';
import { LibraryUpdates, type Library } from '../library/library.ts';
import { formatDuration } from '../shared/format.ts';
import { recordingDocId } from '../../core/format/document.ts';
import { asErrorInfo } from '../shared/messages.ts';
import { errorAlert, errorAlertStyles } from '../shared/error-alert.ts';
import '../library/export-menu.ts';
import './level-meter.ts';
import './live-transcript-view.ts';
import './mel-view.ts';
import type { MelView } from './mel-view.ts';
import { panelStyles } from '../shared/panel-styles.ts';

/** Keys that start and stop recording, unless focus is in a control that uses them. */
const TOGGLE_KEYS = new Set([' ', 'r', 'R']);

/**
 * Dictation, the main screen: one large Record/Stop button (also Space and R), the level meter and elapsed time,
 * the live transcript, and what happens to the recording afterwards.  Diagnostics (the device line, the live
 * log-mel, capture statistics) sit behind *Details*.  Asks `transcribe-stored` (bubbling, `{id, label}`) for a
 * whole-recording transcription.
 */
@customElement('dictation-panel')
export class DictationPanel extends LitElement {
  @property({ attribute: false }) engine!: WorkerClient;
  /** Told while dictation uses the model, so a reload with new settings waits for it. */
  @property({ attribute: false }) choice: ModelChoice | undefined;
  /** Where recordings are kept (the finished one's document gives *Save JSON*). */
  @property({ attribute: false }) library: Library | undefined;
  /** The microphone belongs to this screen: its state changes re-render it. */
  readonly mic = new MicController(this, () => this.engine);
  @state() private device: DeviceReport | null = null;
  @state() private deviceError: string | null = null;
  @state() private downloadError: ErrorInfo | null = null;
  @query('mel-view') private melView!: MelView | null;
  private unsubscribeMel: (() => void) | null = null;

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
      .status {
        margin-top: 0.75rem;
        min-height: 1.5em;
        color: var(--muted);
      }
      .interrupted {
        margin-top: 0.5rem;
      }
      kbd {
        font-size: 0.75rem;
        border: 1px solid var(--border);
        border-radius: 0.25rem;
        padding: 0 0.3rem;
      }
      details.diagnostics {
        margin-top: 1rem;
        font-size: 0.9rem;
      }
      details.diagnostics[open] summary {
        margin-bottom: 0.5rem;
      }
      .capability {
        font-size: 0.85rem;
        color: var(--muted);
        margin-bottom: 0.5rem;
        overflow-wrap: anywhere;
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 0.15rem 1rem;
        margin: 0.75rem 0 0;
        font-size: 0.85rem;
      }
      dt {
        color: var(--muted);
      }
      dd {
        margin: 0;
        font-variant-numeric: tabular-nums;
      }
    `,
  ];

  constructor() {
    super();
    new EngineUpdates(this, () => this.engine);
    new LibraryUpdates(this, () => this.library);
  }

  override connectedCallback(): void {
    super.connectedCallback();
    document.addEventListener('keydown', this.onKey);
  }

  override disconnectedCallback(): void {
    document.removeEventListener('keydown', this.onKey);
    this.unsubscribeMel?.();
    this.unsubscribeMel = null;
    super.disconnectedCallback();
  }

  override firstUpdated(): void {
    this.unsubscribeMel = this.engine.onMel((mel) => this.melView?.push(mel));
    this.engine.deviceReport().then(
      (report) => (this.device = report),
      (err: unknown) => (this.deviceError = asErrorInfo(err).detail),
    );
  }

  protected override updated(): void {
    this.choice?.hold('dictation', this.mic.state !== 'idle' || this.engine.live.active);
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
      const wav = await this.engine.recordingWav(this.mic.sessionId);
      const url = URL.createObjectURL(new Blob([wav as Uint8Array<ArrayBuffer>], { type: 'audio/wav' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `recording-${new Date(this.mic.sessionId).toISOString().replace(/[:.]/g, '-')}.wav`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      this.downloadError = asErrorInfo(error);
    }
  }

  private transcribeWhole(seconds: number): void {
    const detail = { id: recordingDocId(this.mic.sessionId), label: `Recording (${formatDuration(seconds)})` };
    this.dispatchEvent(new CustomEvent('transcribe-stored', { detail, bubbles: true, composed: true }));
  }

  private status(): string {
    const mic = this.mic;
    const finished = this.engine.finished.get(mic.sessionId);
    const ready = this.engine.modelState === 'ready';
    switch (mic.state) {
      case 'starting':
        return 'Starting the microphone…';
      case 'stopping':
        return 'Finishing the recording…';
      case 'recording':
        return ready
          ? 'Recording: your words appear below as you speak.'
          : 'Recording. Without a model yet, it can be transcribed once the model is here.';
      case 'interrupted':
        return 'Paused by the system';
      default:
        if (finished) return `Recorded ${formatDuration(finished.stats.samples / SAMPLE_RATE_HZ)}`;
        return ready ? 'Ready. Press Record, Space or R, and speak.' : 'Press Record, Space or R to record.';
    }
  }

  /** What voice activity detection cost in the last live recording (a VAD frame is 32 ms of audio). */
  private renderVadStats() {
    const v = this.engine.live.stats;
    if (!v || !v.vadFrames) return nothing;
    // Its own cost from the frames run with no decode in flight (during one, a call also waits for the decoder).
    const perSecond = v.idleFrames ? v.idleVadMs / ((v.idleFrames * 512) / SAMPLE_RATE_HZ) : null;
    return html`<dl
      data-testid="vad-stats"
      data-vad-frames=${v.vadFrames}
      data-vad-ms=${v.vadMs.toFixed(1)}
      data-idle-frames=${v.idleFrames}
      data-idle-vad-ms=${v.idleVadMs.toFixed(1)}
      data-max-lag-ms=${v.maxVadLagMs.toFixed(1)}
      data-while-decoding=${v.framesWhileDecoding}
      data-decodes=${v.decodes}
    >
      <dt>Voice detection</dt>
      <dd>
        ${perSecond === null ? '' : `${perSecond.toFixed(1)} ms per second of audio · `}longest wait
        ${Math.round(v.maxVadLagMs)} ms · ${v.framesWhileDecoding} of ${v.vadFrames} frames while the model decoded
        (${v.decodes} decodes)
      </dd>
    </dl>`;
  }

  private renderDiagnostics() {
    const finished = this.engine.finished.get(this.mic.sessionId);
    const mic = this.mic;
    return html`<details class="diagnostics" data-testid="details">
      <summary>Details</summary>
      <div class="capability" data-testid="capability">
        ${this.device?.summary ?? (this.deviceError ? `Device check failed: ${this.deviceError}` : 'Checking this device…')}
      </div>
      <mel-view></mel-view>
      <dl>
        <dt>Input rate</dt>
        <dd>${mic.inputRateHz ? `${mic.inputRateHz} Hz → 16 kHz` : '—'}</dd>
        <dt>Screen kept on</dt>
        <dd data-wake-lock=${mic.wakeLock}>
          ${
            mic.wakeLock === 'held'
              ? 'yes, while recording'
              : mic.wakeLock === 'unsupported'
                ? 'not supported by this browser'
                : mic.wakeLock === 'denied'
                  ? 'refused by the browser'
                  : 'while recording'
          }
        </dd>
      </dl>
      ${this.renderVadStats()}
      ${
        finished
          ? html`<dl data-testid="capture-stats">
              <dt>Duration</dt>
              <dd data-samples=${finished.stats.samples}>${formatDuration(finished.stats.samples / SAMPLE_RATE_HZ)}</dd>
              <dt>Input rate</dt>
              <dd data-input-rate=${finished.stats.inputRateHz}>${finished.stats.inputRateHz} Hz</dd>
              <dt>Input samples → 16 kHz samples</dt>
              <dd data-input-samples=${finished.stats.inputSamples}>
                ${finished.stats.inputSamples} → ${finished.stats.samples}
              </dd>
              <dt>Frames</dt>
              <dd data-frames=${finished.stats.frames}>${finished.stats.frames}</dd>
              <dt>Lost / duplicated frames</dt>
              <dd data-lost=${finished.stats.lostFrames} data-duplicated=${finished.stats.duplicateFrames}>
                ${finished.stats.lostFrames} / ${finished.stats.duplicateFrames}
              </dd>
              <dt>Buffer pool misses</dt>
              <dd data-pool-misses=${finished.poolMisses}>${finished.poolMisses}</dd>
            </dl>`
          : nothing
      }
    </details>`;
  }

  override render() {
    const mic = this.mic;
    const live = this.engine.live;
    const stats = this.engine.captureStats;
    const current = stats && stats.sessionId === mic.sessionId ? stats : null;
    const samples = current?.samples ?? 0;
    const busy = mic.state === 'starting' || mic.state === 'stopping';
    const recording = mic.state === 'recording' || mic.state === 'interrupted';
    const finished = this.engine.finished.get(mic.sessionId);
    const showTranscript =
      live.lines.length > 0 || live.active || this.engine.modelState === 'ready' || live.liveSessions.size > 0;
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
        <span class="elapsed" data-testid="elapsed" data-elapsed-samples=${samples} aria-label="Elapsed time"
          >${formatDuration(samples / SAMPLE_RATE_HZ)}</span
        >
        <div class="meter-row">
          <level-meter .rms=${current?.rms ?? 0} .peak=${current?.peak ?? 0}></level-meter>
          <span class="muted">Shortcut <kbd>Space</kbd> or <kbd>R</kbd></span>
        </div>
      </div>
      <div class="status" role="status" data-testid="status">${this.status()}</div>
      ${
        mic.state === 'interrupted'
          ? html`<div class="row interrupted" data-testid="interrupted">
              <button class="primary" @click=${() => this.mic.resume()} data-testid="resume">Resume</button>
              <button @click=${() => this.mic.stop()}>Stop here</button>
            </div>`
          : nothing
      }
      ${errorAlert(mic.error)} ${errorAlert(this.engine.lastError)} ${errorAlert(this.downloadError)}
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
                  live.sessionCount <= 1 ? (this.library?.get(recordingDocId(mic.sessionId)) ?? null) : null
                }
                .name=${`dictation-${new Date(mic.sessionId).toISOString().replace(/[:.]/g, '-')}`}
              ></export-menu>
              <div class="row" style="margin-top:.75rem">
                <button @click=${() => this.downloadWav()} data-testid="download">Download recording (WAV)</button>
                ${
                  this.engine.modelState === 'ready' && !live.active
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
      ${this.renderDiagnostics()}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dictation-panel': DictationPanel;
  }
}
