import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import type { ModelList, ModelObject, PreparingStatus } from '../../core/remote/openai-api.ts';
import { formatBytes, formatDuration } from '../shared/format.ts';
import { buttonStyles } from '../shared/panel-styles.ts';

/** What the card hands the panel when the user picks a served model. */
export interface ModelPick {
  url: string;
  name: string;
}

/** How often the card asks again while the server prepares a model. */
const POLL_MS = 3000;

/** What the card hands the panel once the server answered: its models, and its preparation while it has none. */
export interface ServedList {
  models: ModelObject[];
  preparing: PreparingStatus | null;
}

/**
 * A place on the server's disk ("/srv/app/models", "~/models", "C:\\models"): the server's business, never shown to
 * visitors.  A URL ("https://host/path") is not one (its slashes follow "scheme:").
 */
const SERVER_PATH = /(^|[\s'"=(])(?:~[/\\]|[A-Za-z]:\\|\/(?!\/))[^\s'"),;]*/g;

/** The server's sentence with any path on its disk replaced by words. */
export function withoutServerPaths(text: string): string {
  return text.replace(SERVER_PATH, '$1(a folder on the server)');
}

/** The command may be shown only when it names no place on the server's disk. */
export function pathFree(text: string): boolean {
  return withoutServerPaths(text) === text;
}

/** The preparation is under way (progress to show); otherwise it stopped or never started. */
export function preparingBusy(p: PreparingStatus): boolean {
  return p.state === 'checking' || p.state === 'downloading' || p.state === 'converting';
}

/**
 * The models this server serves (`GET /models/index.json`: name, revision, size per variant, as `/v1/models` lists
 * them but outside the API, so a page that keeps audio on the device never calls /v1/), each
 * with one *Use* button; while the server converts the model on its first start, that progress; when it cannot, why
 * and the command that does it by hand.  Nothing when the page is not served by this app's server (a static host,
 * an API key): the model URL field stays the way in.
 */
@customElement('model-card')
export class ModelCard extends LitElement {
  @state() private models: ModelObject[] = [];
  @state() private preparing: PreparingStatus | null = null;
  @state() private answered = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  static override styles = css`
    ${buttonStyles}
    :host {
      display: block;
      --button-padding: 0.4rem 1rem;
    }
    .card {
      border: 1px solid var(--border);
      border-radius: 0.75rem;
      padding: 0.75rem 1rem;
      margin-bottom: 0.75rem;
    }
    h3 {
      font-size: 1rem;
      margin: 0 0 0.25rem;
    }
    p {
      margin: 0 0 0.5rem;
    }
    summary {
      cursor: pointer;
      font-weight: 600;
    }
    li details summary {
      font-weight: normal;
      text-decoration: underline;
    }
    summary:focus-visible {
      outline: 3px solid var(--focus);
      outline-offset: 2px;
    }
    ul {
      list-style: none;
      margin: 0.5rem 0 0;
      padding: 0;
      display: grid;
      gap: 0.5rem;
    }
    li {
      display: flex;
      gap: 0.75rem;
      align-items: center;
      justify-content: space-between;
    }
    ul.todo {
      list-style: disc;
      padding-left: 1.25rem;
      gap: 0.25rem;
    }
    ul.todo li {
      display: list-item;
    }
    li > div {
      flex: 1 1 auto;
      min-width: 0;
      overflow-wrap: anywhere;
    }
    .muted {
      color: var(--muted);
      font-size: 0.9rem;
    }
    code {
      display: block;
      white-space: pre-wrap;
      word-break: break-all;
      font-size: 0.85rem;
      background: var(--bg);
      padding: 0.4rem 0.5rem;
      border-radius: 0.4rem;
      margin-top: 0.4rem;
    }
    progress {
      width: 100%;
    }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.refresh();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The served models, for the panel's default (the first of them when its URL is the built-in default). */
  get served(): readonly ModelObject[] {
    return this.models;
  }

  private async refresh(): Promise<void> {
    this.timer = null;
    try {
      const res = await fetch('/models/index.json', { cache: 'no-store' });
      if (!res.ok) throw new Error(String(res.status));
      const list = (await res.json()) as ModelList;
      this.models = list.data.filter((m) => m.glmasr && !m.glmasr.variant);
      this.preparing = list.preparing ?? null;
      this.answered = true;
      const detail: ServedList = { models: this.models, preparing: this.preparing };
      this.dispatchEvent(new CustomEvent('models-listed', { detail }));
    } catch {
      // Not this app's server (a static host), or the API wants a key: the URL field is the way in.
      this.answered = false;
    }
    const busy = this.preparing && preparingBusy(this.preparing);
    if (busy && this.isConnected) this.timer = setTimeout(() => void this.refresh(), POLL_MS);
  }

  private pick(m: ModelObject): void {
    const detail: ModelPick = { url: m.glmasr!.url, name: m.glmasr!.model_id };
    this.dispatchEvent(new CustomEvent('model-pick', { detail, bubbles: true, composed: true }));
  }

  private renderPreparing(p: PreparingStatus) {
    if (!preparingBusy(p)) return this.renderNoModel(p);
    return html`<div class="card" data-testid="model-preparing" data-state=${p.state} role="status">
      <h3>The server is preparing ${p.id}</h3>
      <progress max="1" .value=${p.progress ?? 0} aria-label="Model preparation"></progress>
      <div class="muted">
        ${p.state === 'downloading' ? 'Downloading' : p.state === 'checking' ? 'Checking the model source' : 'Converting'}
        ${p.progress !== null ? ` · ${Math.round(100 * p.progress)} %` : ''}
        ${p.eta_seconds !== null ? ` · about ${formatDuration(p.eta_seconds)} left` : ''}
      </div>
      <div class="muted">${withoutServerPaths(p.message)}</div>
      <div class="muted">It appears here when it is ready; you can record meanwhile and transcribe once it is.</div>
    </div>`;
  }

  /** No model here and none coming: say so plainly, why (the server's own sentence), and what can be done. */
  private renderNoModel(p: PreparingStatus) {
    const command = p.command && pathFree(p.command) ? p.command : '';
    return html`<div class="card" data-testid="model-preparing" data-state=${p.state} role="status">
      <h3>This server has no speech model yet</h3>
      <p data-testid="preparing-message">${withoutServerPaths(p.message)}</p>
      <p>What you can do:</p>
      <ul class="todo">
        <li>Record anyway: recordings are kept in this browser, to transcribe once a model is available.</li>
        <li>Use a model from elsewhere: Settings → Model and engine.</li>
        <li>
          ${
            command
              ? html`<details>
                  <summary>If this is your server</summary>
                  Run this on its machine, then start the server again:
                  <code data-testid="prepare-command">${command}</code>
                </details>`
              : p.state === 'skipped'
                ? 'If this is your server: start it again without --no-convert.'
                : 'If this is your server: fix what the message above says and start it again.'
          }
        </li>
      </ul>
    </div>`;
  }

  override render() {
    if (!this.answered) return nothing;
    if (!this.models.length) return this.preparing ? this.renderPreparing(this.preparing) : nothing;
    return html`<details class="card" data-testid="served-models">
      <summary>Models on this server (${this.models.length})</summary>
      <ul>
        ${this.models.map((m) => {
          const g = m.glmasr!;
          const sizes = Object.entries(g.variants)
            .map(([v, bytes]) => `${v} ${formatBytes(bytes)}`)
            .join(' · ');
          return html`<li data-model=${m.id}>
            <div>
              <strong>${g.model_id}</strong>
              <span class="muted">revision ${g.revision}</span>
              <div class="muted">${sizes}</div>
            </div>
            <button
              class="primary"
              @click=${() => this.pick(m)}
              data-testid="use-model"
              aria-label=${`Use ${g.model_id}`}
            >
              Use
            </button>
          </li>`;
        })}
      </ul>
    </details>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'model-card': ModelCard;
  }
}
