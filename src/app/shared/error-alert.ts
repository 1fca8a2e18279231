import { css, html, nothing } from 'lit';
import type { ErrorInfo } from '../../core/protocol.ts';
import { messageFor } from './messages.ts';

/** The alert every panel shows for an error: the user's sentence, what to do, and the code with its detail. */
export function errorAlert(error: ErrorInfo | null) {
  if (!error) return nothing;
  const message = messageFor(error);
  return html`<div class="alert" role="alert" data-error-code=${error.code}>
    <strong>${message.title}</strong>
    ${message.action}
    <details>
      <summary>Details</summary>
      ${error.code}: ${error.detail}
    </details>
  </div>`;
}

/** Styles for `errorAlert` (add to the component's `styles`). */
export const errorAlertStyles = css`
  .alert {
    margin-top: 0.75rem;
    padding: 0.75rem 1rem;
    border-radius: 0.5rem;
    background: var(--alert-bg);
    color: var(--alert-fg);
  }
  .alert strong {
    display: block;
  }
  .alert details {
    margin-top: 0.25rem;
    font-size: 0.8rem;
    /* A detail often names a URL or a file: one long word that must wrap on a phone. */
    overflow-wrap: anywhere;
  }
`;
