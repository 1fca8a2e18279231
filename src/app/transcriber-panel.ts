import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { SAMPLE_RATE_HZ } from '../../workers/constants.ts';
import type { LoadProgress, TranscribeEvent, Transcript, Variant, WindowResult } from '../../workers/asr/contract.ts';
import type {
  EngineChoice,
  ErrorInfo,
  RoutingSettings,
  StorageMode,
  TranscribeSource,
  Where,
} from '../../workers/protocol.ts';
import { EngineUpdates, type EngineController, type TranscriptionJob } from '../controllers/engine-controller.ts';
import { AUDIO_ACCEPT, decodeAudioFile } from '../lib/audio-file.ts';
import { formatBytes, formatDuration } from '../lib/format.ts';
import { asErrorInfo } from '../lib/messages.ts';
import { loadRouting, saveRouting, toRouting } from '../lib/routing-settings.ts';
import { engineLine, engineLineStyles, switchNotice } from './engine-line.ts';
import { errorAlert, errorAlertStyles } from './error-alert.ts';
import './model-card.ts';
import type { ModelPick } from './model-card.ts';
import type { ModelObject } from '../../workers/asr/openai-api.ts';

/** Where the model comes from: `?model=<url>&variant=<name|auto>&engine=<auto|webgpu|wasm>` or these defaults. */
export const DEFAULT_MODEL_URL = 'models/glm-asr-nano-2512/';

interface LiveWindow {
  index: number;
  /** The finished window (token ids, timings), once the transcription is done. */
  result?: WindowResult;
  startSec: number;
  endSec: number;
  text: string;
  done: boolean;
}

/**
 * Model loading, file open/drop, and transcription with per-window progress, ETA, cancel and the streaming text.
 */
@customElement('transcriber-panel')
export class TranscriberPanel extends LitElement {
  @property({ attribute: false }) engine!: EngineController;

  @state() private modelUrl = DEFAULT_MODEL_URL;
  @state() private variant: Variant | 'auto' = 'auto';
  /** The engine menu: the planner's choice, one on-device engine, or the server. */
  @state() private engineChoice: EngineChoice | 'server' = 'auto';
  /** The server a load needs permission for (CONSENT_REQUIRED), to name it in the prompt. */
  @state() private consentUrl = '';
  /** The engine switches of the running or last job. */
  @state() private switches: Extract<TranscribeEvent, { type: 'engine-switch' }>[] = [];
  /** An engine failed and the next one is starting (shown until the switch or the end of the job). */
  @state() private failing: Extract<TranscribeEvent, { type: 'engine-failed' }> | null = null;
  /** `?where=` (overrides the stored setting for this page) and test knobs for the routing. */
  private whereParam: Where | null = null;
  private routingKnobs: Pick<RoutingSettings, 'warmUpTimeoutMs' | 'loseGpuAfterWindows'> = {};
  @state() private job: TranscriptionJob | null = null;
  @state() private label = '';
  @state() private windows: LiveWindow[] = [];
  @state() private windowCount = 0;
  @state() private progress = 0;
  @state() private startedAt = 0;
  @state() private result: Transcript | null = null;
  @state() private error: ErrorInfo | null = null;
  @state() private dragging = false;
  @state() private decoding = false;
  /** Per-window token cap from `?maxNewTokens=` (tests compare with goldens decoded under a cap). */
  private maxNewTokens: number | undefined;
  /** `?storage=memory` loads without storing; `?chunkKiB=` and `?quotaAfterBytes=` are test knobs. */
  private storageMode: StorageMode = 'store';
  private chunkBytes: number | undefined;
  private quotaAfterBytes: number | undefined;

