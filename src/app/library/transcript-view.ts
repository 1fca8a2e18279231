import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { documentText, type TranscriptDocument } from '../../core/format/document.ts';
import { encodeWav16 } from '../../core/dsp/wav.ts';
import { SAMPLE_RATE_HZ } from '../../core/constants.ts';
import type { ErrorInfo } from '../../core/protocol.ts';
import { libraryError, type Library } from './library.ts';
import { formatDuration } from '../shared/format.ts';
import { errorAlert, errorAlertStyles } from '../shared/error-alert.ts';
import './export-menu.ts';
import { panelStyles } from '../shared/panel-styles.ts';
import { createdText, displayTitle, statusText } from './doc-labels.ts';

/**
 * One open transcript: its name (editable), when and with what it was made, its audio with the segment being played
 * highlighted (a click on a segment plays from there), *Save as* / *Copy* / *Share*, and *Delete*.  Fires `close`
 * and `delete-doc` (bubbling; the library panel confirms the delete).
 */
@customElement('transcript-view')
export class TranscriptView extends LitElement {
  @property({ attribute: false }) doc!: TranscriptDocument;
  @property({ attribute: false }) library!: Library;
  @state() private audioUrl: string | null = null;
  @state() private audioError: ErrorInfo | null = null;
  @state() private playing = -1;
  @query('audio') private player!: HTMLAudioElement | null;
  @state() private error: ErrorInfo | null = null;
  /** What the user is typing as the name (a new title from the worker does not overwrite it). */
  @state() private draft: string | null = null;
  private loadedFor: string | null = null;
  private loadedSamples = -1;
  private loads = 0;

  static override styles = [
    panelStyles,
    errorAlertStyles,
    css`
      .title {
        font: inherit;
        font-size: 1.15rem;
        font-weight: 600;
        width: 100%;
        box-sizing: border-box;
        padding: 0.3rem 0.5rem;
        border: 2px solid var(--border);
        border-radius: 0.5rem;
        background: var(--bg, white);
        color: var(--fg);
      }
      .meta {
        margin: 0.35rem 0 0.75rem;
        overflow-wrap: anywhere;
      }
      audio {
        width: 100%;
        margin-bottom: 0.5rem;
      }
      ol {
        list-style: none;
        padding: 0;
        margin: 0.5rem 0 0;
      }
      li button {
        display: grid;
        grid-template-columns: 4.5rem 1fr;
        gap: 0.75rem;
        width: 100%;
        text-align: left;
        font-weight: normal;
        border: 0;
        border-radius: 0.4rem;
        padding: 0.35rem 0.5rem;
      }
      li button[aria-current='true'] {
        background: color-mix(in srgb, var(--accent) 18%, transparent);
      }
      .time {
        font-variant-numeric: tabular-nums;
        color: var(--muted);
        font-size: 0.85rem;
      }
    `,
  ];

  override disconnectedCallback(): void {
    if (this.audioUrl) URL.revokeObjectURL(this.audioUrl);
    this.audioUrl = null;
    this.loadedFor = null;
    super.disconnectedCallback();
  }

  protected override willUpdate(): void {
    // Load the audio when another document opens, or again when more of it was kept since (not while it plays).
    if (!this.doc) return;
    const other = this.loadedFor !== this.doc.id;
    if (other) this.draft = null;
    if (other || (this.loadedSamples !== this.doc.audio.samples && (this.player?.paused ?? true)))
      void this.loadAudio(this.doc);
  }

  private async loadAudio(doc: TranscriptDocument): Promise<void> {
    const load = ++this.loads;
    this.loadedFor = doc.id;
    this.loadedSamples = doc.audio.samples;
    if (doc.audio.samples === 0) return;
    try {
      const samples = await this.library.audio(doc.id);
      if (load !== this.loads) return; // a later load (another document, more audio) replaces this one
      const wav = encodeWav16(samples, SAMPLE_RATE_HZ);
      const url = URL.createObjectURL(new Blob([wav as Uint8Array<ArrayBuffer>], { type: 'audio/wav' }));
      const previous = this.audioUrl;
      const at = this.player?.currentTime ?? 0;
      this.audioUrl = url;
      this.audioError = null;
      if (previous) {
        URL.revokeObjectURL(previous);
        await this.updateComplete;
        if (this.player) this.player.currentTime = at;
      }
    } catch (err) {
      this.audioError = libraryError(err);
    }
  }

  private onTime(): void {
    const t = this.player?.currentTime ?? 0;
    const segments = this.doc.segments;
    let i = -1;
    for (let k = 0; k < segments.length; k++) if ((segments[k] as { start: number }).start <= t + 0.05) i = k;
    if (i >= 0 && t > (segments[i] as { end: number }).end + 0.25) i = -1;
    this.playing = i;
  }

