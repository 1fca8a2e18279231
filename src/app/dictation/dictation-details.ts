import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { SAMPLE_RATE_HZ } from '../../core/constants.ts';
import type { DeviceReport, RecordingId } from '../../core/protocol.ts';
import { formatDuration } from '../shared/format.ts';
import { asErrorInfo } from '../shared/messages.ts';
import { ClientUpdates, type WorkerClient } from '../worker-client.ts';
import type { WakeLockState } from './mic-controller.ts';
import './mel-view.ts';
import type { MelView } from './mel-view.ts';

/**
 * Dictation's diagnostics behind *Details*: the device line, the live log-mel (drawn straight from the capture
 * feed, no re-render per column), the input rate and the screen wake lock, what voice detection cost in the last
 * live recording, and the finished recording's capture statistics (test hooks: `data-testid="capture-stats"`,
 * `vad-stats`, `capability`).
 */
@customElement('dictation-details')
export class DictationDetails extends LitElement {
  @property({ attribute: false }) client: WorkerClient | undefined;
  /** The recording shown (its finished statistics). */
  @property({ attribute: false }) recordingId: RecordingId = '';
  /** The AudioContext's rate while recording (0: not recording). */
  @property({ attribute: false }) inputRateHz = 0;
  @property({ attribute: false }) wakeLock: WakeLockState = null;
  @state() private device: DeviceReport | null = null;
  @state() private deviceError: string | null = null;
  @query('mel-view') private melView!: MelView | null;
  private unsubscribeMel: (() => void) | null = null;

  static override styles = css`
    :host {
      display: block;
    }
    details.diagnostics {
      margin-top: 1rem;
      font-size: 0.9rem;
    }
    summary {
      cursor: pointer;
    }
    summary:focus-visible {
      outline: 3px solid var(--focus);
      outline-offset: 2px;
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
  `;

  constructor() {
    super();
    new ClientUpdates(this, () => this.client);
  }

  override disconnectedCallback(): void {
    this.unsubscribeMel?.();
    this.unsubscribeMel = null;
    super.disconnectedCallback();
  }

  override firstUpdated(): void {
    const client = this.client;
    if (!client) return;
    this.unsubscribeMel = client.capture.onMel((mel) => this.melView?.push(mel));
    client.deviceReport().then(
      (report) => (this.device = report),
      (err: unknown) => (this.deviceError = asErrorInfo(err).detail),
    );
  }

  /** What voice activity detection cost in the last live recording (a VAD frame is 32 ms of audio). */
  private renderVadStats() {
    const v = this.client?.live.stats;
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

  private renderCaptureStats() {
    const finished = this.client?.finished.get(this.recordingId);
    if (!finished) return nothing;
    const { stats, poolMisses } = finished;
    return html`<dl data-testid="capture-stats">
      <dt>Duration</dt>
      <dd data-samples=${stats.samples}>${formatDuration(stats.samples / SAMPLE_RATE_HZ)}</dd>
      <dt>Input rate</dt>
      <dd data-input-rate=${stats.inputRateHz}>${stats.inputRateHz} Hz</dd>
      <dt>Input samples → 16 kHz samples</dt>
      <dd data-input-samples=${stats.inputSamples}>${stats.inputSamples} → ${stats.samples}</dd>
      <dt>Frames</dt>
      <dd data-frames=${stats.frames}>${stats.frames}</dd>
      <dt>Lost / duplicated frames</dt>
      <dd data-lost=${stats.lostFrames} data-duplicated=${stats.duplicateFrames}>
        ${stats.lostFrames} / ${stats.duplicateFrames}
      </dd>
      <dt>Buffer pool misses</dt>
      <dd data-pool-misses=${poolMisses}>${poolMisses}</dd>
    </dl>`;
  }

  override render() {
    const wakeLock = this.wakeLock;
    return html`<details class="diagnostics" data-testid="details">
      <summary>Details</summary>
      <div class="capability" data-testid="capability">
        ${this.device?.summary ?? (this.deviceError ? `Device check failed: ${this.deviceError}` : 'Checking this device…')}
      </div>
      <mel-view></mel-view>
      <dl>
        <dt>Input rate</dt>
        <dd>${this.inputRateHz ? `${this.inputRateHz} Hz → 16 kHz` : '—'}</dd>
        <dt>Screen kept on</dt>
        <dd data-wake-lock=${wakeLock}>
          ${
            wakeLock === 'held'
              ? 'yes, while recording'
              : wakeLock === 'unsupported'
                ? 'not supported by this browser'
                : wakeLock === 'denied'
                  ? 'refused by the browser'
                  : 'while recording'
          }
        </dd>
      </dl>
      ${this.renderVadStats()} ${this.renderCaptureStats()}
    </details>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dictation-details': DictationDetails;
  }
}
