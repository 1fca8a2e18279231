import { LitElement, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { SAMPLE_RATE_HZ } from '../../core/constants.ts';
import type { RecordingId } from '../../core/protocol.ts';
import { formatDuration } from '../shared/format.ts';
import type { WorkerClient } from '../worker-client.ts';
import { CaptureStatsUpdates } from '../worker-client/capture-feed.ts';
import './level-meter.ts';

/**
 * The running recording's elapsed time and input level: the only part of the dictation screen that re-renders for
 * the capture statistics (ten times a second).  The panel gives it `display: contents`, so the time and the meter
 * row sit in the recorder's grid beside the Record button.
 */
@customElement('capture-meter')
export class CaptureMeter extends LitElement {
  @property({ attribute: false }) client: WorkerClient | undefined;
  /** The recording whose statistics are shown (others' are ignored). */
  @property({ attribute: false }) recordingId: RecordingId = '';

  /** Rendered into the panel's own tree (no shadow root): the panel styles it, and the elapsed time stays where the
   *  tests and the panel's layout find it. */
  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  constructor() {
    super();
    new CaptureStatsUpdates(this, () => this.client?.capture);
  }

  override render() {
    const stats = this.client?.capture.latest;
    const current = stats && stats.recordingId === this.recordingId ? stats : null;
    const samples = current?.samples ?? 0;
    return html`<span class="elapsed" data-testid="elapsed" data-elapsed-samples=${samples} aria-label="Elapsed time"
        >${formatDuration(samples / SAMPLE_RATE_HZ)}</span
      >
      <div class="meter-row">
        <level-meter .rms=${current?.rms ?? 0} .peak=${current?.peak ?? 0}></level-meter>
        <span class="muted">Shortcut <kbd>Space</kbd> or <kbd>R</kbd></span>
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'capture-meter': CaptureMeter;
  }
}
