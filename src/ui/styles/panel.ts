import { css } from 'lit';
import { fieldStyles, progressStyles } from './controls';

/** Shared look of the Settings → Storage & models parts (sections, help text, fields, bars, status lines). */
export const panelStyles = [
  fieldStyles,
  progressStyles,
  css`
  section {
    display: grid;
    gap: 0.5rem;
    border: 1px solid var(--border);
    border-radius: var(--radius-sm);
    padding: 0.7rem 0.8rem 0.8rem;
  }
  h3 {
    margin: 0;
    font-size: 0.95rem;
  }
  h4 {
    margin: 0.3rem 0 0;
    font-size: 0.9rem;
  }
  p {
    margin: 0;
  }
  .help {
    font-size: 0.8rem;
    color: var(--text-muted);
  }
  /* Live regions stay in the page (so changes are announced) but take no room while empty. */
  [role='status']:empty {
    margin-top: -0.5rem;
  }
  label {
    font-weight: 500;
    font-size: 0.92rem;
  }
  code {
    font-family: var(--mono);
    font-size: 0.85em;
    background: var(--code-bg);
    padding: 0.05em 0.3em;
    border-radius: 4px;
    overflow-wrap: anywhere;
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.5rem;
  }
  .ok {
    font-size: 0.88rem;
    color: var(--success);
  }
  input[type='file'] {
    display: none;
  }
  /* Figures side by side (used / available, now / at rest), wrapping on a phone. */
  .numbers {
    display: flex;
    justify-content: space-between;
    gap: 0.5rem;
    flex-wrap: wrap;
    font-variant-numeric: tabular-nums;
  }
`,
];
