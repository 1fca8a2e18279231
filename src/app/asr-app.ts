import { LitElement, css, html, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { SAMPLE_RATE_HZ } from '../../workers/constants.ts';
import type { ErrorInfo } from '../../workers/protocol.ts';
import { EngineController } from '../controllers/engine-controller.ts';
import { MicController } from '../controllers/mic-controller.ts';
import { describeGpu, probeWebGpu, type GpuCapability } from '../lib/capabilities.ts';
import { formatDuration } from '../lib/format.ts';
import { asErrorInfo } from '../lib/messages.ts';
import { errorAlert, errorAlertStyles } from './error-alert.ts';
import './level-meter.ts';
import './live-transcript-view.ts';
import './mel-view.ts';
import './transcriber-panel.ts';
import './storage-panel.ts';
import './routing-panel.ts';
import { registerServiceWorker, type UpdateHandle } from '../lib/service-worker.ts';
import type { TranscriberPanel } from './transcriber-panel.ts';
import type { MelView } from './mel-view.ts';

/**
 * The application shell: recorder (record/stop, level, elapsed time, live log-mel), capability line, messages.
 */
@customElement('asr-app')
export class AsrApp extends LitElement {
  private readonly engine = new EngineController(this);
  private readonly mic = new MicController(this, this.engine);

  @state() private gpu: GpuCapability | null = null;
  /** A new service worker is waiting: the update prompt. */
  @state() private pendingUpdate: UpdateHandle | null = null;
  @state() private downloadError: ErrorInfo | null = null;
  @query('mel-view') private melView!: MelView;
  @query('transcriber-panel') private panel!: TranscriberPanel;
  private unsubscribeMel: (() => void) | null = null;
  private unsubscribeFinished: (() => void) | null = null;

  static override styles = [
    errorAlertStyles,
    css`
      :host {
        display: block;
        max-width: 56rem;
        margin: 0 auto;
        padding: 1.5rem 1rem 3rem;
        color: var(--fg);
        font:
          16px/1.5 system-ui,
          -apple-system,
          'Segoe UI',
          sans-serif;
      }
      header h1 {
        font-size: 1.5rem;
        margin: 0;
      }
      header p {
        margin: 0.25rem 0 0;
        color: var(--muted);
      }
      .update {
        margin-top: 1rem;
        padding: 0.6rem 1rem;
        border-radius: 0.75rem;
        background: var(--panel);
        border: 2px solid var(--accent);
        display: flex;
        gap: 1rem;
        align-items: center;
        flex-wrap: wrap;
      }
      .capability {
        font-size: 0.85rem;
        color: var(--muted);
        margin-top: 0.5rem;
      }
      section {
        margin-top: 1.5rem;
        padding: 1rem;
        border: 1px solid var(--border);
        border-radius: 0.75rem;
        background: var(--panel);
      }
      .controls {
        display: flex;
        align-items: center;
        gap: 1rem;
        flex-wrap: wrap;
        margin-bottom: 1rem;
      }
      button {
        font: inherit;
        font-weight: 600;
        padding: 0.6rem 1.2rem;
        border-radius: 2rem;
        border: 2px solid transparent;
        cursor: pointer;
        background: var(--accent);
        color: white;
      }
      button.secondary {
        background: transparent;
        color: var(--fg);
        border-color: var(--border);
      }
      button:focus-visible {
        outline: 3px solid var(--focus);
        outline-offset: 2px;
      }
      button:disabled {
        opacity: 0.5;
        cursor: default;
      }
      button.stop {
        background: #d64541;
      }
      .elapsed {
        font-variant-numeric: tabular-nums;
        font-size: 1.25rem;
        min-width: 5ch;
      }
      .status {
        margin-top: 0.75rem;
        min-height: 1.5em;
        color: var(--muted);
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
      kbd {
        font-size: 0.75rem;
        border: 1px solid var(--border);
        border-radius: 0.25rem;
        padding: 0 0.3rem;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    registerServiceWorker((update) => (this.pendingUpdate = update));
    void probeWebGpu().then((gpu) => (this.gpu = gpu));
    document.addEventListener('keydown', this.onKey);
  }

  override disconnectedCallback(): void {
    document.removeEventListener('keydown', this.onKey);
    this.unsubscribeMel?.();
    this.unsubscribeFinished?.();
    super.disconnectedCallback();
  }

  override firstUpdated(): void {
    this.unsubscribeMel = this.engine.onMel((mel) => this.melView?.push(mel));
    // Record → Stop → transcribe the recording when a model is ready and it was not transcribed live.
    this.unsubscribeFinished = this.engine.on((m) => {
      // A live recording already has its text (live dictation); one made without a model is transcribed whole.
      if (
        m.type === 'capture-finished' &&
        this.engine.modelState === 'ready' &&
        m.stats.samples > 0 &&
        !this.engine.live.liveSessions.has(m.stats.sessionId)
      )
        this.panel?.transcribeRecording(m.stats.sessionId, m.stats.samples / SAMPLE_RATE_HZ);
    });
  }

  private readonly onKey = (event: KeyboardEvent): void => {
    if (event.key !== 'r' && event.key !== 'R') return;
    if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
    const target = event.composedPath()[0];
    if (target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)))
      return;
    event.preventDefault();
    void this.toggle();
  };

  private async toggle(): Promise<void> {
    if (this.mic.state === 'idle') await this.mic.start();
    else if (this.mic.state === 'recording' || this.mic.state === 'interrupted') await this.mic.stop();
  }

  private async download(): Promise<void> {
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

  private renderRecorder() {
    const mic = this.mic;
    const stats = this.engine.captureStats;
    const current = stats && stats.sessionId === mic.sessionId ? stats : null;
    const seconds = current ? current.samples / SAMPLE_RATE_HZ : 0;
    const busy = mic.state === 'starting' || mic.state === 'stopping';
    const recording = mic.state === 'recording' || mic.state === 'interrupted';
    const finished = this.engine.finished.get(mic.sessionId);
    const status =
      mic.state === 'starting'
        ? 'Starting the microphone…'
        : mic.state === 'stopping'
          ? 'Finishing the recording…'
          : mic.state === 'recording'
            ? `Recording · ${mic.inputRateHz / 1000} kHz → 16 kHz`
            : mic.state === 'interrupted'
              ? 'Paused by the system'
              : finished
                ? `Recorded ${formatDuration(finished.stats.samples / SAMPLE_RATE_HZ)}`
                : 'Ready. Press Record or the R key.';
    return html`<section aria-labelledby="rec-title">
      <h2 id="rec-title" class="visually-hidden" style="font-size:1.1rem;margin:0 0 .75rem">Recorder</h2>
      <div class="controls">
        ${
          recording
            ? html`<button class="stop" @click=${() => this.mic.stop()} data-testid="stop">■ Stop</button>`
            : html`<button @click=${() => this.mic.start()} ?disabled=${busy} data-testid="record">● Record</button>`
        }
        ${
          mic.state === 'interrupted'
            ? html`<button class="secondary" @click=${() => this.mic.resume()} data-testid="resume">Resume</button>`
            : nothing
        }
        <span class="elapsed" data-testid="elapsed" aria-label="Elapsed time">${formatDuration(seconds)}</span>
        <level-meter .rms=${current?.rms ?? 0} .peak=${current?.peak ?? 0}></level-meter>
        <span style="font-size:.8rem;color:var(--muted)">Shortcut <kbd>R</kbd></span>
      </div>
      <mel-view></mel-view>
      ${
        this.engine.live.lines.length ||
        this.engine.live.active ||
        (recording && this.engine.live.liveSessions.has(mic.sessionId))
          ? html`<live-transcript-view
              .lines=${this.engine.live.lines}
              .backlog=${this.engine.live.backlog}
              .error=${this.engine.live.error}
            ></live-transcript-view>`
          : nothing
      }
      <div class="status" role="status" data-testid="status">${status}</div>
      ${errorAlert(mic.error)} ${errorAlert(this.engine.lastError)} ${errorAlert(this.downloadError)}
      ${
        finished && mic.state === 'idle'
          ? html`<div class="controls" style="margin:1rem 0 0">
                <button class="secondary" @click=${() => this.download()} data-testid="download">
                  Download recording (WAV)
                </button>
                ${
                  this.engine.modelState === 'ready'
                    ? html`<button
                        class="secondary"
                        @click=${() =>
                          this.panel?.transcribeRecording(mic.sessionId, finished.stats.samples / SAMPLE_RATE_HZ)}
                        data-testid="transcribe-recording"
                      >
                        Transcribe recording
                      </button>`
                    : nothing
                }
              </div>
              <dl data-testid="capture-stats">
                <dt>Duration</dt>
                <dd data-samples=${finished.stats.samples}>
                  ${formatDuration(finished.stats.samples / SAMPLE_RATE_HZ)}
                </dd>
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
    </section>`;
  }

  override render() {
    return html`<header>
        <h1>GLM-ASR Nano</h1>
        <p>Speech to text on your own device.</p>
        <div class="capability" data-testid="capability">${describeGpu(this.gpu)}</div>
      </header>
      ${
        this.pendingUpdate
          ? html`<div class="update" role="status" data-testid="update-ready">
              A new version of the app is ready.
              <button @click=${() => this.pendingUpdate?.apply()} data-testid="apply-update">Reload to update</button>
            </div>`
          : nothing
      }
      ${this.renderRecorder()}
      <transcriber-panel .engine=${this.engine}></transcriber-panel>
      <routing-panel @routing-changed=${() => this.panel?.reloadWithSettings()}></routing-panel>
      <storage-panel .engine=${this.engine}></storage-panel>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'asr-app': AsrApp;
  }
}
