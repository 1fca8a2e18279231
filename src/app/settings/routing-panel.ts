import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { Where } from '../../core/protocol.ts';
import {
  effectiveServerUrl,
  loadRouting,
  normaliseServerUrl,
  originServerUrl,
  saveRouting,
  type StoredRouting,
} from './routing-settings.ts';
import { settingsPanelStyles } from './settings-panel-styles.ts';

/**
 * Settings: *Where to transcribe* (Automatic / Only on this device / Server), the server's address and key, and the
 * servers audio may go to.  Saving fires `routing-changed`; the app reloads the model with the new routing.
 */
@customElement('routing-panel')
export class RoutingPanel extends LitElement {
  @state() private settings: StoredRouting = loadRouting();
  @state() private originUrl = '';
  @state() private saved = false;
  @state() private invalid = '';

  static override styles = [
    settingsPanelStyles,
    css`
      fieldset {
        border: 0;
        padding: 0;
        margin: 0.75rem 0 0;
      }
      label {
        display: block;
        margin: 0.35rem 0;
      }
      .hint {
        margin-left: 1.6rem;
      }
      .visually-hidden {
        position: absolute;
        width: 1px;
        height: 1px;
        overflow: hidden;
        clip-path: inset(50%);
        white-space: nowrap;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    void originServerUrl().then((url) => (this.originUrl = url));
  }

  private update_(patch: Partial<StoredRouting>): void {
    this.settings = { ...this.settings, ...patch };
    this.saved = false;
  }

  private async save(): Promise<void> {
    const typed = this.settings.serverUrl.trim();
    if (typed && !normaliseServerUrl(typed)) {
      this.invalid = `"${typed}" is not a server address: enter a full http:// or https:// URL, such as https://example.org/v1.`;
      return;
    }
    this.invalid = '';
    const next = { ...this.settings, serverUrl: normaliseServerUrl(typed) };
    saveRouting(next);
    this.settings = next;
    this.saved = true;
    const url = await effectiveServerUrl(next);
    this.dispatchEvent(
      new CustomEvent('routing-changed', { detail: { ...next, effectiveUrl: url }, bubbles: true, composed: true }),
    );
  }

  private forget(url: string): void {
    const next = { ...this.settings, consented: this.settings.consented.filter((u) => u !== url) };
    saveRouting(next);
    this.settings = next;
    // A server backend that is loaded must stop being used at once.
    this.dispatchEvent(new CustomEvent('routing-changed', { detail: next, bubbles: true, composed: true }));
  }

  override render() {
    const s = this.settings;
    const choice = (where: Where, title: string, hint: string) =>
      html`<label>
          <input
            type="radio"
            name="where"
            value=${where}
            .checked=${s.where === where}
            @change=${() => this.update_({ where })}
            data-testid=${`where-${where}`}
          />
          ${title}
        </label>
        <div class="hint">${hint}</div>`;
    return html`<details
      data-testid="routing"
      @toggle=${(e: Event) => {
        // Consent may have been given in the Transcribe panel meanwhile.
        if ((e.target as HTMLDetailsElement).open) this.settings = loadRouting();
      }}
    >
      <summary>Where to transcribe</summary>
      <fieldset>
        <legend class="visually-hidden">Where to transcribe</legend>
        ${choice(
          'auto',
          'Automatic',
          'On this device when it can hold the model; otherwise on the server (after you allow it once).',
        )}
        ${choice('device', 'Only on this device', 'Audio never leaves this device. Slow or large-memory devices may not manage.')}
        ${choice('server', 'Server', 'Audio is sent to the server below for every transcription.')}
      </fieldset>
      <label
        >Server (an OpenAI-compatible API root, ending in /v1)
        <input
          type="url"
          placeholder=${this.originUrl || 'https://example.org/v1'}
          .value=${s.serverUrl}
          @input=${(e: Event) => this.update_({ serverUrl: (e.target as HTMLInputElement).value })}
          data-testid="server-url"
      /></label>
      <div class="muted">
        ${
          this.originUrl
            ? `Empty = this app's own server, ${this.originUrl}.`
            : 'This page does not come from the app server: enter a server to use one.'
        }
      </div>
      <label
        >API key (optional)
        <input
          type="password"
          autocomplete="off"
          .value=${s.apiKey}
          @input=${(e: Event) => this.update_({ apiKey: (e.target as HTMLInputElement).value })}
          data-testid="server-key"
      /></label>
      <button class="action" @click=${() => this.save()} data-testid="save-routing">Save and reload the model</button>
      ${this.saved ? html`<span class="muted" role="status"> Saved.</span>` : nothing}
      ${this.invalid ? html`<p class="invalid" role="alert" data-testid="server-url-invalid">${this.invalid}</p>` : nothing}
      ${
        s.consented.length
          ? html`<p class="muted">Audio may be sent to:</p>
              <ul>
                ${s.consented.map(
                  (u) =>
                    html`<li>
                      ${u}
                      <button class="action" @click=${() => this.forget(u)} aria-label=${`Stop sending audio to ${u}`}>
                        Revoke
                      </button>
                    </li>`,
                )}
              </ul>`
          : nothing
      }
    </details>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'routing-panel': RoutingPanel;
  }
}
