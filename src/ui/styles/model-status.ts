import { css } from 'lit';
import { progressStyles } from './controls';
import { base } from './theme';

/** The status line: one line when idle, the download bar, the details on demand (phone and desktop). */
export const modelStatusStyles = [
  base,
  progressStyles,
  css`
    :host {
      display: block;
      font-size: 0.85rem;
    }
    .line {
      display: flex;
      flex-wrap: wrap;
      align-items: center;
      gap: 0.1rem 0.5rem;
      min-height: 36px;
    }
    .dot {
      width: 9px;
      height: 9px;
      border-radius: 50%;
      background: var(--text-muted);
      flex: none;
    }
    .dot.ready {
      background: var(--success);
    }
    .dot.busy {
      background: var(--accent);
      animation: blink 1s infinite;
    }
    .dot.warning {
      background: var(--warning);
    }
    .dot.error {
      background: var(--danger);
    }
    @keyframes blink {
      50% {
        opacity: 0.35;
      }
    }
    @media (prefers-reduced-motion: reduce) {
      .dot.busy {
        animation: none;
      }
    }
    .state {
      font-weight: 600;
    }
    .state.error {
      color: var(--danger);
    }
    .device,
    .sub {
      color: var(--text-muted);
    }
    .device a {
      color: var(--accent);
    }
    .line .device {
      flex-basis: 100%;
      font-size: 0.8rem;
      line-height: 1.3;
    }
    .head {
      display: inline-flex;
      align-items: center;
      gap: 0.5rem;
      min-width: 0;
    }

    .size {
      white-space: nowrap;
    }
    .btn {
      min-height: 30px;
      padding: 0.15rem 0.7rem;
      font-size: 0.82rem;
    }
    .progress {
      display: grid;
      grid-template-columns: minmax(0, 1fr) auto;
      align-items: center;
      gap: 0.2rem 0.6rem;
      padding: 0.1rem 0 0.35rem;
      max-width: 40rem;
      font-variant-numeric: tabular-nums;
    }
    .progress progress {
      grid-column: 1 / -1;
      --bar-height: 6px;
    }
    .progress .figures {
      color: var(--text-muted);
      font-size: 0.8rem;
    }
    details {
      font-size: 0.78rem;
    }
    summary {
      cursor: pointer;
      color: var(--accent);
      min-height: 24px;
    }
    details ul {
      list-style: none;
      margin: 0.2rem 0 0;
      padding: 0;
      display: grid;
      gap: 0.15rem;
      grid-column: 1 / -1;
    }
    details ul {
      /* Only a part of a phone's screen; the rest scrolls. */
      max-height: min(30vh, 12rem);
      overflow-y: auto;
    }
    details li {
      display: flex;
      justify-content: space-between;
      gap: 0.6rem;
      color: var(--text-muted);
    }
    details li .name {
      /* File names break after a "/" or "_" (see fileName), never inside a word. */
      overflow-wrap: normal;
      min-width: 0;
    }
    .more,
    .narrow {
      display: none;
    }
    .more svg {
      width: 18px;
      height: 18px;
    }
    /* A phone: one line when idle (the state, the model, its action); where it runs and why on demand. */
    @media (max-width: 40rem) {
      .more {
        display: inline-flex;
        min-width: 32px;
        min-height: 32px;
        flex: none;
      }
      .wide {
        display: none;
      }
      .narrow {
        display: inline;
      }
      .btn.download {
        flex: none;
      }
      :host(:not([expanded])) .line .device,
      :host(:not([expanded])) .line .sub {
        display: none;
      }
      .line {
        flex-wrap: nowrap;
        white-space: nowrap;
        overflow: hidden;
      }
      :host([expanded]) .line {
        flex-wrap: wrap;
        white-space: normal;
      }
      /* The model's name gives way first, then the state word; the info button always stays. */
      .head {
        flex: 0 1 auto;
        min-width: 0;
      }
      .state {
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .model {
        flex: 0 10 auto;
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
      }
    }
    details li span:last-child {
      white-space: nowrap;
    }
    error-banner {
      margin: 0.2rem 0 0.4rem;
    }
  `,
];
