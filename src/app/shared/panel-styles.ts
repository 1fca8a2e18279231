import { css } from 'lit';

/**
 * The app's one button look, for every panel (the main screen's and Settings'): a pill with a border; `.primary`
 * filled with the accent; `.danger` for a delete (filled when `.primary` too: the confirmation); `.small` for a
 * button inside a table row; `.file` is a file input's label dressed as a button.  A component sets
 * `--button-padding` on its host for a tighter pill.
 */
export const buttonStyles = css`
  button,
  .file {
    font: inherit;
    font-weight: 600;
    padding: var(--button-padding, 0.5rem 1rem);
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
  button.danger {
    border-color: #d64541;
    color: #d64541;
  }
  button.danger.primary {
    background: #d64541;
    color: white;
  }
  button.small {
    font-weight: normal;
    padding: 0.25rem 0.75rem;
    border-radius: 1rem;
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
`;

/** What the main screen's panels share: the card, rows of controls, buttons, muted text, progress bars. */
export const panelStyles = css`
  ${buttonStyles}
  :host {
    display: block;
  }
  section {
    margin-top: 1rem;
    padding: 1rem;
    border: 1px solid var(--border);
    border-radius: 0.75rem;
    background: var(--panel);
  }
  h2 {
    font-size: 1.1rem;
    margin: 0 0 0.5rem;
  }
  .row {
    display: flex;
    gap: 0.75rem;
    align-items: center;
    flex-wrap: wrap;
  }
  summary:focus-visible {
    outline: 3px solid var(--focus);
    outline-offset: 2px;
  }
  summary {
    cursor: pointer;
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
    grid-template-columns: minmax(8rem, 1fr) 6rem minmax(8rem, 12rem);
    gap: 0.5rem;
    align-items: center;
    padding: 0.1rem 0;
  }
  ul.files progress {
    margin: 0;
  }
`;
