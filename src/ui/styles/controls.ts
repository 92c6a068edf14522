import { css } from 'lit';

/** Text fields and selects as every form in the app draws them. */
export const fieldStyles = css`
  select,
  input[type='text'],
  input[type='url'],
  input[type='number'],
  textarea {
    font: inherit;
    color: inherit;
    background: var(--surface);
    border: 1px solid var(--border);
    border-radius: var(--radius-sm);
    padding: 0.45rem 0.6rem;
    width: 100%;
  }
`;

/** Thin progress bars (model download, storage use); `--bar-height` sets the thickness. */
export const progressStyles = css`
  progress {
    width: 100%;
    height: var(--bar-height, 8px);
    appearance: none;
    border: 0;
    border-radius: calc(var(--bar-height, 8px) / 2);
    background: var(--bg-sunken);
    overflow: hidden;
  }
  progress::-webkit-progress-bar {
    background: var(--bg-sunken);
  }
  progress::-webkit-progress-value {
    background: var(--accent);
  }
  progress::-moz-progress-bar {
    background: var(--accent);
  }
`;
