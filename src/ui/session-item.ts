import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { SessionSummary } from '../chat/repository';
import { SessionDeleteEvent, SessionRenameEvent, SessionSelectEvent } from './events';
import { fullDate, shortDate } from './format';
import { base } from './styles/theme';
import { icons } from './styles/icons';

/**
 * One chat in the sidebar: its title and date (a button that opens it), Rename (inline; Enter saves,
 * Escape cancels) and Delete.
 *
 * @fires session-select - the chat was opened
 * @fires session-rename - a new title was saved
 * @fires session-delete - Delete was pressed (the list offers Undo)
 */
@customElement('session-item')
export class SessionItem extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      .row {
        display: flex;
        align-items: center;
        gap: 0.1rem;
        border-radius: var(--radius-sm);
        padding-inline-end: 0.15rem;
      }
      .row:hover,
      .row:focus-within {
        background: var(--bg-sunken);
      }
      :host([selected]) .row {
        background: var(--bg-sunken);
        box-shadow: inset 3px 0 0 var(--accent);
      }
      .open {
        flex: 1;
        min-width: 0;
        text-align: start;
        border: 0;
        background: transparent;
        padding: 0.5rem 0.4rem 0.5rem 0.7rem;
        border-radius: var(--radius-sm);
        display: grid;
        gap: 0.1rem;
      }
      .title {
        font-size: 0.9rem;
        font-weight: 500;
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .sub {
        font-size: 0.75rem;
        color: var(--text-muted);
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .tools {
        display: flex;
        opacity: 0.85;
      }
      .tools .icon-btn {
        min-width: 32px;
        min-height: 32px;
      }
      form {
        flex: 1;
        padding: 0.3rem;
      }
      input {
        width: 100%;
        font: inherit;
        font-size: 0.9rem;
        color: inherit;
        background: var(--surface);
        border: 1px solid var(--accent);
        border-radius: 6px;
        padding: 0.35rem 0.5rem;
      }
      mark {
        background: color-mix(in srgb, var(--accent) 25%, transparent);
        color: inherit;
      }
    `,
  ];

  @property({ attribute: false }) session: SessionSummary | null = null;
  @property({ type: Boolean, reflect: true }) selected = false;
  /** Where a search matched inside the chat's messages. */
  @property() snippet = '';

  @state() private _renaming = false;
  /** Which of the three buttons is the Tab stop (0 open, 1 rename, 2 delete). */
  @state() private _tool = 0;
  @query('input') private _input?: HTMLInputElement;

  override updated(changed: PropertyValues) {
    if (changed.has('_renaming') && this._renaming) {
      this._input?.focus();
      this._input?.select();
    }
  }

  /** Starts renaming (also used by the F2 key in the list). */
  startRename() {
    this._renaming = true;
  }

  override render() {
    const s = this.session;
    if (!s) return nothing;
    if (this._renaming) {
      return html`<div class="row">
        <form @submit=${this.save}>
          <label class="sr-only" for="title">New title for “${s.title}”</label>
          <input id="title" dir="auto" .value=${s.title} maxlength="60" @keydown=${this.onKey} @blur=${this.save} />
        </form>
      </div>`;
    }
    const date = shortDate(s.updated_at);
    const stop = (i: number) => (this._tool === i ? 0 : -1);
    // One Tab stop per chat (a roving tabindex): ← → move between open, rename and delete.
    return html`<div class="row" @keydown=${this.onArrow} @focusout=${this.onFocusOut}>
      <button
        class="open"
        tabindex=${stop(0)}
        aria-keyshortcuts="ArrowRight F2"
        type="button"
        aria-current=${this.selected ? 'page' : 'false'}
        title=${`${s.title} — ${fullDate(s.updated_at)}`}
        @click=${() => this.dispatchEvent(new SessionSelectEvent(s.id))}
        @keydown=${(e: KeyboardEvent) => e.key === 'F2' && this.startRename()}
      >
        <span class="title" dir="auto">${s.title}</span>
        <span class="sub">${this.snippet ? this.snippet : html`${date}${s.has_image ? ' · photo' : ''}`}</span>
      </button>
      <span class="tools">
        <button class="icon-btn rename" tabindex=${stop(1)} type="button" aria-label=${`Rename “${s.title}”`} title="Rename" @click=${this.startRename}>
          ${icons.pencil}
        </button>
        <button
          class="icon-btn delete"
          tabindex=${stop(2)}
          type="button"
          aria-label=${`Delete “${s.title}”`}
          title="Delete"
          @click=${() => this.dispatchEvent(new SessionDeleteEvent(s.id))}
        >
          ${icons.trash}
        </button>
      </span>
    </div>`;
  }

  /** ← → (and Home / End) between the chat's three buttons. */
  private onArrow(e: KeyboardEvent) {
    const keys: Record<string, (i: number) => number> = {
      ArrowRight: (i) => (i + 1) % 3, ArrowLeft: (i) => (i + 2) % 3, Home: () => 0, End: () => 2,
    };
    const move = keys[e.key];
    if (!move || this._renaming) return;
    e.preventDefault();
    this._tool = move(this._tool);
    void this.updateComplete.then(() => this.renderRoot.querySelectorAll<HTMLButtonElement>('.row button')[this._tool]?.focus());
  }

  /** Leaving the chat: its Tab stop is the chat itself again. */
  private onFocusOut(e: FocusEvent) {
    if (!this.renderRoot.contains(e.relatedTarget as Node | null)) this._tool = 0;
  }

  private onKey(e: KeyboardEvent) {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      this._renaming = false;
      this._tool = 1;
      void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLButtonElement>('.rename')?.focus());
    }
  }

  private save(e: Event) {
    e.preventDefault();
    if (!this._renaming || !this.session) return;
    const title = this._input?.value.trim() ?? '';
    this._renaming = false;
    this._tool = 0;
    if (title && title !== this.session.title) this.dispatchEvent(new SessionRenameEvent(this.session.id, title));
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLButtonElement>('.open')?.focus());
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'session-item': SessionItem;
  }
}
