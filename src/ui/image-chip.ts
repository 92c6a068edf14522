import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { ImageRemoveEvent } from './events';
import { base } from './styles/theme';
import { icons } from './styles/icons';

/**
 * A thumbnail of an image with what it costs the model, and a remove button.
 *
 * @fires image-remove - the remove button was pressed
 */
@customElement('image-chip')
export class ImageChip extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: inline-flex;
        max-width: 100%;
      }
      .chip {
        display: flex;
        align-items: center;
        gap: 0.6rem;
        padding: 0.3rem 0.3rem 0.3rem 0.3rem;
        border: 1px solid var(--border);
        border-radius: var(--radius);
        background: var(--surface);
        min-width: 0;
      }
      img {
        width: 44px;
        height: 44px;
        object-fit: cover;
        border-radius: var(--radius-sm);
        flex: none;
        background: var(--bg-sunken);
      }
      .text {
        display: grid;
        min-width: 0;
        font-size: 0.82rem;
        line-height: 1.3;
      }
      .label {
        font-weight: 600;
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .cost {
        color: var(--text-muted);
      }
    `,
  ];

  /** Object URL of the image. */
  @property() src = '';
  /** e.g. "photo.jpg" or "Image in context". */
  @property() label = '';
  /** Image tokens the model spends on it (omitted when unknown). */
  @property({ type: Number }) tokens: number | null = null;
  /** Extra words after the cost, e.g. "1024×768". */
  @property() note = '';
  /** Accessible name of the remove button. */
  @property({ attribute: 'remove-label' }) removeLabel = 'Remove image';

  override render() {
    return html`<div class="chip">
      <img src=${this.src} alt="" />
      <div class="text">
        <span class="label">${this.label}</span>
        <span class="cost"
          >${this.tokens !== null ? html`<span class="tokens">${this.tokens} image tokens</span>` : nothing}${this.note
            ? html` · ${this.note}`
            : nothing}</span
        >
      </div>
      <button class="icon-btn remove" type="button" aria-label=${this.removeLabel} title=${this.removeLabel} @click=${this.onRemove}>
        ${icons.close}
      </button>
    </div>`;
  }

  private onRemove() {
    this.dispatchEvent(new ImageRemoveEvent());
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'image-chip': ImageChip;
  }
}
