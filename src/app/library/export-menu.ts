import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { formatDocument, type TranscriptDocument } from '../../core/format/document.ts';
import { EXPORT_FORMATS, formatTranscript, type ExportFormat, type Segment } from '../../core/format/export.ts';
import { panelStyles } from '../shared/panel-styles.ts';

/**
 * *Save as* TXT, SRT or WebVTT (the same bytes the CLI's `--format` and the server's `response_format` give), *Save
 * JSON* (the library document as stored, when there is one), *Copy text*, and *Share…* with the file where the
 * browser offers the Web Share API with files (the iPhone share sheet).
 * Test hooks: `data-testid="export-txt|export-srt|export-vtt|export-json"`, `copy-text`, `share`.
 */
@customElement('export-menu')
export class ExportMenu extends LitElement {
  @property({ attribute: false }) segments: readonly Segment[] = [];
  /** The library document (for *Save JSON*), when the transcript is kept. */
  @property({ attribute: false }) doc: TranscriptDocument | null = null;
  /** The saved file's name without its extension. */
  @property() name = 'transcript';
  @state() private note = '';

  static override styles = [
    panelStyles,
    css`
      :host {
        margin-top: 0.75rem;
      }
      .row {
        gap: 0.5rem;
      }
    `,
  ];

  private file(format: ExportFormat): File {
    const f = EXPORT_FORMATS[format];
    return new File([formatTranscript(this.segments, format)], `${this.name}.${f.extension}`, { type: f.mime });
  }

  private json(): File | null {
    if (!this.doc) return null;
    return new File([formatDocument(this.doc)], `${this.name}.json`, { type: 'application/json' });
  }

  private save(format: ExportFormat | 'json'): void {
    const file = format === 'json' ? this.json() : this.file(format);
    if (!file) return;
    const url = URL.createObjectURL(file);
    const a = document.createElement('a');
    a.href = url;
    a.download = file.name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  private async copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(formatTranscript(this.segments, 'txt'));
      this.note = 'Copied.';
    } catch {
      this.note = 'This browser did not allow copying; use Save as text instead.';
    }
  }

  private async share(): Promise<void> {
    const file = this.file('txt');
    try {
      await navigator.share({ files: [file], title: this.name });
      this.note = '';
    } catch (err) {
      // Closing the share sheet is not an error.
      if (!(err instanceof DOMException && err.name === 'AbortError')) this.note = `Sharing failed: ${String(err)}`;
    }
  }

  private get canShare(): boolean {
    try {
      return typeof navigator.canShare === 'function' && navigator.canShare({ files: [this.file('txt')] });
    } catch {
      return false;
    }
  }

  override render() {
    if (!this.segments.some((s) => s.text.trim())) return nothing;
    return html`<div class="row" role="group" aria-label="Save or share the transcript">
        ${(Object.keys(EXPORT_FORMATS) as ExportFormat[]).map(
          (f) =>
            html`<button @click=${() => this.save(f)} data-testid=${`export-${f}`} title=${EXPORT_FORMATS[f].label}>
              Save ${f.toUpperCase()}
            </button>`,
        )}
        ${
          this.doc
            ? html`<button @click=${() => this.save('json')} data-testid="export-json" title="The document as stored">
                Save JSON
              </button>`
            : nothing
        }
        <button @click=${() => this.copy()} data-testid="copy-text">Copy text</button>
        ${this.canShare ? html`<button @click=${() => this.share()} data-testid="share">Share…</button>` : nothing}
      </div>
      ${this.note ? html`<div class="note muted" role="status">${this.note}</div>` : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'export-menu': ExportMenu;
  }
}
