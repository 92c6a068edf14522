import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { base } from './styles/theme';

/**
 * About how much of the model's window the next question fills (the conversation in context, the typed
 * text, the image), against what the model reads at most: "~1.2k / 8.2k" with a thin bar, red from 90%.
 */
@customElement('token-meter')
export class TokenMeter extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: inline-grid;
        gap: 2px;
        font-size: 0.72rem;
        color: var(--text-muted);
        font-variant-numeric: tabular-nums;
        text-align: end;
        padding: 0 0.3rem;
        white-space: nowrap;
      }
      .bar {
        display: block;
        height: 3px;
        border-radius: 2px;
        background: var(--bg-sunken);
        overflow: hidden;
      }
      .bar span {
        display: block;
        height: 100%;
        background: var(--accent);
      }
      :host([full]) {
        color: var(--danger);
      }
      :host([full]) .bar span {
        background: var(--danger);
      }
    `,
  ];

  /** Tokens the next prompt would hold. */
  @property({ type: Number }) used = 0;
  /** The most the model reads. */
  @property({ type: Number }) limit = 8192;
  /** How many of `used` are the image's. */
  @property({ type: Number, attribute: 'image-tokens' }) imageTokens = 0;
  @property({ type: Boolean, reflect: true }) full = false;

  override willUpdate() {
    this.full = this.used >= this.limit * 0.9;
  }

  override render() {
    const share = Math.min(100, Math.round((this.used / this.limit) * 100));
    const label =
      `About ${this.used.toLocaleString('en')} of the model’s ${this.limit.toLocaleString('en')} tokens in context` +
      (this.imageTokens ? `, ${this.imageTokens.toLocaleString('en')} of them for the image` : '');
    return html`<span class="sr-only">${label}</span>
      <span aria-hidden="true" title=${label}>~${compact(this.used)} / ${compact(this.limit)}</span>
      <span class="bar" aria-hidden="true"><span style=${`width: ${Math.max(2, share)}%`}></span></span>`;
  }
}

/** "850", "1.2k", "8.2k". */
function compact(n: number): string {
  return n < 1000 ? String(n) : `${(n / 1000).toFixed(1)}k`;
}

declare global {
  interface HTMLElementTagNameMap {
    'token-meter': TokenMeter;
  }
}