  private seek(start: number): void {
    const player = this.player;
    if (!player) return;
    player.currentTime = start;
    void player.play().catch(() => undefined);
    this.onTime();
  }

  private async rename(input: HTMLInputElement): Promise<void> {
    const name = input.value;
    try {
      if (!(name.trim() === this.doc.title && this.doc.titleEdited)) await this.library.rename(this.doc.id, name);
      this.error = null;
    } catch (err) {
      this.error = libraryError(err);
    } finally {
      this.draft = null;
    }
  }

  private fileName(): string {
    const base = displayTitle(this.doc)
      .replace(/[\\/:*?"<>|…]+/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 60);
    return base || 'transcript';
  }

  override render() {
    const doc = this.doc;
    const backends = [...new Set(doc.segments.map((s) => s.engine).filter(Boolean))].join(', ');
    const created = createdText(doc);
    const status = statusText(doc);
    return html`<div class="row" style="justify-content:space-between">
        <button
          @click=${() => this.dispatchEvent(new Event('close', { bubbles: true, composed: true }))}
          data-testid="library-back"
        >
          ← All transcripts
        </button>
        <button
          class="danger"
          @click=${() => this.dispatchEvent(new CustomEvent('delete-doc', { detail: doc.id, bubbles: true, composed: true }))}
          data-testid="delete-doc"
        >
          Delete
        </button>
      </div>
      <p>
        <label class="muted" for="title">Name</label>
        <input
          id="title"
          class="title"
          data-testid="doc-title"
          .value=${this.draft ?? doc.title}
          @input=${(e: Event) => (this.draft = (e.target as HTMLInputElement).value)}
          placeholder=${displayTitle(doc)}
          @change=${(e: Event) => this.rename(e.target as HTMLInputElement)}
          @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && (e.target as HTMLInputElement).blur()}
        />
      </p>
      <div class="muted meta" data-testid="doc-meta">
        ${created} · ${formatDuration(doc.durationSec)}${doc.source ? ` · ${doc.source.fileName}` : ''}
        ${doc.model ? ` · ${doc.model.id}${doc.model.variant ? ` (${doc.model.variant})` : ''}` : ''}
        ${backends ? ` · on ${backends}` : ''}${status ? ` · ${status}` : ''}
        ${doc.error ? html`<div>${doc.error}</div>` : nothing}
        ${
          doc.audio.error
            ? html`<div data-testid="doc-audio-note">
                Audio: ${formatDuration(doc.audio.samples / SAMPLE_RATE_HZ)} kept (${doc.audio.error})
              </div>`
            : nothing
        }
      </div>
      ${
        this.audioUrl
          ? html`<audio
              controls
              preload="metadata"
              src=${this.audioUrl}
              data-testid="doc-audio"
              @timeupdate=${() => this.onTime()}
              @seeked=${() => this.onTime()}
            ></audio>`
          : doc.audio.samples === 0
            ? html`<div class="muted">No audio was kept for this transcript.</div>`
            : nothing
      }
      ${
        (doc.status === 'untranscribed' || doc.status === 'failed') && doc.audio.samples > 0
          ? html`<button
              class="primary"
              data-testid="doc-transcribe"
              @click=${() =>
                this.dispatchEvent(
                  new CustomEvent('transcribe-stored', {
                    detail: { id: doc.id, label: displayTitle(doc) },
                    bubbles: true,
                    composed: true,
                  }),
                )}
            >
              Transcribe
            </button>`
          : nothing
      }
      ${errorAlert(this.audioError)} ${errorAlert(this.error)}
      ${
        doc.segments.length
          ? html`<ol data-testid="doc-segments" aria-label="Segments: choose one to play from there">
              ${doc.segments.map(
                (s, i) =>
                  html`<li>
                    <button
                      data-testid="doc-segment"
                      data-start=${s.start}
                      aria-current=${this.playing === i ? 'true' : 'false'}
                      @click=${() => this.seek(s.start)}
                    >
                      <span class="time">${formatDuration(s.start)}</span><span>${s.text}</span>
                    </button>
                  </li>`,
              )}
            </ol>`
          : html`<div class="muted">${documentText(doc) || 'No text yet.'}</div>`
      }
      <export-menu
        .segments=${doc.segments.map((s) => ({ start: s.start, end: s.end, text: s.text }))}
        .doc=${doc}
        .name=${this.fileName()}
      ></export-menu>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'transcript-view': TranscriptView;
  }
}
