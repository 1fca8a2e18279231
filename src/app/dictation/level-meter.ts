import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';

/**
 * Input level meter: RMS bar with a peak tick, on a -60..0 dBFS scale.
 * @csspart bar - the filled RMS bar
 */
@customElement('level-meter')
export class LevelMeter extends LitElement {
  /** Linear RMS, 0..1. */
  @property({ type: Number }) rms = 0;
  /** Linear peak, 0..1. */
  @property({ type: Number }) peak = 0;

  static override styles = css`
    :host {
      display: inline-block;
      width: 12rem;
      height: 0.75rem;
      border-radius: 0.375rem;
      background: var(--meter-bg, #d9dde3);
      overflow: hidden;
      position: relative;
      vertical-align: middle;
    }
    .bar {
      height: 100%;
      background: linear-gradient(90deg, #2e9d5b 0%, #2e9d5b 70%, #e0a526 85%, #d64541 100%);
      background-size: 12rem 100%;
      transition: width 80ms linear;
    }
    .peak {
      position: absolute;
      top: 0;
      bottom: 0;
      width: 2px;
      background: var(--meter-peak, #222);
    }
  `;

  private static fraction(linear: number): number {
    if (linear <= 0) return 0;
    const db = 20 * Math.log10(linear);
    return Math.max(0, Math.min(1, (db + 60) / 60));
  }

  override render() {
    const level = LevelMeter.fraction(this.rms);
    const peak = LevelMeter.fraction(this.peak);
    const db = this.rms > 0 ? Math.round(20 * Math.log10(this.rms)) : -Infinity;
    return html`<div
        class="bar"
        part="bar"
        role="meter"
        aria-label="Input level"
        aria-valuemin="-60"
        aria-valuemax="0"
        aria-valuenow=${Number.isFinite(db) ? db : -60}
        style="width:${(level * 100).toFixed(1)}%"
      ></div>
      <div class="peak" style="left:calc(${(peak * 100).toFixed(1)}% - 2px)"></div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'level-meter': LevelMeter;
  }
}
