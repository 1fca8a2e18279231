import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { LiveTranscript } from './live-transcript.ts';
import { formatDuration } from '../shared/format.ts';

/**
 * The live transcript: final segments with their start times (announced to screen readers as they arrive), the open
 * segment's volatile text after them in a lighter style, how far behind the decoding is, and auto-scroll that stops
 * while the user has scrolled up.  Test hooks: `data-segment="final"` (with `data-start`, `data-end` in seconds,
 * `data-start-sample`/`data-end-sample` at 16 kHz and `data-text`), `data-segment="partial"`, and
 * `data-segment="gap"` (with `data-start` and `data-missing` seconds) where the system paused the microphone.
 */
@customElement('live-transcript-view')
export class LiveTranscriptView extends LitElement {
  /** The transcript's lines, backlog and error, passed again on each update (new objects: a re-render). */
  @property({ attribute: false }) lines: LiveTranscript['lines'] = [];
  @property({ attribute: false }) backlog: LiveTranscript['backlog'] = { segments: 0, seconds: 0 };
  @property({ attribute: false }) error: string | null = null;
  private stick = true;

  static override styles = css`
    :host {
      display: block;
      margin-top: 1rem;
    }
    .box {
      max-height: 40vh;
      overflow-y: auto;
      border: 1px solid var(--border);
      border-radius: 0.5rem;
      padding: 0.5rem 0.75rem;
      background: var(--bg, white);
    }
    ol {
      list-style: none;
      margin: 0;
      padding: 0;
    }
    li,
    .line {
      display: flex;
      gap: 0.75rem;
      padding: 0.2rem 0;
      line-height: 1.45;
    }
    .time {
      color: var(--muted);
      font-variant-numeric: tabular-nums;
      font-size: 0.85rem;
      min-width: 3.2rem;
      padding-top: 0.1rem;
    }
    .text,
    .partial {
      overflow-wrap: anywhere;
    }
    .partial {
      color: var(--muted);
      font-style: italic;
    }
    .error {
      color: #b3261e;
    }
    .backlog {
      color: var(--muted);
      font-size: 0.85rem;
      margin-top: 0.4rem;
    }
    .empty {
      color: var(--muted);
    }
    .gap {
      color: var(--muted);
      font-size: 0.9rem;
      border-left: 3px solid #e0a526;
      padding-left: 0.5rem;
    }
  `;

  private onScroll(e: Event): void {
    const box = e.target as HTMLElement;
    this.stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if (!this.stick) return;
    const box = this.renderRoot.querySelector('.box');
    if (box) box.scrollTop = box.scrollHeight;
  }

  override render() {
    const t = { lines: this.lines, backlog: this.backlog, error: this.error };
    const finals = t.lines.filter((l) => l.final);
    const said = finals.some((l) => l.gapSec === undefined);
    const partial = t.lines.find((l) => !l.final);
    return html`<div class="box" @scroll=${(e: Event) => this.onScroll(e)} data-testid="live-transcript">
        <ol aria-live="polite" aria-label="Transcript">
          ${repeat(
            finals,
            (l) => l.id,
            (l) =>
              l.gapSec !== undefined
                ? html`<li
                    class="gap"
                    data-segment="gap"
                    data-start=${l.start.toFixed(2)}
                    data-missing=${l.gapSec.toFixed(1)}
                  >
                    <span class="time">${formatDuration(l.start)}</span>
                    <span>Audio missing here: the system paused the microphone for ${formatDuration(l.gapSec)}.</span>
                  </li>`
                : html`<li
                    data-segment="final"
                    data-start=${l.start.toFixed(2)}
                    data-end=${(l.end ?? l.start).toFixed(2)}
                    data-start-sample=${Math.round(l.start * 16_000)}
                    data-end-sample=${Math.round((l.end ?? l.start) * 16_000)}
                    data-engine=${l.backend ?? ''}
                    data-at-sample=${l.atSample ?? ''}
                    data-at-ms=${l.atMs ?? ''}
                  >
                    <span class="time">${formatDuration(l.start)}</span>
                    <span class=${l.error ? 'error' : 'text'} data-text=${l.text}
                      >${l.error ? `This part could not be transcribed: ${l.error}` : l.text || '(nothing recognised)'}</span
                    >
                  </li>`,
          )}
        </ol>
        ${
          partial
            ? html`<div class="line" aria-hidden="true" data-segment="partial" data-start=${partial.start.toFixed(2)}>
                <span class="time">${formatDuration(partial.start)}</span
                ><span class="partial">${partial.text || '…'}</span>
              </div>`
            : nothing
        }
        ${!said && !partial ? html`<div class="empty">Speak: your words appear here.</div>` : nothing}
      </div>
      ${
        t.backlog.segments > 0
          ? html`<div class="backlog" data-testid="live-backlog">
              Catching up: ${t.backlog.segments} part${t.backlog.segments === 1 ? '' : 's'}
              (${formatDuration(t.backlog.seconds)} of speech) still to transcribe
            </div>`
          : nothing
      }
      ${t.error ? html`<div class="backlog error" role="alert">${t.error}</div>` : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'live-transcript-view': LiveTranscriptView;
  }
}
