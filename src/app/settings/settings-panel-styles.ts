import { css } from 'lit';
import { buttonStyles } from '../shared/panel-styles.ts';

/**
 * The look of a collapsible settings panel (`<details>` with a `<summary>` title): model, where to transcribe,
 * storage; with its form fields, the app's buttons and `button.action` (a form's action, set below its fields).
 */
export const settingsPanelStyles = css`
  ${buttonStyles}
  :host {
    display: block;
    margin-top: 1.5rem;
    --button-padding: 0.4rem 1rem;
  }
  details {
    padding: 0.75rem 1rem;
    border: 1px solid var(--border);
    border-radius: 0.75rem;
    background: var(--panel);
  }
  summary {
    font-weight: 600;
    cursor: pointer;
  }
  summary:focus-visible,
  input:focus-visible,
  select:focus-visible {
    outline: 3px solid var(--focus);
    outline-offset: 2px;
  }
  /* A settings form: text fields and menus, and its action buttons. */
  input[type='url'],
  input[type='password'],
  select {
    font: inherit;
    width: 100%;
    max-width: 32rem;
    box-sizing: border-box;
    padding: 0.35rem 0.5rem;
    border-radius: 0.4rem;
    border: 1px solid var(--border);
    background: var(--bg, white);
    color: var(--fg);
  }
  button.action {
    margin-top: 0.75rem;
  }
  /* Quiet text, a field's hint, and a typed value the panel refused (said beside the field). */
  .muted,
  .hint {
    color: var(--muted);
    font-size: 0.85rem;
  }
  .invalid {
    color: var(--alert-fg);
    background: var(--alert-bg);
    padding: 0.4rem 0.6rem;
    border-radius: 0.4rem;
  }
`;
