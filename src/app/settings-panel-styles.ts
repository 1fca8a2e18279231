import { css } from 'lit';

/** The look of a collapsible settings panel (`<details>` with a `<summary>` title): storage, where to transcribe. */
export const settingsPanelStyles = css`
  :host {
    display: block;
    margin-top: 1.5rem;
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
  button:focus-visible {
    outline: 3px solid var(--focus);
    outline-offset: 2px;
  }
`;
