import { LitElement, css, html } from 'lit';
import { customElement, query } from 'lit/decorators.js';
import { N_MELS } from '../../core/constants.ts';
import type { MelColumns } from '../../core/protocol.ts';

/** Columns shown: 10 ms each, so the view spans the last 8 seconds. */
const VISIBLE_COLUMNS = 800;
/** log10 power range mapped to the colour scale. */
const FLOOR_LOG10 = -8;
const CEIL_LOG10 = 1;

/**
 * Live log-mel spectrogram: new 10 ms columns scroll in from the right, low frequencies at the bottom.
 * Draws straight into a canvas (no re-render per column).
 */
@customElement('mel-view')
export class MelView extends LitElement {
  @query('canvas') private canvas!: HTMLCanvasElement;
  private image: ImageData | null = null;
  private readonly palette = MelView.buildPalette();

  static override styles = css`
    :host {
      display: block;
    }
    canvas {
      width: 100%;
      height: 8rem;
      display: block;
      image-rendering: pixelated;
      background: #0d1117;
      border-radius: 0.5rem;
    }
  `;

  private static buildPalette(): Uint8ClampedArray {
    // A compact magma-like ramp: black -> purple -> orange -> pale yellow.
    const stops: [number, number, number, number][] = [
      [0, 13, 17, 23],
      [0.35, 94, 32, 120],
      [0.7, 232, 104, 60],
      [1, 252, 240, 170],
    ];
    const out = new Uint8ClampedArray(256 * 3);
    for (let i = 0; i < 256; i++) {
      const t = i / 255;
      let k = 0;
      while (k < stops.length - 2 && t > (stops[k + 1] as number[])[0]!) k++;
      const [t0, r0, g0, b0] = stops[k] as [number, number, number, number];
      const [t1, r1, g1, b1] = stops[k + 1] as [number, number, number, number];
      const f = (t - t0) / (t1 - t0);
      out[i * 3] = r0 + (r1 - r0) * f;
      out[i * 3 + 1] = g0 + (g1 - g0) * f;
      out[i * 3 + 2] = b0 + (b1 - b0) * f;
    }
    return out;
  }

  override firstUpdated(): void {
    this.canvas.width = VISIBLE_COLUMNS;
    this.canvas.height = N_MELS;
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = '#0d1117';
    ctx.fillRect(0, 0, VISIBLE_COLUMNS, N_MELS);
    this.image = ctx.getImageData(0, 0, VISIBLE_COLUMNS, N_MELS);
  }

  /** Append columns (frame-major, N_MELS log10 values each). */
  push(mel: MelColumns): void {
    const image = this.image;
    const ctx = this.canvas?.getContext('2d');
    if (!image || !ctx) return;
    const shift = Math.min(mel.columns, VISIBLE_COLUMNS);
    const px = image.data;
    const rowBytes = VISIBLE_COLUMNS * 4;
    for (let y = 0; y < N_MELS; y++) {
      const row = y * rowBytes;
      px.copyWithin(row, row + shift * 4, row + rowBytes);
    }
    const first = mel.columns - shift;
    for (let c = 0; c < shift; c++) {
      const x = VISIBLE_COLUMNS - shift + c;
      for (let m = 0; m < N_MELS; m++) {
        const v = mel.data[(first + c) * N_MELS + m] as number;
        const t = Math.max(0, Math.min(1, (v - FLOOR_LOG10) / (CEIL_LOG10 - FLOOR_LOG10)));
        const p = Math.round(t * 255) * 3;
        const y = N_MELS - 1 - m;
        const o = y * rowBytes + x * 4;
        px[o] = this.palette[p] as number;
        px[o + 1] = this.palette[p + 1] as number;
        px[o + 2] = this.palette[p + 2] as number;
        px[o + 3] = 255;
      }
    }
    ctx.putImageData(image, 0, 0);
  }

  override render() {
    return html`<canvas role="img" aria-label="Live log-mel spectrogram of the microphone input"></canvas>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'mel-view': MelView;
  }
}
