import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { TranscriptDocument } from '../../core/format/document.ts';
import type { ErrorInfo } from '../../core/protocol.ts';
import { EngineUpdates, type WorkerClient } from '../worker-client.ts';
import { LibraryUpdates, libraryError, type Library } from './library.ts';
import { formatDuration } from '../shared/format.ts';
import { errorAlert, errorAlertStyles } from '../shared/error-alert.ts';
import { panelStyles } from '../shared/panel-styles.ts';
import { displayTitle, statusText } from './transcript-view.ts';
import './transcript-view.ts';

const PAGE_ROWS = 50;

/**
 * The library: every recording and transcribed file kept on this device, newest first, with search; one opens in
 * place (transcript-view).  Recordings a reload or a crash left unfinished are offered to finish or delete.  Deletes
 * ask first.  Asks `transcribe-stored` (bubbling, `{id, label}`) to transcribe a kept recording.
 */
@customElement('library-panel')
export class LibraryPanel extends LitElement {
  @property({ attribute: false }) library!: Library;
  @property({ attribute: false }) client!: WorkerClient;
  @state() private query = '';
  @state() private openId: string | null = null;
  @state() private confirming: { ids: string[] | 'all'; text: string } | null = null;
  @state() private error: ErrorInfo | null = null;
  /** Rows shown (the list grows by a page at a time, so opening it stays within a frame). */
  @state() private shown = PAGE_ROWS;
  @query('dialog') private dialog!: HTMLDialogElement | null;

  static override styles = [
    panelStyles,
    errorAlertStyles,
    css`
      input[type='search'] {
        font: inherit;
        flex: 1 1 12rem;
        min-width: 0;
        padding: 0.45rem 0.75rem;
        border: 2px solid var(--border);
        border-radius: 2rem;
        background: var(--bg, white);
        color: var(--fg);
      }
      ul {
        list-style: none;
        padding: 0;
        margin: 0.75rem 0 0;
      }
      li + li {
        border-top: 1px solid var(--border);
      }
      li button {
        display: block;
        width: 100%;
        text-align: left;
        border: 0;
        border-radius: 0.4rem;
        padding: 0.5rem;
        font-weight: normal;
      }
      .name {
        font-weight: 600;
        display: block;
        overflow-wrap: anywhere;
      }
      .first {
        display: block;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .unfinished {
        margin-top: 0.75rem;
        padding: 0.75rem;
        border-radius: 0.5rem;
        border: 2px solid var(--accent);
      }
      dialog {
        border: 1px solid var(--border);
        border-radius: 0.75rem;
        background: var(--panel);
        color: var(--fg);
        max-width: min(26rem, 90vw);
      }
    `,
  ];

  constructor() {
    super();
    new LibraryUpdates(this, () => this.library);
    new EngineUpdates(this, () => this.client);
  }

  /** Open a document; focus moves to its name. */
  open(id: string): void {
    this.openId = id;
    void this.updateComplete.then(() =>
      this.renderRoot
        .querySelector('transcript-view')
        ?.shadowRoot?.querySelector<HTMLElement>('[data-testid="doc-title"]')
        ?.focus(),
    );
  }

  /** Back to the list; focus returns to the row of the document that was open (or the search box). */
  private close(): void {
    const id = this.openId;
    this.openId = null;
    void this.updateComplete.then(() => {
      const row = this.renderRoot.querySelector<HTMLElement>(`[data-testid="library-item"][data-id="${id}"]`);
      (row ?? this.renderRoot.querySelector<HTMLElement>('[data-testid="library-search"]'))?.focus();
    });
  }

  private ask(ids: string[] | 'all', text: string): void {
    this.confirming = { ids, text };
    void this.updateComplete.then(() => this.dialog?.showModal());
  }

  private async confirmed(): Promise<void> {
    const what = this.confirming;
    this.dialog?.close();
    this.confirming = null;
    if (!what) return;
    try {
      if (what.ids === 'all') await this.library.deleteAll();
      else for (const id of what.ids) await this.library.delete(id);
      if (what.ids === 'all' || (this.openId && what.ids.includes(this.openId))) this.close();
      this.error = null;
    } catch (err) {
      this.error = libraryError(err);
    }
  }

  private finish(doc: TranscriptDocument): void {
    const label = `${displayTitle(doc)} (${formatDuration(doc.audio.samples / 16000)})`;
    this.dispatchEvent(
      new CustomEvent('transcribe-stored', { detail: { id: doc.id, label }, bubbles: true, composed: true }),
    );
  }

  private renderUnfinished() {
    const ready = this.client.modelState === 'ready';
    return this.library.unfinished.map(
      (doc) =>
        html`<div
          class="unfinished"
          role="status"
          data-testid="unfinished"
          data-id=${doc.id}
          data-samples=${doc.audio.samples}
        >
          <strong>${doc.kind === 'recording' ? 'A recording' : 'A transcription'} did not finish</strong>
          (${new Date(doc.createdAt).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}): the page
          closed ${doc.status === 'recording' ? 'while recording' : 'while transcribing'}.
          ${formatDuration(doc.audio.samples / 16000)} of audio
          ${doc.segments.length ? `and ${doc.segments.length} segments ` : ''}were kept.
          <div class="row" style="margin-top:.5rem">
            <button
              class="primary"
              ?disabled=${!ready || doc.audio.samples === 0}
              @click=${() => this.finish(doc)}
              data-testid="finish-unfinished"
            >
              Finish transcription
            </button>
            <button
              @click=${() => this.ask([doc.id], `Delete this unfinished ${doc.kind} and its audio?`)}
              data-testid="delete-unfinished"
            >
              Delete
            </button>
            ${
              doc.audio.samples === 0
                ? html`<span class="muted">No audio was kept: there is nothing to transcribe.</span>`
                : ready
                  ? nothing
                  : html`<span class="muted">Load the model to finish it.</span>`
            }
          </div>
        </div>`,
    );
  }

