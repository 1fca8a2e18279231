import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { ClientUpdates, type WorkerClient } from '../worker-client.ts';
import { ChoiceUpdates, type ModelChoice } from '../settings/model-choice.ts';
import { formatBytes } from '../shared/format.ts';
import { backendLine, backendLineStyles, switchNotice } from './backend-line.ts';
import { errorAlert, errorAlertStyles } from '../shared/error-alert.ts';
import { loadProgress } from './load-progress.ts';
import './model-card.ts';
import type { ModelPick, ServedList } from './model-card.ts';
import { panelStyles } from '../shared/panel-styles.ts';

/**
 * The model, on the main screen.  First run: a card that says what will be downloaded (name, revision, size, where
 * it is kept, free space) with one *Download* button, then the download's progress; a model already stored on this
 * device loads by itself.  Once loaded: one line that says where it runs and why.  Errors, the server consent
 * prompt and "load without saving" appear here too.  The model's URL, variant and backend are in Settings.
 */
@customElement('model-setup')
export class ModelSetup extends LitElement {
  @property({ attribute: false }) client!: WorkerClient;
  @property({ attribute: false }) choice!: ModelChoice;
  /** A stored copy of the chosen model was looked for (and loaded when found); done once per page. */
  private lookedForStored = false;
  @query('dialog[data-testid="model-origin"]') private originDialog!: HTMLDialogElement | null;

  static override styles = [
    panelStyles,
    errorAlertStyles,
    backendLineStyles,
    css`
      .facts {
        margin: 0 0 0.75rem;
      }
      model-card {
        margin-top: 0.75rem;
      }
      .ready {
        margin-top: 1rem;
      }
      .ready .backend-line {
        margin: 0;
      }
      .notes {
        margin: 0 0 0.75rem;
        color: var(--muted);
        font-size: 0.9rem;
      }
      dialog {
        max-width: min(32rem, calc(100vw - 2rem));
        border: 1px solid var(--border);
        border-radius: 0.75rem;
        padding: 1rem 1.25rem;
        color: var(--fg);
        background: var(--panel, #fff);
      }
      dialog::backdrop {
        background: rgb(0 0 0 / 0.4);
      }
      dialog h2 {
        font-size: 1.1rem;
        margin: 0 0 0.5rem;
      }
      dialog code {
        overflow-wrap: anywhere;
      }
    `,
  ];

  constructor() {
    super();
    new ClientUpdates(this, () => this.client);
    new ChoiceUpdates(this, () => this.choice);
  }

  override firstUpdated(): void {
    if (this.choice.autoLoad) {
      this.lookedForStored = true;
      void this.choice.load();
    } else void this.loadIfStored();
  }

  override updated(): void {
    // The link's model on another origin: asked in a modal dialog (focus moves into it; Escape answers no).
    const dialog = this.originDialog;
    if (dialog && !dialog.open) dialog.showModal();
  }

  private answerOrigin(load: boolean): void {
    this.originDialog?.close();
    this.choice.answerPendingModel(load);
    // Declined: the visit goes on as a plain one (a stored model loads by itself).
    if (!load) void this.loadIfStored();
  }

  /** A returning user: the chosen model (the last one used) is stored in this browser, so it loads without a click. */
  private async loadIfStored(): Promise<void> {
    // Not while the link's model waits for an answer: a load started now would be the one a yes joins.
    if (this.lookedForStored || this.choice.pendingModel) return;
    const report = await this.client.refreshStorage().catch(() => null);
    if (this.lookedForStored || this.choice.pendingModel || this.client.modelState !== 'none') return;
    const url = this.choice.modelHref;
    if (url && report?.models.some((m) => m.complete && m.baseUrl === url)) {
      this.lookedForStored = true;
      // Only what is stored: when the planner now wants another variant or the server has a newer revision, the
      // card asks for the download instead of starting it.
      void this.choice.load(undefined, true);
    }
  }

  private onServed(list: ServedList): void {
    this.choice.setServed(list.models, list.preparing);
    // The default URL may have given way to a served model that is already stored.
    void this.loadIfStored();
  }

  /** What the chosen model needs: its name and revision, its size, where it is kept and the free space. */
  private renderFacts() {
    const served = this.choice.servedModel?.glmasr;
    const storage = this.client.storage;
    const free =
      storage && storage.quota !== null && storage.usage !== null
        ? `${formatBytes(Math.max(0, storage.quota - storage.usage))} free`
        : 'free space unknown';
    const sizes = served ? Object.values(served.variants).sort((x, y) => x - y) : [];
    const size = !sizes.length
      ? ''
      : sizes.length === 1 || sizes[0] === sizes.at(-1)
        ? formatBytes(sizes[0]!)
        : `${formatBytes(sizes[0]!)} to ${formatBytes(sizes.at(-1)!)}`;
    return html`<p class="facts" data-testid="model-facts">
      <strong>${served?.model_id ?? 'GLM-ASR Nano'}</strong>
      ${served ? html`<span class="muted">revision ${served.revision.slice(0, 12)}</span>` : nothing}<br />
      ${size ? html`${size} (the variant that suits this device), ` : nothing}downloaded once into this browser's
      storage, then used offline <span class="muted">· ${free}</span>
    </p>`;
  }

