import { html, nothing } from 'lit';
import type { LoadProgress } from '../../core/asr/contract.ts';
import type { WorkerClient } from '../worker-client.ts';
import { formatBytes, formatDuration } from '../shared/format.ts';

/**
 * A model load's progress: the download (bytes, speed, ETA, storage needed, per-file detail, pause and cancel), the
 * read from this device's storage, then session creation and warm-up.
 */
export function loadProgress(p: LoadProgress | null, client: WorkerClient) {
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
                <button @click=${() => client.stopDownload('pause')} data-testid="pause-download">
                  Pause download
                </button>
                <button @click=${() => client.stopDownload('discard')} data-testid="cancel-download">
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