  static override styles = [
    errorAlertStyles,
    engineLineStyles,
    css`
      :host {
        display: block;
      }
      section {
        margin-top: 1.5rem;
        padding: 1rem;
        border: 1px solid var(--border);
        border-radius: 0.75rem;
        background: var(--panel);
      }
      section.drag {
        outline: 3px dashed var(--accent);
      }
      h2 {
        font-size: 1.1rem;
        margin: 0 0 0.75rem;
      }
      .row {
        display: flex;
        gap: 0.75rem;
        align-items: center;
        flex-wrap: wrap;
      }
      button,
      .file {
        font: inherit;
        font-weight: 600;
        padding: 0.5rem 1rem;
        border-radius: 2rem;
        border: 2px solid var(--border);
        cursor: pointer;
        background: transparent;
        color: var(--fg);
      }
      button.primary {
        background: var(--accent);
        color: white;
        border-color: transparent;
      }
      button:focus-visible,
      .file:focus-within {
        outline: 3px solid var(--focus);
        outline-offset: 2px;
      }
      button:disabled {
        opacity: 0.5;
        cursor: default;
      }
      .file input {
        position: absolute;
        width: 1px;
        height: 1px;
        opacity: 0;
      }
      input[type='url'],
      select {
        font: inherit;
        padding: 0.35rem 0.5rem;
        border-radius: 0.4rem;
        border: 1px solid var(--border);
        background: var(--bg, white);
        color: var(--fg);
      }
      input[type='url'] {
        flex: 1 1 16rem;
      }
      progress {
        width: 100%;
        height: 0.75rem;
        margin-top: 0.5rem;
      }
      .muted {
        color: var(--muted);
        font-size: 0.85rem;
      }
      .note {
        font-size: 0.85rem;
        margin-top: 0.35rem;
      }
      ul.files {
        list-style: none;
        padding: 0;
        margin: 0.25rem 0;
        font-size: 0.8rem;
      }
      ul.files li {
        display: grid;
        grid-template-columns: minmax(10rem, 1fr) 8rem 12rem;
        gap: 0.5rem;
        align-items: center;
        border: 0;
        padding: 0.1rem 0;
      }
      ul.files progress {
        margin: 0;
      }
      .engine {
        font-size: 0.85rem;
        margin-top: 0.5rem;
      }
      ol {
        list-style: none;
        padding: 0;
        margin: 0.75rem 0 0;
      }
      li {
        display: grid;
        grid-template-columns: 7.5rem 1fr;
        gap: 0.75rem;
        padding: 0.3rem 0;
        border-top: 1px solid var(--border);
      }
      .time {
        font-variant-numeric: tabular-nums;
        color: var(--muted);
        font-size: 0.85rem;
      }
      .transcript {
        display: block;
        margin-top: 0.75rem;
        padding: 0.75rem;
        border-radius: 0.5rem;
        background: var(--bg, white);
        white-space: pre-wrap;
        min-height: 1.5em;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    const params = new URLSearchParams(location.search);
    const model = params.get('model');
    const variant = params.get('variant');
    const engine = params.get('engine');
    if (variant) this.variant = variant as Variant | 'auto';
    const cap = Number(params.get('maxNewTokens'));
    if (Number.isInteger(cap) && cap > 0) this.maxNewTokens = cap;
    if (engine === 'webgpu' || engine === 'wasm' || engine === 'auto' || engine === 'server')
      this.engineChoice = engine;
    const where = params.get('where');
    if (where === 'auto' || where === 'device' || where === 'server') this.whereParam = where;
    const lose = Number(params.get('loseGpuAfterWindows'));
    if (Number.isInteger(lose) && lose > 0) this.routingKnobs.loseGpuAfterWindows = lose;
    const warmUp = Number(params.get('warmUpTimeoutMs'));
    if (warmUp > 0) this.routingKnobs.warmUpTimeoutMs = warmUp;
    if (params.get('storage') === 'memory') this.storageMode = 'memory';
    // Test knobs: record size (default 16 MiB) and a simulated full disk after N bytes.
    const chunkKiB = Number(params.get('chunkKiB'));
    if (chunkKiB > 0) this.chunkBytes = chunkKiB * 1024;
    const quota = params.get('quotaAfterBytes');
    if (quota !== null && Number.isFinite(Number(quota))) this.quotaAfterBytes = Number(quota);
    if (model) {
      this.modelUrl = model;
      this.autoLoad = true;
    }
  }

  /** An explicit `?model=` loads at once (a shared link or a test); otherwise the user presses Load. */
  private autoLoad = false;

  constructor() {
    super();
    // The engine controller belongs to the app; re-render on every worker message it routes.
    new EngineUpdates(this, () => this.engine);
  }

  override firstUpdated(): void {
    if (this.autoLoad) void this.load();
  }

  /** The routing for a load: the engine menu, else `?where=`, else the stored setting. */
  private async routing(): Promise<RoutingSettings> {
    const choice = this.engineChoice;
    const where: Where =
      choice === 'server'
        ? 'server'
        : choice === 'webgpu' || choice === 'wasm'
          ? 'device'
          : (this.whereParam ?? loadRouting().where);
    return { ...(await toRouting(loadRouting(), where)), ...this.routingKnobs };
  }

  /** The routing settings changed while a load or a job ran: reload once it ends. */
  private reloadPending = false;

  /** Reload with the current settings when a model was loaded or failed (after the routing settings changed). */
  reloadWithSettings(): void {
    if (this.engine.modelState === 'none') return;
    if (this.engine.modelState === 'loading' || this.job) {
      this.reloadPending = true;
      return;
    }
    void this.load();
  }

  private reloadIfPending(): void {
    if (!this.reloadPending || this.job || this.engine.modelState === 'loading') return;
    this.reloadPending = false;
    void this.load();
  }

  /** The user allowed audio to go to `url`: remember it and load again. */
  private allowServer(url: string): void {
    const settings = loadRouting();
    if (!settings.consented.includes(url)) saveRouting({ ...settings, consented: [...settings.consented, url] });
    this.consentUrl = '';
    void this.load();
  }

  /** The user declined the server: on this device only (remembered), and load again. */
  private keepOnDevice(): void {
    saveRouting({ ...loadRouting(), where: 'device' });
    this.whereParam = null;
    if (this.engineChoice === 'server') this.engineChoice = 'auto';
    this.consentUrl = '';
    void this.load();
  }

  private async load(storage: StorageMode = this.storageMode): Promise<void> {
    const routing = await this.routing();
    this.consentUrl = routing.server?.url ?? '';
    const loading = this.engine.loadModel(
      this.modelUrl,
      this.variant,
      this.engineChoice === 'server' ? 'auto' : this.engineChoice,
      {
        storage,
        ...(this.chunkBytes ? { chunkBytes: this.chunkBytes } : {}),
        ...(this.quotaAfterBytes !== undefined ? { quotaAfterBytes: this.quotaAfterBytes } : {}),
      },
      routing,
    );
    this.requestUpdate();
    try {
      await loading;
    } catch {
      /* shown from engine.modelError */
    } finally {
      this.requestUpdate();
      this.reloadIfPending();
    }
  }

  /** Transcribe what a capture session recorded (called by the app after Stop). */
  transcribeRecording(sessionId: number, seconds: number): void {
    void this.run({ kind: 'recording', sessionId }, `Recording (${formatDuration(seconds)})`);
  }

  private async onFiles(files: FileList | null | undefined): Promise<void> {
    const file = files?.[0];
    if (!file) return;
    this.reset(file.name);
    this.decoding = true;
    let pcm: Float32Array;
    try {
      pcm = await decodeAudioFile(file);
    } catch (err) {
      this.error = asErrorInfo(err, 'BAD_AUDIO');
      return;
    } finally {
      this.decoding = false;
    }
    await this.run({ kind: 'pcm', samples: pcm }, `${file.name} (${formatDuration(pcm.length / SAMPLE_RATE_HZ)})`);
  }

  /** Clear the previous job's text, progress and error for a new one named `label`. */
  private reset(label: string): void {
    this.error = null;
    this.result = null;
    this.windows = [];
    this.windowCount = 0;
    this.progress = 0;
    this.label = label;
    this.switches = [];
    this.failing = null;
  }

  private async run(source: TranscribeSource, label: string): Promise<void> {
    if (this.job) return;
    if (this.engine.modelState !== 'ready') {
      this.error = { code: 'NOT_LOADED', detail: `model state: ${this.engine.modelState}` };
      return;
    }
    this.reset(label);
    this.startedAt = performance.now();
    const job = this.engine.transcribe(source, (e) => this.onEvent(e), this.maxNewTokens, await this.routing());
    this.job = job;
    try {
      this.result = await job.done;
      this.progress = 1;
      this.windows = this.result.windows.map((w: WindowResult) => ({
        index: w.index,
        startSec: w.startSec,
        endSec: w.endSec,
        text: w.text,
        result: w,
        done: true,
      }));
    } catch (err) {
      this.error = asErrorInfo(err);
    } finally {
      this.job = null;
      this.reloadIfPending();
    }
  }

  private onEvent(e: TranscribeEvent): void {
    switch (e.type) {
      case 'window-start':
        this.windowCount = e.count;
        this.windows = [
          ...this.windows,
          { index: e.index, startSec: e.startSec, endSec: e.endSec, text: '', done: false },
        ];
        this.progress = e.index / e.count;
        break;
      case 'token': {
        const w = this.windows.find((x) => x.index === e.index);
        if (w) w.text = e.text;
        this.windows = [...this.windows];
        this.progress = (e.index + Math.min(1, e.generated / e.cap)) / Math.max(1, this.windowCount);
        break;
      }
      case 'engine-failed':
        this.failing = e;
        break;
      case 'engine-switch': {
        this.failing = null;
        this.switches = [...this.switches, e];
        // The window restarts on the new engine: drop the text the failed engine had produced for it.
        const w = this.windows.find((x) => x.index === e.index);
        if (w) w.text = '';
        this.windows = [...this.windows];
        break;
      }
      case 'window-end': {
        const w = this.windows.find((x) => x.index === e.result.index);
        if (w) {
          w.text = e.result.text;
          w.done = true;
        }
        this.windows = [...this.windows];
        this.progress = (e.result.index + 1) / e.count;
        break;
      }
    }
  }

  private renderProgress(p: LoadProgress | null) {
    if (!p) return html`<div class="muted">Starting…</div>`;
    if (p.stage === 'download' || p.stage === 'read') {
      const pct = p.total ? (100 * p.loaded) / p.total : 0;
      const d = p.download;
      const head =
        p.stage === 'read'
          ? `Reading the model from this device: ${formatBytes(p.loaded)} of ${formatBytes(p.total)}`
          : `Downloading ${formatBytes(p.loaded)} of ${formatBytes(p.total)} (${pct.toFixed(0)} %)`;
      return html`<progress max=${p.total || 1} .value=${p.loaded} aria-label="Model download"></progress>
        <div class="muted" data-testid="progress-text">
          ${head}${
            d
              ? html`${d.bytesPerSec > 0 ? ` · ${formatBytes(d.bytesPerSec)}/s` : ''}${
                  d.etaSec !== null ? ` · about ${formatDuration(d.etaSec)} left` : ''
                }`
              : nothing
          }
        </div>
        ${
          d
            ? html`<div class="muted">
                  ${d.resumedFrom > 0 ? `Resumed: ${formatBytes(d.resumedFrom)} were already stored. ` : ''} Needs
                  ${formatBytes(d.needed)} of
                  storage${d.available !== null ? `; ${formatBytes(d.available)} available` : ''}.
                </div>
                ${d.note ? html`<div class="note" role="status" data-testid="download-note">${d.note}</div>` : nothing}
                <details>
                  <summary>Files</summary>
                  <ul class="files" data-testid="download-files">
                    ${d.files.map(
                      (f) =>
                        html`<li data-path=${f.path} data-state=${f.state}>
                          <span>${f.path}</span>
                          <progress max=${f.total || 1} .value=${f.loaded}></progress>
                          <span class="muted">${formatBytes(f.loaded)} / ${formatBytes(f.total)} · ${f.state}</span>
                        </li>`,
                    )}
                  </ul>
                </details>
                <div class="row">
                  <button @click=${() => this.engine.stopDownload('pause')} data-testid="pause-download">
                    Pause download
                  </button>
                  <button @click=${() => this.engine.stopDownload('discard')} data-testid="cancel-download">
                    Cancel and delete
                  </button>
                </div>`
            : nothing
        }`;
    }
    return html`<progress aria-label="Model loading"></progress>
      <div class="muted" data-testid="progress-text">
        ${
          p.stage === 'session'
            ? `Preparing ${p.detail}…`
            : p.stage === 'warmup'
              ? `Warming up on ${p.detail === 'webgpu' ? 'WebGPU' : 'the CPU'}…`
              : 'Reading the model description…'
        }
      </div>`;
  }

  /** The served models arrived: the built-in default URL gives way to the first of them when it is not served. */
  private onServedModels(models: ModelObject[]): void {
    const urls = models.map((m) => m.glmasr!.url);
    const current = new URL(this.modelUrl, location.href).pathname;
    if (this.modelUrl === DEFAULT_MODEL_URL && urls.length && !urls.includes(current)) this.modelUrl = urls[0]!;
  }

  /** *Use* on a served model: load it, the variant chosen by the planner for this device. */
  private useServed(pick: ModelPick): void {
    this.modelUrl = pick.url;
    this.variant = 'auto';
    void this.load();
  }

  private renderModel() {
    const e = this.engine;
    const info = e.engineInfo;
    const code = e.modelError?.code;
    const paused = code === 'DOWNLOAD_PAUSED' || code === 'DOWNLOAD_FAILED';
    return html`${
        e.modelState !== 'ready' && e.modelState !== 'loading'
          ? html`<model-card
              @model-pick=${(ev: CustomEvent<ModelPick>) => this.useServed(ev.detail)}
              @models-listed=${(ev: CustomEvent<ModelObject[]>) => this.onServedModels(ev.detail)}
            ></model-card>`
          : nothing
      }
      <div class="row">
        <label for="model-url" class="muted">Model</label>
        <input
          id="model-url"
          type="url"
          .value=${this.modelUrl}
          @change=${(ev: Event) => (this.modelUrl = (ev.target as HTMLInputElement).value)}
          ?disabled=${e.modelState === 'loading'}
          data-testid="model-url"
        />
        <select
          aria-label="Engine"
          @change=${(ev: Event) =>
            (this.engineChoice = (ev.target as HTMLSelectElement).value as EngineChoice | 'server')}
          data-testid="engine-choice"
        >
          ${(['auto', 'webgpu', 'wasm', 'server'] as const).map(
            (v) =>
              html`<option value=${v} ?selected=${v === this.engineChoice}>
                ${v === 'auto' ? 'Best engine' : v === 'webgpu' ? 'WebGPU' : v === 'wasm' ? 'CPU (WASM)' : 'Server'}
              </option>`,
          )}
        </select>
        <button
          class=${e.modelState === 'ready' ? '' : 'primary'}
          @click=${() => this.load()}
          ?disabled=${e.modelState === 'loading' || !!this.job}
          data-testid="load-model"
        >
          ${e.modelState === 'ready' ? 'Reload' : paused ? 'Resume download' : 'Load model'}
        </button>
      </div>
      ${e.modelState === 'loading' ? html`<div data-testid="model-progress">${this.renderProgress(e.loadProgress)}</div>` : nothing}
      ${info ? engineLine(info) : nothing} ${switchNotice(e.engineChange)}
      ${code === 'CONSENT_REQUIRED' && this.consentUrl ? nothing : errorAlert(e.modelError)}
      ${
        code === 'CONSENT_REQUIRED' && this.consentUrl
          ? html`<div class="consent" role="group" aria-labelledby="consent-title" data-testid="consent">
              <strong id="consent-title">Transcribe on the server?</strong>
              <p>
                Audio you transcribe will be sent to <code>${this.consentUrl}</code>, which runs the same model and
                sends the text back. You are asked once for this address; Settings → Where to transcribe changes it.
              </p>
              <div class="row">
                <button class="primary" @click=${() => this.allowServer(this.consentUrl)} data-testid="consent-allow">
                  Allow and continue
                </button>
                <button @click=${() => this.keepOnDevice()} data-testid="consent-deny">
                  Keep audio on this device
                </button>
              </div>
            </div>`
          : nothing
      }
      ${
        code === 'STORAGE_FULL' || code === 'STORAGE_UNAVAILABLE'
          ? html`<div class="row">
              <button @click=${() => this.load('memory')} data-testid="load-unsaved">
                Load without saving (downloads again next time)
              </button>
            </div>`
          : nothing
      }`;
  }

  private renderJob() {
    if (!this.job && !this.result && !this.decoding) return nothing;
    const elapsed = (performance.now() - this.startedAt) / 1000;
    const eta = this.progress > 0.02 && this.job ? (elapsed * (1 - this.progress)) / this.progress : null;
    const current = this.windows.at(-1);
    return html`<div data-testid="job" style="margin-top:1rem">
      <div class="row">
        <strong>${this.label}</strong>
        ${this.job ? html`<button @click=${() => this.job?.cancel()} data-testid="cancel">Cancel</button>` : nothing}
      </div>
      ${this.decoding ? html`<div class="muted">Decoding the file…</div>` : nothing}
      ${
        this.failing && this.job
          ? html`<div class="note switch" role="status" data-testid="engine-failing">
              ${this.failing.from} failed at window ${this.failing.index + 1} (${this.failing.reason}); starting the
              next engine for the rest…
            </div>`
          : nothing
      }
      ${this.switches.map(
        (sw) =>
          html`<div class="note switch" role="status" data-testid="engine-switch" data-window=${sw.index}>
            From window ${sw.index + 1} on, this runs on <strong>${sw.to}</strong> because ${sw.from} failed:
            ${sw.reason}
          </div>`,
      )}
      ${
        this.job
          ? html`<progress max="1" .value=${this.progress} data-testid="transcribe-progress"></progress>
              <div class="muted" data-testid="job-status">
                ${
                  current
                    ? `Window ${current.index + 1} of ${this.windowCount} (${formatDuration(current.startSec)}–${formatDuration(current.endSec)})`
                    : 'Starting…'
                }
                ${eta !== null ? ` · about ${formatDuration(eta)} left` : ''}
              </div>`
          : nothing
      }
      ${
        this.result
          ? html`<div class="muted" data-testid="job-done">
              Done: ${formatDuration(this.result.audioSec)} of audio in ${(this.result.totalMs / 1000).toFixed(1)} s
            </div>`
          : nothing
      }
      <ol data-testid="windows">
        ${this.windows.map(
          (w) =>
            html`<li
              data-window=${w.index}
              data-done=${w.done}
              data-engine=${w.result?.engine ?? ''}
              data-token-ids=${w.result ? JSON.stringify(w.result.tokenIds) : ''}
              data-timings=${
                w.result
                  ? JSON.stringify({
                      encoderMs: w.result.encoderMs,
                      prefillMs: w.result.prefillMs,
                      decodeMs: w.result.decodeMs,
                      tokens: w.result.tokenIds.length,
                    })
                  : ''
              }
            >
              <span class="time"
                >${formatDuration(w.startSec)}–${formatDuration(w.endSec)}${
                  w.result?.engine
                    ? html`<span class="badge"
                        >${w.result.engine === 'server' ? 'server' : w.result.engine === 'webgpu' ? 'GPU' : 'CPU'}</span
                      >`
                    : nothing
                }${
                  w.result?.encoderVariant
                    ? html`<span
                        class="badge"
                        data-testid="precision-fallback"
                        title="Half precision overflowed on this window's audio, so it was encoded again in full precision (${
                          w.result.encoderVariant
                        })"
                        >audio in ${w.result.encoderVariant}</span
                      >`
                    : nothing
                }</span
              >
              <span class="text" data-text=${w.done ? w.text : ''}
                >${w.text || (w.done ? '(nothing heard)' : '…')}</span
              >
            </li>`,
        )}
      </ol>
      ${
        this.result
          ? html`<output class="transcript" data-testid="transcript" aria-label="Transcript"
                >${this.result.text}</output
              >
              <div class="row" style="margin-top:.5rem">
                <button @click=${() => navigator.clipboard?.writeText(this.result?.text ?? '')}>Copy text</button>
              </div>`
          : nothing
      }
    </div>`;
  }

  override render() {
    const canRun = this.engine.modelState === 'ready' && !this.job && !this.decoding;
    return html`<section
      aria-labelledby="tr-title"
      class=${this.dragging ? 'drag' : ''}
      @dragover=${(e: DragEvent) => {
        e.preventDefault();
        this.dragging = true;
      }}
      @dragleave=${() => (this.dragging = false)}
      @drop=${(e: DragEvent) => {
        e.preventDefault();
        this.dragging = false;
        if (canRun) void this.onFiles(e.dataTransfer?.files);
      }}
    >
      <h2 id="tr-title">Transcribe</h2>
      ${this.renderModel()}
      <div class="row" style="margin-top:1rem">
        <label class="file" aria-disabled=${!canRun}>
          Open audio file…
          <input
            type="file"
            accept=${AUDIO_ACCEPT}
            ?disabled=${!canRun}
            data-testid="file-input"
            @change=${(e: Event) => {
              const input = e.target as HTMLInputElement;
              void this.onFiles(input.files).finally(() => (input.value = ''));
            }}
          />
        </label>
        <span class="muted">or drop a file here (WAV, MP3, M4A, OGG, WebM, MP4)</span>
      </div>
      ${errorAlert(this.error)} ${this.renderJob()}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'transcriber-panel': TranscriberPanel;
  }
}