  /** A storage problem while keeping a document (its audio, or a change to it): what happened and what to do. */
  private renderAudioProblem() {
    const p = this.library.audioProblem;
    if (!p) return nothing;
    const full = p.error.code === 'STORAGE_FULL';
    const [testId, title, body] =
      p.what === 'document'
        ? [
            'library-doc-error',
            'A transcript could not be saved in the library.',
            `${full ? 'Storage is full: free space in Settings → Storage.' : 'This browser refused to store it.'} What is on screen is still there: save or copy it before you close the page.`,
          ]
        : [
            'library-audio-error',
            full ? 'Storage is full: the rest of this audio is not being kept' : 'The audio could not be kept',
            `${p.keptSec >= 0 ? `${formatDuration(p.keptSec)} of audio were kept in the library` : 'What was written before is kept'}. The recording goes on in this page's memory: save it (Download recording) before you close the page, or free space in Settings.`,
          ];
    return html`<div class="alert" role="alert" data-testid=${testId} data-error-code=${p.error.code}>
      <strong>${title}</strong>
      ${body}
      <details>
        <summary>Details</summary>
        ${p.error.code}: ${p.error.detail}
      </details>
      <div class="row" style="margin-top:.35rem">
        <button @click=${() => this.library.dismissAudioProblem()}>OK</button>
      </div>
    </div>`;
  }

  private renderList() {
    const lib = this.library;
    const entries = lib.search(this.query);
    const unfinished = new Set(lib.unfinished.map((d) => d.id));
    return html`<div class="row">
        <input
          type="search"
          aria-label="Search transcripts"
          placeholder="Search transcripts"
          data-testid="library-search"
          .value=${this.query}
          @input=${(e: Event) => {
            this.query = (e.target as HTMLInputElement).value;
            this.shown = PAGE_ROWS;
          }}
        />
        ${
          lib.entries.length
            ? html`<button
                class="danger"
                @click=${() => this.ask('all', `Delete all ${lib.entries.length} transcripts and their audio? This cannot be undone.`)}
                data-testid="delete-all"
              >
                Delete all
              </button>`
            : nothing
        }
      </div>
      ${
        !lib.loaded
          ? html`<div class="muted">Opening the library…</div>`
          : lib.entries.length === 0
            ? html`<p class="muted" data-testid="library-empty">
                No transcripts yet. Every recording and transcribed file is kept here, on this device only.
              </p>`
            : entries.length === 0
              ? html`<p class="muted" data-testid="library-no-match">Nothing matches “${this.query}”.</p>`
              : html`<ul data-testid="library-list" aria-label="Transcripts" data-matches=${entries.length}>
                    ${entries.slice(0, this.shown).map(
                      ({ doc, firstLine }) =>
                        html`<li>
                          <button @click=${() => this.open(doc.id)} data-testid="library-item" data-id=${doc.id}>
                            <span class="name">${displayTitle(doc)}</span>
                            <span class="muted"
                              >${new Date(doc.createdAt).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}
                              ·
                              ${formatDuration(doc.durationSec)}${unfinished.has(doc.id) ? ' · did not finish' : statusText(doc) ? ` · ${statusText(doc)}` : ''}</span
                            >
                            ${firstLine ? html`<span class="first">${firstLine}</span>` : nothing}
                          </button>
                        </li>`,
                    )}
                  </ul>
                  ${
                    entries.length > this.shown
                      ? html`<button @click=${() => (this.shown += PAGE_ROWS)} data-testid="library-more">
                          Show more (${entries.length - this.shown} more)
                        </button>`
                      : nothing
                  }`
      }`;
  }

  override render() {
    const doc = this.openId ? this.library.get(this.openId) : undefined;
    return html`<section aria-labelledby="lib-title" data-testid="library">
      <h2 id="lib-title">Transcripts</h2>
      ${this.renderAudioProblem()} ${this.renderUnfinished()} ${errorAlert(this.library.error)}
      ${errorAlert(this.error)}
      ${
        doc
          ? html`<transcript-view
              .doc=${doc}
              .library=${this.library}
              @close=${() => this.close()}
              @delete-doc=${(e: CustomEvent<string>) => this.ask([e.detail], `Delete “${displayTitle(doc)}” and its audio?`)}
            ></transcript-view>`
          : this.renderList()
      }
      <dialog data-testid="confirm" @close=${() => (this.confirming = null)} aria-labelledby="confirm-text">
        <p id="confirm-text">${this.confirming?.text ?? ''}</p>
        <div class="row">
          <button class="danger primary" @click=${() => this.confirmed()} data-testid="confirm-delete">Delete</button>
          <button autofocus @click=${() => this.dialog?.close()} data-testid="confirm-cancel">Cancel</button>
        </div>
      </dialog>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'library-panel': LibraryPanel;
  }
}
