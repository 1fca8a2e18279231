import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { Variant } from '../../core/asr/contract.ts';
import { VARIANTS } from '../../core/protocol.ts';
import { ClientUpdates, type WorkerClient } from '../worker-client.ts';
import { ChoiceUpdates, type ModelChoice } from './model-choice.ts';
import { deviceOnly, type BackendMenu } from './run-preference.ts';
import { modelAddress } from './page-params.ts';
import { settingsPanelStyles } from './settings-panel-styles.ts';

const BACKEND_LABELS: Record<BackendMenu, string> = {
  auto: 'Best for this device',
  webgpu: 'WebGPU (graphics processor)',
  wasm: 'CPU (WASM)',
  server: 'The server',
};

/**
 * Settings → Model: where the model comes from (any static host with Range and CORS, or this server's models), the
 * variant (the planner's choice by default) and the backend, with a button that loads it with these choices.
 */
@customElement('model-settings')
export class ModelSettings extends LitElement {
  @property({ attribute: false }) client!: WorkerClient;
  @property({ attribute: false }) choice!: ModelChoice;
  /** The address typed is not one a model can be fetched from (said beside the field; the choice keeps the last good one). */
  @state() private invalidUrl = '';

  static override styles = [
    settingsPanelStyles,
    css`
      label {
        display: block;
        margin: 0.6rem 0 0.2rem;
        font-size: 0.9rem;
      }
    `,
  ];

  constructor() {
    super();
    new ClientUpdates(this, () => this.client);
    new ChoiceUpdates(this, () => this.choice);
  }

  private setUrl(value: string): void {
    const trimmed = value.trim();
    if (!trimmed || !modelAddress(trimmed, location.href)) {
      this.invalidUrl = value;
      return;
    }
    this.invalidUrl = '';
    this.choice.set({ modelUrl: trimmed });
  }

  override render() {
    const c = this.choice;
    const loading = this.client.modelState === 'loading';
    // *Only on this device* is changed in Where to transcribe alone: the server is not a backend to pick meanwhile.
    const onDevice = deviceOnly();
    return html`<details data-testid="model-settings">
      <summary>Model and engine</summary>
      <label for="model-url">Model address</label>
      <input
        id="model-url"
        type="url"
        .value=${c.modelUrl}
        @change=${(ev: Event) => this.setUrl((ev.target as HTMLInputElement).value)}
        ?disabled=${loading}
        data-testid="model-url"
      />
      ${
        this.invalidUrl
          ? html`<p class="invalid" role="alert" data-testid="model-url-invalid">
              "${this.invalidUrl.slice(0, 200)}" is not a model address: enter an http:// or https:// URL (or a path on
              this server such as /models/name/).
            </p>`
          : nothing
      }
      <div class="hint">This server's models, or any static host that allows Range requests and CORS.</div>
      <label for="variant">Variant</label>
      <select
        id="variant"
        .value=${c.variant}
        @change=${(ev: Event) => c.set({ variant: (ev.target as HTMLSelectElement).value as Variant | 'auto' })}
        data-testid="variant-choice"
      >
        ${(['auto', ...VARIANTS] as const).map(
          // ?selected for the first render (the options do not exist yet when .value is set), .value after it.
          (v) =>
            html`<option value=${v} ?selected=${v === c.variant}>${v === 'auto' ? 'Best for this device' : v}</option>`,
        )}
      </select>
      <label for="engine">Engine</label>
      <select
        id="engine"
        .value=${c.run.backend}
        @change=${(ev: Event) => c.set({ backend: (ev.target as HTMLSelectElement).value as BackendMenu })}
        data-testid="engine-choice"
      >
        ${(Object.keys(BACKEND_LABELS) as BackendMenu[]).map(
          (v) =>
            html`<option value=${v} ?selected=${v === c.run.backend} ?disabled=${v === 'server' && onDevice}>
              ${BACKEND_LABELS[v]}${v === 'server' && onDevice ? ' (off: Where to transcribe is Only on this device)' : ''}
            </option>`,
        )}
      </select>
      <div>
        <button class="action" @click=${() => c.apply()} ?disabled=${loading || c.busy} data-testid="apply-model">
          ${this.client.modelState === 'ready' ? 'Reload with these choices' : 'Load with these choices'}
        </button>
        ${
          c.reloadWaiting
            ? html`<div class="hint" role="status">Applies once the current transcription ends.</div>`
            : nothing
        }
      </div>
    </details>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'model-settings': ModelSettings;
  }
}
