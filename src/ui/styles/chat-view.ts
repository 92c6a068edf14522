import { css } from 'lit';
import { base } from './theme';

/** The conversation: the scroller, the context marker, Jump to latest, the empty state. */
export const chatViewStyles = [
  base,
  css`
    :host {
      display: flex;
      flex-direction: column;
      min-height: 0;
      position: relative;
    }
    .jump {
      position: absolute;
      inset-block-start: -2.6rem;
      inset-inline-start: 50%;
      translate: -50% 0;
      z-index: 2;
      box-shadow: 0 2px 8px rgb(0 0 0 / 0.18);
    }
    .scroller {
      flex: 1;
      overflow-y: auto;
      overscroll-behavior: contain;
      /* No scroll anchoring: a picture shrinking above (it left the context) must not move the view off the bottom. */
      overflow-anchor: none;
    }
    ol {
      list-style: none;
      margin: 0 auto;
      padding: 1.2rem 1rem 1rem;
      max-width: 50rem;
      display: flex;
      flex-direction: column;
      gap: 1.3rem;
    }
    .marker {
      display: flex;
      align-items: center;
      gap: 0.7rem;
      font-size: 0.78rem;
      color: var(--text-muted);
    }
    .marker::before,
    .marker::after {
      content: '';
      flex: 1;
      border-top: 1px dashed var(--border);
    }
    .bottom {
      position: relative;
      padding: 0.4rem 1rem max(0.8rem, env(safe-area-inset-bottom));
      max-width: 50rem;
      width: 100%;
      margin: 0 auto;
      display: grid;
      gap: 0.4rem;
    }
    .privacy {
      text-align: center;
      font-size: 0.72rem;
      color: var(--text-muted);
      margin: -0.05rem 0 0;
    }
    :host([dragging]) .scroller {
      outline: 2px dashed var(--accent);
      outline-offset: -8px;
    }
    .notice,
    .engine-card {
      max-width: 50rem;
      margin: 0 auto;
      padding: 1rem 1rem 0;
    }
    .engine-card {
      padding-bottom: 1rem;
    }
    .engine-card[hidden] {
      display: none;
    }
    .loading {
      padding: 2rem;
      text-align: center;
    }
  `,
];
