import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { textOf, type StoredMessage } from '../chat/messages';
import { EditLastEvent, RegenerateEvent } from './events';
import { detailsLine, fullDate, shortDate } from './format';
import { loadMarkdown, markdownRenderer } from './markdown-loader';
import { base } from './styles/theme';
import { icons } from './styles/icons';
import './error-banner';

/**
 * One turn of the conversation. User text is shown as text; assistant text as sanitized markdown with a
 * copy button on each code block. The last turn offers Regenerate (assistant) or Edit (user).
 *
 * @fires regenerate - Regenerate was pressed on the last answer
 * @fires edit-last - an edit of the last question was saved (detail: `text`)
 */
@customElement('message-item')
export class MessageItem extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: block;
      }
      article {
        display: flex;
        flex-direction: column;
        gap: 0.35rem;
      }
      :host([role-name='user']) article {
        align-items: flex-end;
      }
      .bubble {
        max-width: min(100%, 46rem);
        line-height: 1.55;
        overflow-wrap: anywhere;
      }
      :host([role-name='user']) .bubble {
        background: var(--user-bubble);
        padding: 0.55rem 0.9rem;
        border-radius: var(--radius) var(--radius) 4px var(--radius);
        white-space: pre-wrap;
      }
      :host([role-name='assistant']) .bubble {
        width: 100%;
      }
      .photo {
        display: block;
        max-width: min(100%, 280px);
        max-height: 280px;
        border-radius: var(--radius);
        border: 1px solid var(--border);
        object-fit: contain;
        background: var(--bg-sunken);
      }
      .md.plain {
        white-space: pre-wrap;
      }
      .md > :first-child {
        margin-top: 0;
      }
      .md > :last-child {
        margin-bottom: 0;
      }
      .md a {
        color: var(--accent);
      }
      .md code {
        font-family: var(--mono);
        font-size: 0.88em;
        background: var(--code-bg);
        padding: 0.1em 0.3em;
        border-radius: 4px;
      }
      .md .code-block {
        border: 1px solid var(--border);
        border-radius: var(--radius-sm);
        overflow: hidden;
        margin: 0.6rem 0;
        background: var(--code-bg);
      }
      .md .code-bar {
        display: flex;
        justify-content: space-between;
        align-items: center;
        padding: 0.2rem 0.3rem 0.2rem 0.7rem;
        font-size: 0.78rem;
        color: var(--text-muted);
        border-bottom: 1px solid var(--border);
      }
      .md .copy-code {
        border: 1px solid var(--border);
        background: var(--surface);
        border-radius: 6px;
        padding: 0.15rem 0.55rem;
        min-height: 28px;
        font-size: 0.78rem;
      }
      .md pre {
        margin: 0;
        padding: 0.7rem;
        overflow-x: auto;
      }
      .md pre code {
        background: none;
        padding: 0;
      }
      .md table {
        border-collapse: collapse;
      }
      .md th,
      .md td {
        border: 1px solid var(--border);
        padding: 0.25rem 0.5rem;
      }
      .meta {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.25rem 0.6rem;
        font-size: 0.78rem;
        color: var(--text-muted);
      }
      .status {
        font-weight: 600;
      }
      .status.stopped,
      .status.interrupted {
        color: var(--text);
      }
      .actions {
        display: flex;
        gap: 0.25rem;
      }
      .actions .btn {
        min-height: 30px;
        padding: 0.15rem 0.6rem;
        font-size: 0.8rem;
      }
      .thinking {
        display: inline-flex;
        gap: 0.5rem;
        align-items: center;
        color: var(--text-muted);
      }
      .dots::after {
        content: '…';
        animation: pulse 1.2s infinite;
      }
      @keyframes pulse {
        50% {
          opacity: 0.3;
        }
      }
      .cursor::after {
        content: '▍';
        margin-left: 1px;
        animation: pulse 1s infinite;
        color: var(--accent);
      }
      @media (prefers-reduced-motion: reduce) {
        .dots::after,
        .cursor::after {
          animation: none;
        }
      }
      form.edit {
        width: min(100%, 46rem);
        display: grid;
        gap: 0.4rem;
      }
      form.edit textarea {
        font: inherit;
        color: inherit;
        background: var(--surface);
        border: 1px solid var(--border);
        border-radius: var(--radius-sm);
        padding: 0.5rem 0.7rem;
        min-height: 4rem;
        resize: vertical;
      }
      form.edit .row {
        display: flex;
        gap: 0.4rem;
        justify-content: flex-end;
      }
      error-banner {
        width: 100%;
      }
    `,
  ];

  @property({ attribute: false }) message: StoredMessage | null = null;
  /** Object URL of the image this turn carried. */
  @property({ attribute: false }) imageUrl: string | null = null;
  /** Streamed text while this turn is being written (overrides the stored text). */
  @property({ attribute: false }) liveText: string | null = null;
  /** Live speed while streaming. */
  @property({ attribute: false }) liveTokensPerSecond: number | null = null;
  /** What is happening before the first token (e.g. "Downloading the model… 42%"). */
  @property() pending = '';
  /** Whether Regenerate / Edit are offered (last turn, nothing generating). */
  @property({ type: Boolean, attribute: 'can-regenerate' }) canRegenerate = false;
  @property({ type: Boolean, attribute: 'can-edit' }) canEdit = false;
  /** Reflected for styling. */
  @property({ reflect: true, attribute: 'role-name' }) roleName = '';

  @state() private _editing = false;
  @state() private _copied: string | null = null;
  @query('textarea') private _editor?: HTMLTextAreaElement;

  #renderedText: string | null = null;
  #nodes: Node[] | null = null;

  override willUpdate(changed: PropertyValues<this>) {
    if (changed.has('message')) this.roleName = this.message?.role ?? '';
  }

  override updated(changed: PropertyValues) {
    if (changed.has('_editing') && this._editing) {
      this._editor?.focus();
      this._editor?.select();
    }
  }

  override render() {
    const m = this.message;
    if (!m) return nothing;
    const who = m.role === 'user' ? 'You' : 'Glimpse';
    return html`<article aria-label=${`${who}, ${fullDate(m.timestamp)}`}>
      ${this.imageUrl ? html`<img class="photo" src=${this.imageUrl} alt="Image you sent" />` : nothing}
      ${m.role === 'user' ? this.renderUser(m) : this.renderAssistant(m)}
    </article>`;
  }

  private renderUser(m: StoredMessage) {
    const text = textOf(m);
    if (this._editing) {
      return html`<form class="edit" @submit=${this.saveEdit}>
        <label class="sr-only" for="edit">Edit your last message</label>
        <textarea id="edit" .value=${text} @keydown=${this.onEditKey}></textarea>
        <div class="row">
          <button class="btn" type="button" @click=${this.cancelEdit}>Cancel</button>
          <button class="btn primary" type="submit">Save and ask again</button>
        </div>
      </form>`;
    }
    return html`${text ? html`<div class="bubble user-text">${text}</div>` : nothing}
      <div class="meta">
        <time datetime=${m.timestamp} title=${fullDate(m.timestamp)}>${shortDate(m.timestamp)}</time>
        ${this.canEdit
          ? html`<span class="actions"
              ><button class="btn edit" type="button" @click=${() => (this._editing = true)}>
                ${icons.pencil} Edit
              </button></span
            >`
          : nothing}
      </div>`;
  }

  private renderAssistant(m: StoredMessage) {
    const streaming = m.status === 'streaming';
    const text = this.liveText ?? textOf(m);
    const status = m.status ?? 'complete';
    const details = detailsLine(m.details);
    return html`<div class="bubble" aria-busy=${streaming ? 'true' : 'false'}>
        ${text
          ? html`<div class="md ${streaming ? 'cursor' : ''} ${markdownRenderer() ? '' : 'plain'}" @click=${this.onMarkdownClick}>${this.markdown(text)}</div>`
          : streaming
            ? html`<span class="thinking"><span class="dots">${this.pending || 'Thinking'}</span></span>`
            : status === 'complete'
              ? html`<span class="muted">(empty answer)</span>`
              : nothing}
      </div>
      ${status === 'error' && m.error
        ? html`<error-banner .error=${m.error} .dismissible=${false}>
            ${this.canRegenerate ? html`<button class="btn" type="button" @click=${this.regenerate}>${icons.refresh} Try again</button>` : nothing}
          </error-banner>`
        : nothing}
      <div class="meta">
        ${status === 'stopped'
          ? html`<span class="status stopped">Stopped — partial answer</span>`
          : status === 'interrupted'
            ? html`<span class="status interrupted">Interrupted (the page was closed while answering)</span>`
            : nothing}
        ${streaming && this.liveTokensPerSecond !== null
          ? html`<span class="live-speed">${this.liveTokensPerSecond.toFixed(1)} tokens/s</span>`
          : nothing}
        ${!streaming && details.length ? html`<span class="details">${details.join(' · ')}</span>` : nothing}
        ${this.canRegenerate && status !== 'error'
          ? html`<span class="actions"
              ><button class="btn regenerate" type="button" @click=${this.regenerate}>${icons.refresh} Regenerate</button></span
            >`
          : nothing}
        ${this._copied ? html`<span role="status">${this._copied}</span>` : nothing}
      </div>`;
  }

  /** Renders markdown once per text (streaming re-renders only when new tokens arrive). */
  private markdown(text: string): Node[] | string {
    const render = markdownRenderer();
    if (!render) {
      // First answer on screen: show the text as-is for the moment the renderer takes to load.
      void loadMarkdown().then(() => this.requestUpdate());
      return text;
    }
    if (text !== this.#renderedText || !this.#nodes) {
      this.#renderedText = text;
      // Keep the nodes (not the fragment, which empties when inserted) so a re-render can put them back.
      this.#nodes = [...render(text).childNodes];
    }
    // Same text: the same nodes, so Lit leaves the DOM alone.
    return this.#nodes;
  }

  private async onMarkdownClick(e: Event) {
    const button = (e.target as Element | null)?.closest?.('button.copy-code');
    if (!button) return;
    const code = button.closest('.code-block')?.querySelector('pre')?.textContent ?? '';
    try {
      await navigator.clipboard.writeText(code);
      button.textContent = 'Copied';
      this._copied = 'Code copied to the clipboard.';
    } catch {
      button.textContent = 'Copy failed';
      this._copied = 'Copying failed: the browser did not allow clipboard access. Select the code and copy it by hand.';
    }
    setTimeout(() => {
      button.textContent = 'Copy';
      this._copied = null;
    }, 2000);
  }

  private regenerate() {
    this.dispatchEvent(new RegenerateEvent());
  }

  private onEditKey(e: KeyboardEvent) {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      this.cancelEdit();
    } else if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.saveEdit(e);
    }
  }

  private saveEdit(e: Event) {
    e.preventDefault();
    const text = this._editor?.value ?? '';
    this._editing = false;
    if (this.message && text !== textOf(this.message)) this.dispatchEvent(new EditLastEvent(text));
  }

  private cancelEdit() {
    this._editing = false;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'message-item': MessageItem;
  }
}
