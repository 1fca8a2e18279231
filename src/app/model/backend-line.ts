import { css, html, nothing } from 'lit';
import type { BackendInfo } from '../../core/protocol.ts';

/** Where the model runs and why: "Ready: <model> on WebGPU (…), q4 · why · if it fails: …". */
export function backendLine(info: BackendInfo) {
  const where = info.backend === 'server' ? 'the server' : info.backend === 'webgpu' ? 'WebGPU' : 'the CPU (WASM)';
  return html`<div
    class="backend-line"
    data-testid="engine"
    data-provider=${info.backend}
    data-variant=${info.variant ?? ''}
    data-storage=${info.storage}
    data-stage-ms=${JSON.stringify(info.stageMs)}
    data-decoder=${info.decoder?.build ?? ''}
    data-kv=${info.decoder?.kvCache ?? ''}
  >
    Ready: <strong>${info.modelId}</strong> on
    <strong>${where}</strong>${info.variant ? html`, ${info.variant}` : nothing}
    <span class="muted"
      >· ${info.label} · loaded in ${(info.loadMs / 1000).toFixed(1)} s ·
      ${
        info.storage === 'stored'
          ? 'stored on this device (works offline)'
          : info.storage === 'remote'
            ? 'audio is sent to this server'
            : 'not saved on this device'
      }</span
    >
    ${
      info.reasons.length || info.fallbacks.length
        ? html`<details class="why">
            <summary>Why this engine</summary>
            ${
              info.reasons.length
                ? html`<ul class="reasons" data-testid="engine-reasons">
                    ${info.reasons.map((r) => html`<li>${r}</li>`)}
                  </ul>`
                : nothing
            }
            ${info.fallbacks.length ? html`<div class="muted">If it fails: ${info.fallbacks.join(', then ')}.</div>` : nothing}
          </details>`
        : nothing
    }
    ${
      info.repaired.length
        ? html`<div class="note" role="status" data-testid="repaired">
            Repaired damaged stored data: ${info.repaired.join(', ')}
          </div>`
        : nothing
    }
  </div>`;
}

/** Said once after a failover outside a job (the GPU was lost while idle). */
export function switchNotice(change: { backend: BackendInfo; reason: string } | null) {
  if (!change) return nothing;
  return html`<div class="note switch" role="status" data-testid="engine-changed">
    Now running on <strong>${change.backend.label}</strong>: ${change.reason}.
  </div>`;
}

export const backendLineStyles = css`
  .backend-line {
    font-size: 0.85rem;
    margin-top: 0.5rem;
  }
  .backend-line details.why summary {
    cursor: pointer;
    color: var(--muted);
    font-size: 0.8rem;
  }
  .backend-line ul.reasons {
    margin: 0.25rem 0 0;
    padding-left: 1.25rem;
    font-size: 0.8rem;
    color: var(--muted);
    display: block;
  }
  .backend-line ul.reasons li {
    display: list-item;
    border: 0;
    padding: 0;
  }
  .note.switch {
    padding: 0.5rem 0.75rem;
    border-left: 4px solid var(--accent);
    background: var(--bg, white);
    border-radius: 0.25rem;
  }
  .consent {
    margin-top: 0.75rem;
    padding: 0.75rem 1rem;
    border: 2px solid var(--accent);
    border-radius: 0.75rem;
  }
  .consent p {
    margin: 0.35rem 0 0.5rem;
  }
  .badge {
    display: inline-block;
    margin-left: 0.4rem;
    padding: 0 0.35rem;
    border-radius: 0.3rem;
    border: 1px solid var(--border);
    font-size: 0.7rem;
  }
`;
