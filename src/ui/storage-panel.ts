import { Task } from '@lit/task';
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { consume } from '@lit/context';
import { customElement, property, query, state } from 'lit/decorators.js';
import { storageSpaceContext } from './contexts';
import type { SettingsFocus } from './events';
import { percent, size } from './format';
import type { ModelManager } from './model-manager';
import { browserStorageSpace, type StorageSpace } from './services/model-files';
import { base } from './styles/theme';
import { panelStyles } from './styles/panel';
import './engine-memory';
import './error-banner';
import './model-manager';
import './transfer-panel';

/**
 * Settings → Storage & models: how much this site stores and may store, whether the browser keeps it under
 * storage pressure (and a button to ask it to), the memory the model's worker holds (<engine-memory>), then the cached models (<model-manager>) and the chats'
 * export and import (<transfer-panel>). Loaded on demand when the tab first opens.
 *
 * The figures refresh whenever a child reports a `storage-change` (a model deleted or added, chats imported).
 */
@customElement('storage-panel')
export class StoragePanel extends LitElement {
  static override styles = [
    base,
    panelStyles,
    css`
      :host {
        display: grid;
        gap: 1rem;
      }
      .usage {
        display: grid;
        gap: 0.35rem;
      }
      .persist {
        display: flex;
        align-items: center;
        gap: 0.5rem 0.8rem;
        flex-wrap: wrap;
      }
      .badge {
        display: inline-flex;
        align-items: center;
        gap: 0.35rem;
        font-size: 0.85rem;
        font-weight: 600;
      }
      .badge::before {
        content: '';
        width: 8px;
        height: 8px;
        border-radius: 50%;
        background: var(--text-muted);
      }
      .badge.on::before {
        background: var(--success);
      }
    `,
  ];

  /** The open chat, which the export part offers to export on its own; null = none. */
  @property({ attribute: false }) sessionId: string | null = null;
  /** A part to bring into view when shown (loading a model from a folder, the model host). */
  @property({ attribute: false }) focusOn: SettingsFocus | null = null;

  @consume({ context: storageSpaceContext, subscribe: true }) @property({ attribute: false }) storage: StorageSpace = browserStorageSpace;

  @query('model-manager') private _models?: ModelManager;

  /** The outcome of the last “Keep my data” press, in words. */
  @state() private _persistOutcome = '';
  @state() private _asking = false;

  private readonly _info = new Task(this, {
    task: () => this.storage.info(),
    args: () => [],
  });

  constructor() {
    super();
    this.addEventListener('storage-change', () => void this._info.run());
  }

  override updated(changed: PropertyValues<this>) {
    if (changed.has('focusOn') && this.focusOn) void this._models?.reveal(this.focusOn);
  }

  /** Reads the storage figures again. */
  refresh(): Promise<void> {
    return this._info.run();
  }

  override render() {
    return html`
      <section aria-labelledby="space-title">
        <h3 id="space-title">Space on this device</h3>
        ${this._info.render({
          pending: () => (this._info.value ? this.renderInfo() : html`<p class="help" role="status">Measuring…</p>`),
          complete: () => this.renderInfo(),
          error: (err) => html`<error-banner .error=${err} .dismissible=${false}></error-banner>`,
        })}
      </section>
      <engine-memory></engine-memory>
      <model-manager></model-manager>
      <transfer-panel .sessionId=${this.sessionId}></transfer-panel>
    `;
  }

  private renderInfo() {
    const info = this._info.value;
    if (!info) return nothing;
    const known = info.quota > 0;
    return html`<div class="usage">
        <div class="numbers">
          <span class="used"><strong>${size(info.usage)}</strong> used</span>
          <span class="quota muted">${known ? `${size(Math.max(0, info.quota - info.usage))} available of ${size(info.quota)}` : 'The browser does not say how much is available'}</span>
        </div>
        ${known
          ? html`<progress max="100" .value=${Math.max(percent(info.usage, info.quota), info.usage > 0 ? 1 : 0)} aria-label=${`Storage used: ${percent(info.usage, info.quota)}%`}></progress>`
          : nothing}
        <p class="help">Chats, photos and model files count. Delete a model below to free the most space.</p>
      </div>
      <div class="persist">
        <span class="badge persisted ${info.persisted ? 'on' : ''}">${info.persisted ? 'Persistent storage' : 'Not persistent'}</span>
        ${info.persisted
          ? html`<span class="help">The browser will not clear Glimpse’s data when space runs low.</span>`
          : html`<button class="btn keep" type="button" ?disabled=${this._asking} @click=${this.keep}>Keep my data (persistent storage)</button>`}
      </div>
      ${info.persisted ? nothing : html`<p class="help">Without it, the browser may clear chats and models when the device runs out of space.</p>`}
      <p class="help outcome" role="status">${this._persistOutcome}</p>`;
  }

  private async keep() {
    this._asking = true;
    try {
      const granted = await this.storage.persist();
      this._persistOutcome = granted
        ? 'Done: the browser will keep Glimpse’s data.'
        : 'The browser said no. Browsers decide from how you use a site; installing Glimpse or bookmarking it usually helps. Your data is still saved.';
    } catch (err) {
      this._persistOutcome = `The browser could not be asked: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      this._asking = false;
      await this._info.run();
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'storage-panel': StoragePanel;
  }
}
