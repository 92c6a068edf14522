import { css } from 'lit';

/**
 * The design tokens, as CSS custom properties on app-root. Colours use light-dark(), so the system theme
 * applies by itself and the switch only sets `color-scheme` (`theme="light|dark"` on app-root).
 * Custom properties inherit through shadow roots, so every element reads the same tokens.
 * Contrast: text/background pairs are ≥ 4.5:1 in both schemes (checked with axe in the e2e test).
 */
export const themeTokens = css`
  :host {
    color-scheme: light dark;
    --bg: light-dark(#ffffff, #15171c);
    --bg-soft: light-dark(#f4f5f7, #1d2027);
    --bg-sunken: light-dark(#eceef2, #101216);
    --surface: light-dark(#ffffff, #22262e);
    --border: light-dark(#d5d9e0, #353a45);
    --text: light-dark(#16181d, #e9ebef);
    --text-muted: light-dark(#545b68, #a9b0bc);
    --accent: light-dark(#2453c7, #8fb0ff);
    --accent-strong: light-dark(#1c44a8, #b5caff);
    --on-accent: light-dark(#ffffff, #0d1424);
    --user-bubble: light-dark(#e6edfc, #263453);
    --danger: light-dark(#b3261e, #ffb4ab);
    --danger-bg: light-dark(#fdecea, #3a1e1c);
    --warning-bg: light-dark(#fff5d6, #3a3218);
    --warning: light-dark(#b07800, #e3b341);
    --success: light-dark(#1b6e3a, #7fd69b);
    --focus: light-dark(#1a56db, #9ec1ff);
    --code-bg: light-dark(#f1f3f6, #0f1115);
    --radius: 12px;
    --radius-sm: 8px;
    --shadow: 0 1px 2px light-dark(rgb(0 0 0 / 0.08), rgb(0 0 0 / 0.4)), 0 4px 16px light-dark(rgb(0 0 0 / 0.06), rgb(0 0 0 / 0.35));
    --font: system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;
    --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace;
  }
  :host([theme='light']) {
    color-scheme: light;
  }
  :host([theme='dark']) {
    color-scheme: dark;
  }
`;

/** Shared bits every element uses: buttons, focus ring, the screen-reader-only class. */
export const base = css`
  :host {
    font-family: var(--font);
    color: var(--text);
    box-sizing: border-box;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  :focus-visible {
    outline: 2px solid var(--focus);
    outline-offset: 2px;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    padding: 0;
    margin: -1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
  button {
    font: inherit;
    color: inherit;
    cursor: pointer;
  }
  button:disabled {
    cursor: not-allowed;
    opacity: 0.6;
  }
  .btn {
    display: inline-flex;
    align-items: center;
    justify-content: center;
    gap: 0.4em;
    min-height: 36px;
    padding: 0.35em 0.9em;
    border-radius: var(--radius-sm);
    border: 1px solid var(--border);
    background: var(--surface);
    font-size: 0.9rem;
  }
  .btn svg {
    width: 16px;
    height: 16px;
    flex: none;
  }
  .btn:hover:not(:disabled) {
    background: var(--bg-soft);
  }
  .btn.primary {
    background: var(--accent);
    border-color: var(--accent);
    color: var(--on-accent);
    font-weight: 600;
  }
  .btn.primary:hover:not(:disabled) {
    background: var(--accent-strong);
  }
  .btn.danger {
    color: var(--danger);
  }
  .icon-btn {
    display: inline-flex;
    align-items: center;
    justify-content: center;
    min-width: 36px;
    min-height: 36px;
    padding: 0;
    border: 1px solid transparent;
    border-radius: var(--radius-sm);
    background: transparent;
    color: var(--text-muted);
  }
  .icon-btn:hover:not(:disabled) {
    background: var(--bg-soft);
    color: var(--text);
  }
  .icon-btn svg {
    width: 18px;
    height: 18px;
  }
  .muted {
    color: var(--text-muted);
  }
`;
