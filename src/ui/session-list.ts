import { consume } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { SessionNotFoundError, isError } from '../errors';
import { storeContext, type ChatStore } from './contexts';
import { SessionsController } from './controllers/sessions';
import { SessionSelectEvent, type SessionDeleteEvent, type SessionRenameEvent } from './events';
import { base } from './styles/theme';
import { icons } from './styles/icons';
import './error-banner';
import './session-item';

interface PendingDelete {
  id: string;
  title: string;
  timer: ReturnType<typeof setTimeout>;
  /** Whether it was the chat open: Undo opens it again only then (another chat stays open). */
  wasOpen: boolean;
}

/**
 * The sidebar: New chat, search across titles and message text, and the chats (newest first) with
 * rename and delete. A deleted chat disappears at once and is really deleted after a few seconds unless
 * Undo is pressed.
 *
 * @fires session-select - a chat was opened, or New chat was pressed (sessionId null)
 */
@customElement('session-list')
export class SessionList extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 0;
        gap: 0.6rem;
        padding: 0.75rem 0.6rem;
      }
      .new {
        width: 100%;
        justify-content: flex-start;
      }
      .search {
        position: relative;
      }
      .search svg {
        position: absolute;
        left: 0.6rem;
        top: 50%;
        transform: translateY(-50%);
        width: 16px;
        height: 16px;
        color: var(--text-muted);
        pointer-events: none;
      }
      input[type='search'] {
        width: 100%;
        font: inherit;
        font-size: 0.88rem;
        color: inherit;
        background: var(--surface);
        border: 1px solid var(--border);
        border-radius: var(--radius-sm);
        padding: 0.45rem 0.6rem 0.45rem 2rem;
      }
      h2 {
        font-size: 0.72rem;
        text-transform: uppercase;
        letter-spacing: 0.06em;
        color: var(--text-muted);
        margin: 0.3rem 0.4rem 0;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        overflow-y: auto;
        flex: 1;
        display: grid;
        align-content: start;
        gap: 2px;
      }
      .none {
        font-size: 0.85rem;
        color: var(--text-muted);
        padding: 0.4rem 0.5rem;
      }
      .toast {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        background: var(--text);
        color: var(--bg);
        border-radius: var(--radius-sm);
        padding: 0.45rem 0.45rem 0.45rem 0.75rem;
        font-size: 0.85rem;
      }
      .toast span {
        flex: 1;
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .toast button {
        background: transparent;
        color: var(--bg);
        border: 1px solid currentColor;
        border-radius: 6px;
        padding: 0.2rem 0.6rem;
        font-weight: 600;
      }
    `,
  ];

  @consume({ context: storeContext, subscribe: true }) @property({ attribute: false }) store?: ChatStore;

  /** The open chat (null = a new chat). */
  @property({ attribute: false }) selected: string | null = null;
  /** How long Undo is offered after Delete, ms. */
  @property({ type: Number, attribute: 'undo-ms' }) undoMs = 6000;

  @state() private _pending: PendingDelete | null = null;
  @state() private _error: unknown = null;

  readonly sessions = new SessionsController(this, () => this.store);
  readonly #commitOnHide = () => void this.commitDelete();

  override connectedCallback() {
    super.connectedCallback();
    window.addEventListener('pagehide', this.#commitOnHide);
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    window.removeEventListener('pagehide', this.#commitOnHide);
    void this.commitDelete();
  }

  /** Focus goes to New chat (when the drawer opens). */
  override focus() {
    this.renderRoot.querySelector<HTMLButtonElement>('.new')?.focus();
  }

  override render() {
    const c = this.sessions;
    const visible = c.visible;
    return html`
      <button class="btn primary new" type="button" @click=${() => this.dispatchEvent(new SessionSelectEvent(null))}>
        ${icons.plus} New chat
      </button>
      <div class="search" role="search">
        ${icons.search}
        <label class="sr-only" for="q">Search chats</label>
        <input id="q" type="search" placeholder="Search chats" .value=${c.query} @input=${this.onSearch} />
      </div>
      ${this._error ? html`<error-banner .error=${this._error} @dismiss=${() => (this._error = null)}></error-banner>` : nothing}
      ${this._pending
        ? html`<div class="toast" role="status">
            <span>Deleted “${this._pending.title}”</span>
            <button type="button" class="undo" @click=${this.undo}>Undo</button>
          </div>`
        : nothing}
      <h2 id="chats-heading">${c.query.trim() ? 'Results' : 'Chats'}</h2>
      ${c.loaded && visible.length === 0
        ? html`<p class="none">${c.query.trim() ? `No chat mentions “${c.query.trim()}”.` : 'No chats yet. Your chats are saved in this browser.'}</p>`
        : nothing}
      <ul aria-labelledby="chats-heading">
        ${repeat(
          visible,
          (m) => m.session.id,
          (m) => html`<li>
            <session-item
              .session=${m.session}
              .snippet=${m.snippet ?? ''}
              ?selected=${m.session.id === this.selected}
              @session-rename=${this.onRename}
              @session-delete=${this.onDelete}
            ></session-item>
          </li>`,
        )}
      </ul>
    `;
  }

  private async onSearch(e: Event) {
    await this.sessions.setQuery((e.target as HTMLInputElement).value);
  }

  private async onRename(e: SessionRenameEvent) {
    e.stopPropagation();
    try {
      await this.store?.rename(e.sessionId, e.title);
    } catch (err) {
      this._error = err;
    }
  }

  private async onDelete(e: SessionDeleteEvent) {
    e.stopPropagation();
    await this.commitDelete(); // one Undo at a time: the previous delete becomes final
    const session = this.sessions.sessions.find((s) => s.id === e.sessionId);
    this.sessions.hidden.add(e.sessionId);
    this._pending = {
      id: e.sessionId,
      title: session?.title ?? 'chat',
      timer: setTimeout(() => void this.commitDelete(), this.undoMs),
      wasOpen: this.selected === e.sessionId,
    };
    if (this.selected === e.sessionId) this.dispatchEvent(new SessionSelectEvent(null));
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLButtonElement>('.undo')?.focus();
  }

  private undo() {
    const p = this._pending;
    if (!p) return;
    clearTimeout(p.timer);
    this.sessions.hidden.delete(p.id);
    this._pending = null;
    // Back in its place; it is opened again only if it was the chat open when it was deleted.
    if (p.wasOpen) this.dispatchEvent(new SessionSelectEvent(p.id));
  }

  /** Deletes the chat waiting for Undo now. */
  async commitDelete(): Promise<void> {
    const p = this._pending;
    if (!p) return;
    clearTimeout(p.timer);
    this._pending = null;
    try {
      await this.store?.delete(p.id);
      // Unhide only once the list is read again without it, or the deleted chat flashes back for a moment.
      await this.sessions.refresh();
    } catch (err) {
      // Already deleted (in another tab): that is what was asked.
      if (!isError(err, SessionNotFoundError)) this._error = err;
    } finally {
      this.sessions.hidden.delete(p.id);
      this.requestUpdate();
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'session-list': SessionList;
  }
}
