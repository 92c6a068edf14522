import { css } from 'lit';
import { base } from './theme';

/** The message box, its photo chip, meter and buttons. */
export const composerStyles = [
  base,
  css`
    :host {
      display: block;
    }
    .box {
      border: 1px solid var(--border);
      border-radius: var(--radius);
      background: var(--surface);
      box-shadow: var(--shadow);
      padding: 0.4rem;
      display: grid;
      gap: 0.35rem;
      transition: border-color 0.15s;
    }
    .box:focus-within {
      border-color: var(--accent);
    }
    :host([dragging]) .box {
      border-color: var(--accent);
      border-style: dashed;
      background: var(--bg-soft);
    }
    .chips {
      display: flex;
      flex-wrap: wrap;
      gap: 0.4rem;
      padding: 0.2rem 0.2rem 0;
    }
    textarea {
      font: inherit;
      color: inherit;
      background: transparent;
      border: 0;
      resize: none;
      padding: 0.45rem 0.5rem;
      min-height: 2.6rem;
      max-height: 12rem;
      field-sizing: content;
      line-height: 1.45;
      width: 100%;
    }
    textarea:focus {
      outline: none;
    }
    .row {
      display: flex;
      align-items: center;
      gap: 0.25rem;
    }
    .spacer {
      flex: 1;
    }
    .hint {
      font-size: 0.75rem;
      color: var(--text-muted);
      padding: 0 0.4rem;
    }
    .camera {
      display: none;
    }
    @media (max-width: 520px) {
      .keys {
        display: none;
      }
    }
    @media (pointer: coarse) {
      .camera {
        display: inline-flex;
      }
      .keys {
        display: none;
      }
    }
    input[type='file'] {
      display: none;
    }
    error-banner {
      margin-bottom: 0.5rem;
    }
    .send {
      min-width: 44px;
    }
  `,
];
