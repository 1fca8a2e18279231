import { LitElement, css, html, nothing } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { WorkerClient } from './worker-client.ts';
import { ModelChoice } from './settings/model-choice.ts';
import { Library } from './library/library.ts';
import { formatDuration } from './shared/format.ts';
import { buttonStyles } from './shared/panel-styles.ts';
import { registerServiceWorker, type UpdateHandle } from './service-worker.ts';
import './dictation/dictation-panel.ts';
import './files/file-panel.ts';
import './library/library-panel.ts';
import type { FilePanel } from './files/file-panel.ts';
import './settings/model-settings.ts';
import './model/model-setup.ts';
import './settings/routing-panel.ts';
import './settings/storage-panel.ts';

/**
 * The application shell, top to bottom: the model (first-run card, then one line), dictation (the main action),
 * files, and Settings (model source and backend, where to transcribe, storage).  Portrait phone first.
 */
@customElement('asr-app')
export class AsrApp extends LitElement {
  private readonly client = new WorkerClient(this);
  private readonly choice = new ModelChoice(this.client);
  /** Every recording and transcribed file, kept on this device. */
  private readonly library = new Library(this.client);

  /** A new service worker is waiting: the update prompt. */
  @state() private pendingUpdate: UpdateHandle | null = null;
  @query('file-panel') private files!: FilePanel | null;
  private unsubscribeOffers: (() => void) | null = null;

  static override styles = [
    buttonStyles,
    css`
      :host {
        display: block;
        max-width: 56rem;
        margin: 0 auto;
        padding: max(1rem, env(safe-area-inset-top)) 1rem 3rem;
        color: var(--fg);
        font:
          16px/1.5 system-ui,
          -apple-system,
          'Segoe UI',
          sans-serif;
      }
      header h1 {
        font-size: 1.4rem;
        margin: 0;
      }
      header p {
        margin: 0.15rem 0 0;
        color: var(--muted);
      }
      .update {
        margin-top: 1rem;
        padding: 0.6rem 1rem;
        border-radius: 0.75rem;
        background: var(--panel);
        border: 2px solid var(--accent);
        display: flex;
        gap: 1rem;
        align-items: center;
        flex-wrap: wrap;
      }
      .update button {
        --button-padding: 0.4rem 1rem;
        border: 0;
      }
      section.settings {
        margin-top: 2rem;
      }
      section.settings h2 {
        font-size: 1.1rem;
        margin: 0;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    registerServiceWorker((update) => (this.pendingUpdate = update));
  }

  override disconnectedCallback(): void {
    this.unsubscribeOffers?.();
    super.disconnectedCallback();
  }

  /** Transcribe a kept recording whole (the file panel shows the job). */
  private transcribeStored(id: string, label: string): void {
    this.files?.transcribeStored(id, label);
  }

  override firstUpdated(): void {
    void this.library.refresh();
    // The worker offers a recording no model transcribed while it was made: transcribe it whole if one is ready.
    this.unsubscribeOffers = this.client.on((m) => {
      if (m.type === 'recording-offer' && this.client.modelState === 'ready')
        this.transcribeStored(m.recordingId, `Recording (${formatDuration(m.seconds)})`);
    });
  }

  override render() {
    return html`<header>
        <h1>GLM-ASR Nano</h1>
        <p>Speech to text on your own device.</p>
      </header>
      ${
        this.pendingUpdate
          ? html`<div class="update" role="status" data-testid="update-ready">
              A new version of the app is ready.
              <button class="primary" @click=${() => this.pendingUpdate?.apply()} data-testid="apply-update">
                Reload to update
              </button>
            </div>`
          : nothing
      }
      <model-setup .client=${this.client} .choice=${this.choice}></model-setup>
      <dictation-panel
        .client=${this.client}
        .choice=${this.choice}
        .library=${this.library}
        @transcribe-stored=${(e: CustomEvent<{ id: string; label: string }>) =>
          this.transcribeStored(e.detail.id, e.detail.label)}
      ></dictation-panel>
      <file-panel .client=${this.client} .choice=${this.choice} .library=${this.library}></file-panel>
      <library-panel
        .library=${this.library}
        .client=${this.client}
        @transcribe-stored=${(e: CustomEvent<{ id: string; label: string }>) =>
          this.transcribeStored(e.detail.id, e.detail.label)}
      ></library-panel>
      <section class="settings" aria-labelledby="settings-title" data-testid="settings">
        <h2 id="settings-title">Settings</h2>
        <model-settings .client=${this.client} .choice=${this.choice}></model-settings>
        <routing-panel
          @routing-changed=${() => {
            // The saved setting is what counts from now on: the link's backend/where for this load give way to it.
            this.choice.dropRoutingOverrides();
            this.choice.reloadWithSettings();
          }}
        ></routing-panel>
        <storage-panel .client=${this.client} .library=${this.library}></storage-panel>
      </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'asr-app': AsrApp;
  }
}
