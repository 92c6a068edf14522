import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { DismissEvent, SettingsToggleEvent } from './events';
import { MODEL_SOURCE_ERRORS, describeError } from './errors';
import { base } from './styles/theme';
import { icons } from './styles/icons';

/**
 * An error where it happened: a short title, the message written for a person, what to do next.
 *
 * @fires dismiss - the close button was pressed
 * @fires settings-toggle - “Open Settings → Storage” (a full storage quota), or “Load a model from a folder” /
 *   “Use another model host” (the model's files could not be downloaded)
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
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0 0.4rem;
      }
      ::slotted(*),
      .storage,
      .actions > .btn {
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

  /** A folder that lacks files (it names them): the folder is the way already being tried. */
  private fromFolder(): boolean {
    return !!(this.error as { data?: { missing?: unknown } } | null)?.data?.missing;
  }

  private openStorage(focus: 'folder' | 'host') {
    this.dispatchEvent(new SettingsToggleEvent(true, 'storage', focus));
  }

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
        <div class="actions"><slot></slot>${MODEL_SOURCE_ERRORS.includes(name) && !this.fromFolder()
            ? html`<button class="btn folder" type="button" @click=${() => this.openStorage('folder')}>Load a model from a folder</button>
                <button class="btn host" type="button" @click=${() => this.openStorage('host')}>Use another model host</button>`
            : nothing}</div>
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
