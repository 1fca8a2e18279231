import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { TranscriptDocument } from '../../core/format/document.ts';
import type { ErrorInfo } from '../../core/protocol.ts';
import { SAMPLE_RATE_HZ } from '../../core/constants.ts';
import { ClientUpdates, type WorkerClient } from '../worker-client.ts';
import { LibraryUpdates, libraryError, type Library } from './library.ts';
import { formatDuration } from '../shared/format.ts';
import { errorAlert, errorAlertStyles } from '../shared/error-alert.ts';
import { panelStyles } from '../shared/panel-styles.ts';
import { createdText, displayTitle, statusText } from './doc-labels.ts';
import { storageProblemNotice, unfinishedNotices } from './library-notices.ts';
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
    new ClientUpdates(this, () => this.client);
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
    const label = `${displayTitle(doc)} (${formatDuration(doc.audio.samples / SAMPLE_RATE_HZ)})`;
    this.dispatchEvent(
      new CustomEvent('transcribe-stored', { detail: { id: doc.id, label }, bubbles: true, composed: true }),
    );
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
                              >${createdText(doc)} ·
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
      ${storageProblemNotice(this.library)}
      ${unfinishedNotices(this.library, this.client.modelState === 'ready', {
        finish: (doc) => this.finish(doc),
        askDelete: (doc) => this.ask([doc.id], `Delete this unfinished ${doc.kind} and its audio?`),
      })}
      ${errorAlert(this.library.error)} ${errorAlert(this.error)}
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
