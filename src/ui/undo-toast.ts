import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { DismissEvent, UndoEvent } from './events';
import { base } from './styles/theme';

/**
 * A short message with Undo that goes away by itself (e.g. “Image removed from the context”). Polite: it
 * is announced, and focus stays where it was.
 *
 * @fires undo - Undo was pressed
 * @fires dismiss - the time ran out (or the message changed)
 */
@customElement('undo-toast')
export class UndoToast extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      .toast {
        display: flex;
        align-items: center;
        gap: 0.6rem;
        background: var(--text);
        color: var(--bg);
        border-radius: var(--radius-sm);
        padding: 0.35rem 0.4rem 0.35rem 0.8rem;
        font-size: 0.85rem;
        box-shadow: var(--shadow);
      }
      span {
        flex: 1;
        min-width: 0;
      }
      button {
        background: transparent;
        color: var(--bg);
        border: 1px solid currentColor;
        border-radius: 6px;
        min-height: 30px;
        padding: 0.2rem 0.7rem;
        font-weight: 600;
      }
    `,
  ];

  /** What happened; empty hides the toast. */
  @property() message = '';
  /** How long Undo is offered, ms. */
  @property({ type: Number }) duration = 6000;

  #timer: ReturnType<typeof setTimeout> | undefined;

  override updated(changed: PropertyValues<this>) {
    if (!changed.has('message')) return;
    clearTimeout(this.#timer);
    if (this.message) this.#timer = setTimeout(() => this.dispatchEvent(new DismissEvent()), this.duration);
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    clearTimeout(this.#timer);
  }

  override render() {
    return html`<div role="status">
      ${this.message
        ? html`<div class="toast"><span>${this.message}</span><button type="button" class="undo" @click=${this.undo}>Undo</button></div>`
        : nothing}
    </div>`;
  }

  private undo() {
    clearTimeout(this.#timer);
    this.dispatchEvent(new UndoEvent());
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'undo-toast': UndoToast;
  }
}
