import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { DismissEvent, SettingsToggleEvent } from './events';
import { describeError } from './errors';
import { base } from './styles/theme';
import { icons } from './styles/icons';

/**
 * An error where it happened: a short title, the message written for a person, what to do next.
 *
 * @fires dismiss - the close button was pressed
 * @fires settings-toggle - “Open Settings → Storage” was pressed (a full storage quota)
 * @slot - actions (e.g. a Retry button)
 */
@customElement('error-banner')
export class ErrorBanner extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      .banner {
        display: flex;
        gap: 0.6rem;
        align-items: flex-start;
        padding: 0.6rem 0.75rem;
        border-radius: var(--radius-sm);
        background: var(--danger-bg);
        border: 1px solid color-mix(in srgb, var(--danger) 40%, transparent);
        font-size: 0.9rem;
        line-height: 1.4;
      }
      :host([level='warning']) .banner {
        background: var(--warning-bg);
        border-color: var(--border);
      }
      .body {
        flex: 1;
        min-width: 0;
      }
      strong {
        display: block;
        color: var(--danger);
      }
      :host([level='warning']) strong {
        color: var(--text);
      }
      p {
        margin: 0.15rem 0 0;
      }
      .hint {
        color: var(--text-muted);
      }
      ::slotted(*),
      .storage {
        margin-top: 0.4rem;
      }
    `,
  ];

  /** The error to show (a GlimpseError, an Error, or anything thrown). */
  @property({ attribute: false }) error: unknown = null;
  @property({ reflect: true }) level: 'error' | 'warning' = 'error';
  @property({ type: Boolean }) dismissible = true;
  /** What to do next, when the place the error is shown knows better than the generic hint. */
  @property() hint: string | null = null;

  override render() {
    if (!this.error) return nothing;
    const view = describeError(this.error);
    const { title, message, name } = view;
    const hint = this.hint ?? view.hint;
    return html`<div class="banner" role="alert" data-error=${name}>
      <div class="body">
        <strong>${title}</strong>
        <p class="message">${message}</p>
        ${hint ? html`<p class="hint">${hint}</p>` : nothing}
        ${name === 'StorageQuotaError'
          ? html`<button class="btn storage" type="button" @click=${() => this.dispatchEvent(new SettingsToggleEvent(true, 'storage'))}>
              Open Settings → Storage
            </button>`
          : nothing}
        <slot></slot>
      </div>
      ${this.dismissible
        ? html`<button class="icon-btn" type="button" aria-label="Dismiss this message" @click=${() => this.dispatchEvent(new DismissEvent())}>
            ${icons.close}
          </button>`
        : nothing}
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'error-banner': ErrorBanner;
  }
}
