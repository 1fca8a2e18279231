import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { StoredModel } from '../../core/asr/contract.ts';
import { ClientUpdates, type WorkerClient } from '../worker-client.ts';
import { LibraryUpdates, type Library } from '../library/library.ts';
import { formatBytes } from '../shared/format.ts';
import { asErrorInfo } from '../shared/messages.ts';
import type { ErrorInfo } from '../../core/protocol.ts';
import { errorAlert, errorAlertStyles } from '../shared/error-alert.ts';
import { settingsPanelStyles } from './settings-panel-styles.ts';

/**
 * Settings: stored models with their sizes (delete any of them), the transcript library's size beside them, the
 * site's storage use, and persistence.
 */
@customElement('storage-panel')
export class StoragePanel extends LitElement {
  @property({ attribute: false }) client!: WorkerClient;
  @property({ attribute: false }) library: Library | undefined;
  @state() private error: ErrorInfo | null = null;
  @state() private busy = false;

  static override styles = [
    errorAlertStyles,
    settingsPanelStyles,
    css`
      table {
        width: 100%;
        border-collapse: collapse;
        margin-top: 0.5rem;
        font-size: 0.9rem;
      }
      td,
      th {
        text-align: left;
        padding: 0.3rem 0.4rem;
        border-top: 1px solid var(--border);
      }
    `,
  ];

  constructor() {
    super();
    // The worker client belongs to the app; re-render on every worker message it routes.
    new ClientUpdates(this, () => this.client);
    new LibraryUpdates(this, () => this.library);
  }

  private async refresh(): Promise<void> {
    try {
      await this.client.refreshStorage();
      this.error = null;
    } catch (err) {
      this.error = asErrorInfo(err);
    }
    this.requestUpdate();
  }

  private async deleteModel(m: StoredModel): Promise<void> {
    if (this.client.modelState === 'loading') return;
    this.busy = true;
    try {
      await this.client.deleteStored(m);
      this.error = null;
      this.requestUpdate();
    } catch (err) {
      this.error = asErrorInfo(err);
    } finally {
      this.busy = false;
    }
  }

  private renderLibrarySize() {
    const library = this.library;
    if (!library?.loaded) return nothing;
    const size = library.size;
    return html`<p data-testid="library-size" data-bytes=${size.bytes} data-transcripts=${size.transcripts}>
      Transcripts: ${size.transcripts} kept on this device, ${formatBytes(size.bytes)} (${formatBytes(size.audioBytes)}
      of it audio). Delete them under <em>Transcripts</em>.
    </p>`;
  }

  override render() {
    const report = this.client.storage;
    const persisted = this.client.persisted;
    return html`<details
      data-testid="storage"
      @toggle=${(e: Event) => {
        if ((e.target as HTMLDetailsElement).open) void this.refresh();
      }}
    >
      <summary>Storage: models, transcripts and offline use</summary>
      <p class="muted" data-testid="storage-usage">
        ${
          report?.quota
            ? `This site uses ${formatBytes(report.usage ?? 0)} of the ${formatBytes(report.quota)} the browser allows it.`
            : 'The browser does not say how much storage this site may use.'
        }
        ${
          persisted === true
            ? 'Storage is persistent: the browser will not clear the model to free space.'
            : persisted === false
              ? 'Storage is not persistent: the browser may clear the model when space runs low (installing the app helps).'
              : ''
        }
      </p>
      ${
        persisted === false
          ? html`<button
              class="small"
              @click=${() => this.client.requestPersistence().then(() => this.requestUpdate())}
              data-testid="persist"
            >
              Ask to keep storage
            </button>`
          : nothing
      }
      ${report?.unavailable ? html`<p data-testid="storage-unavailable">Storage is unavailable: ${report.unavailable}</p>` : nothing}
      ${
        report && report.models.length
          ? html`<table data-testid="stored-models">
              <thead>
                <tr>
                  <th>Model</th>
                  <th>Variant</th>
                  <th>Size</th>
                  <th>State</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${report.models.map(
                  (m) =>
                    html`<tr data-model=${m.modelId} data-variant=${m.variant} data-complete=${m.complete}>
                      <td title=${m.baseUrl}>${m.modelId} <span class="muted">@${m.revision.slice(0, 8)}</span></td>
                      <td>${m.variant}</td>
                      <td>${formatBytes(m.complete ? m.bytes : m.storedBytes)}</td>
                      <td>
                        ${m.complete ? 'complete' : `partial, ${((100 * m.storedBytes) / Math.max(1, m.bytes)).toFixed(0)} %`}
                      </td>
                      <td>
                        <button
                          class="small"
                          @click=${() => this.deleteModel(m)}
                          ?disabled=${this.busy || this.client.modelState === 'loading'}
                          aria-label=${`Delete ${m.modelId} ${m.variant}`}
                          data-testid="delete-model"
                        >
                          Delete
                        </button>
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
          : html`<p class="muted">No model is stored on this device yet.</p>`
      }
      ${this.renderLibrarySize()} ${errorAlert(this.error)}
    </details>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'storage-panel': StoragePanel;
  }
}
