import { consume } from '@lit/context';
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { EngineController } from '../engine/api';
import type { SerializedError } from '../errors';
import { engineContext, settingsContext } from './contexts';
import { ListenController } from './controllers/listen';
import { statusFor } from './format';
import type { SettingsStore } from './services/settings';
import { base } from './styles/theme';
import './error-banner';

/**
 * The local engine's failure as one card with what to do: Try again (“Retrying…” while it runs, the card
 * staying in place), and, for a host that cannot be reached, a model folder or another host. Shown in the
 * conversation when no answer there already shows the same failure (e.g. Download now in the header).
 */
@customElement('engine-card')
export class EngineCard extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      :host([hidden]) {
        display: none;
      }
    `,
  ];

  @consume({ context: engineContext }) @property({ attribute: false }) engine?: EngineController;
  @consume({ context: settingsContext }) @property({ attribute: false }) settings?: SettingsStore;
  /** The name of the error the conversation's last answer already shows (that card is the one card). */
  @property({ attribute: false }) shownInAnswer: string | null = null;

  @state() private _retrying = false;
  /** The last failure, kept on the card while Try again runs. */
  #error: SerializedError | null = null;
  #shown = false;

  constructor() {
    super();
    new ListenController(this, () => this.engine, ['status']);
    new ListenController(this, () => this.settings, ['change']);
  }

  /** The failure on show, or null. */
  get error(): SerializedError | null {
    const s = this.engine && statusFor(this.engine.status, this.settings?.value.localModel);
    const error = s?.state === 'error' ? s.error : this._retrying ? this.#error : null;
    if (!error || this.settings?.value.backend === 'remote' || error.name === this.shownInAnswer) return null;
    return error;
  }

  override willUpdate(_changed: PropertyValues<this>) {
    this.hidden = !this.error;
  }

  override updated() {
    // A card that appears scrolls fully into view (the conversation scrolls; the composer stays below it).
    if (!this.hidden && !this.#shown) void this.scrollWhenDrawn();
    this.#shown = !this.hidden;
  }

  override render() {
    const error = this.error;
    if (!error) return nothing;
    this.#error = error;
    return html`<error-banner .error=${error} .dismissible=${false}>
      <button class="btn retry" type="button" ?disabled=${this._retrying} @click=${this.retry}>${this._retrying ? 'Retrying…' : 'Try again'}</button>
    </error-banner>`;
  }

  private async scrollWhenDrawn() {
    await this.shadowRoot?.querySelector<LitElement>('error-banner')?.updateComplete;
    this.scrollIntoView({ block: 'end' });
  }

  private async retry() {
    this._retrying = true;
    try {
      await this.engine?.load(this.settings?.value.localModel);
    } catch {
      // The card shows the new failure.
    } finally {
      this._retrying = false;
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'engine-card': EngineCard;
  }
}