  private renderConsent(url: string) {
    return html`<div class="consent" role="group" aria-labelledby="consent-title" data-testid="consent">
      <strong id="consent-title">Transcribe on the server?</strong>
      <p>
        Audio you transcribe will be sent to <code>${url}</code>, which runs the same model and sends the text back. You
        are asked once for this address; Settings → Where to transcribe changes it.
      </p>
      <div class="row">
        <button class="primary" @click=${() => this.choice.allowServer(url)} data-testid="consent-allow">
          Allow and continue
        </button>
        <button @click=${() => this.choice.keepOnDevice()} data-testid="consent-deny">Keep audio on this device</button>
      </div>
    </div>`;
  }

  /** Another origin's model named by the link: yes or no before a byte is fetched from it (never remembered). */
  private renderOriginDialog(url: string) {
    const host = new URL(url).host;
    return html`<dialog
      data-testid="model-origin"
      aria-labelledby="model-origin-title"
      aria-describedby="model-origin-text"
      @cancel=${(ev: Event) => {
        ev.preventDefault();
        this.answerOrigin(false);
      }}
    >
      <h2 id="model-origin-title">Load a speech model from ${host}?</h2>
      <p id="model-origin-text">
        This link asks the app to download a speech model from <code>${url}</code>, a site other than this one. That
        site sees this device's requests for the model's files (never your audio). Load it only if you trust it; it is
        used for this visit and not remembered.
      </p>
      <div class="row">
        <button class="primary" @click=${() => this.answerOrigin(true)} data-testid="model-origin-load">
          Load from ${host}
        </button>
        <button autofocus @click=${() => this.answerOrigin(false)} data-testid="model-origin-decline">
          Don't load
        </button>
      </div>
    </dialog>`;
  }

  private renderNotes() {
    const notes = this.choice.linkNotes;
    if (!notes.length) return nothing;
    return html`<p class="notes" role="status" data-testid="link-notes">${notes.map((n) => html`${n}<br />`)}</p>`;
  }

  override render() {
    const pending = this.choice.pendingModel;
    const dialog = pending ? this.renderOriginDialog(pending) : nothing;
    const client = this.client;
    const info = client.backend;
    if (client.modelState === 'ready' && info)
      return html`<div class="ready">
          ${this.renderNotes()} ${backendLine(info)} ${switchNotice(client.backendChange)}
        </div>
        ${dialog}`;
    const code = client.modelError?.code;
    // A returning visit's stored-only load found nothing to load: that is the first-run card, not an error.
    const error = code === 'NOT_STORED' ? null : client.modelError;
    const consent = code === 'CONSENT_REQUIRED' && this.choice.consentUrl ? this.choice.consentUrl : '';
    const paused = code === 'DOWNLOAD_PAUSED' || code === 'DOWNLOAD_FAILED';
    const url = this.choice.modelHref;
    const stored = client.storage?.models.find((m) => m.baseUrl === url);
    // NOT_STORED: what is stored here is not what the planner would load now (another variant or revision).
    const label =
      paused || (stored && !stored.complete)
        ? 'Resume download'
        : stored && code !== 'NOT_STORED'
          ? 'Load model'
          : 'Download';
    // This server has no model (and none is coming, or it is still preparing it): no Download that could only fail;
    // the card below says why and what to do.  A copy already stored here still loads.
    const nothingToDownload = this.choice.serverHasNoModel && !stored?.complete;
    return html`<section aria-labelledby="setup-title" data-testid="model-setup">
      <h2 id="setup-title">
        ${client.modelState === 'loading' ? 'Getting the speech model ready' : 'The speech model'}
      </h2>
      ${this.renderNotes()}
      ${
        client.modelState === 'loading'
          ? html`<div data-testid="model-progress">${loadProgress(client.loadProgress, client)}</div>`
          : nothingToDownload
            ? nothing
            : html`${this.renderFacts()}
                <div class="row">
                  <button
                    class="primary"
                    @click=${() => this.choice.load()}
                    ?disabled=${this.choice.busy}
                    data-testid="load-model"
                  >
                    ${label}
                  </button>
                </div>`
      }
      ${consent ? this.renderConsent(consent) : errorAlert(error)}
      ${
        code === 'STORAGE_FULL' || code === 'STORAGE_UNAVAILABLE'
          ? html`<div class="row" style="margin-top:.5rem">
              <button @click=${() => this.choice.load('memory')} data-testid="load-unsaved">
                Load without saving (downloads again next time)
              </button>
            </div>`
          : nothing
      }
      ${
        client.modelState === 'loading'
          ? nothing
          : html`<model-card
              @model-pick=${(ev: CustomEvent<ModelPick>) => this.choice.use(ev.detail.url)}
              @models-listed=${(ev: CustomEvent<ServedList>) => this.onServed(ev.detail)}
            ></model-card>`
      }
      ${dialog}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'model-setup': ModelSetup;
  }
}
