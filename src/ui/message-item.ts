import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { isCutOff, textOf, type StoredMessage } from '../chat/messages';
import { versionCount, versionIndex } from '../chat/versions';
import { AskAgainEvent, ContinueAnswerEvent, EditMessageEvent, RegenerateEvent, VersionSelectEvent } from './events';
import { detailsLine, fullDate, shortDate } from './format';
import { elapsedText } from './stage';
import { loadMarkdown, markdownRenderer } from './markdown-loader';
import { markdownStyles } from './styles/markdown';
import { messageStyles } from './styles/message';
import { base } from './styles/theme';
import { icons } from './styles/icons';
import './error-banner';

/**
 * One turn of the conversation. User text is shown as text (Edit on each of your messages); assistant text
 * as sanitized markdown with a copy button on each code block and Copy for the whole reply; the last
 * answer offers Regenerate. A picture the model no longer sees (a newer one replaced it, or it was taken
 * out) is shown small and marked “Not in context”, with “Ask about this again”.
 *
 * @fires regenerate - Regenerate (or Try again) was pressed on the last answer
 * @fires continue-answer - Continue was pressed on the last answer (cut at the token limit, or stopped)
 * @fires edit-message - an edit of one of your messages was saved (detail: `messageId`, `text`)
 * @fires ask-again - “Ask about this again” on a picture not in context (detail: `imageHash`)
 * @fires version-select - ‹ or › on a turn with several versions (detail: `messageId`, `index`)
 */
@customElement('message-item')
export class MessageItem extends LitElement {
  static override styles = [base, markdownStyles, messageStyles];

  @property({ attribute: false }) message: StoredMessage | null = null;
  /** Object URL of the image this turn carried. */
  @property({ attribute: false }) imageUrl: string | null = null;
  /** Whether this turn's picture is the one in the model's context. */
  @property({ type: Boolean, attribute: false }) imageInContext = true;
  /** Streamed text while this turn is being written (overrides the stored text). */
  @property({ attribute: false }) liveText: string | null = null;
  /** Live speed while streaming. */
  @property({ attribute: false }) liveTokensPerSecond: number | null = null;
  /** What is happening before the first token (e.g. "Downloading the model · 42%"). */
  @property() pending = '';
  /** How long the answer has waited for its first token, ms (shown from one second on). */
  @property({ attribute: false }) waitedMs: number | null = null;
  /** Whether Regenerate / Edit / Ask about this again are offered (nothing generating). */
  @property({ type: Boolean, attribute: 'can-regenerate' }) canRegenerate = false;
  /** Whether Continue is offered: the last answer, cut off (or stopped), on a backend that can go on from it. */
  @property({ type: Boolean, attribute: 'can-continue' }) canContinue = false;
  @property({ type: Boolean, attribute: 'can-edit' }) canEdit = false;
  @property({ type: Boolean, attribute: 'can-ask-again' }) canAskAgain = false;
  /** Whether ‹ › may switch versions now (nothing generating). */
  @property({ type: Boolean, attribute: 'can-switch' }) canSwitch = false;
  /** Reflected for styling. */
  @property({ reflect: true, attribute: 'role-name' }) roleName = '';

  @state() private _editing = false;
  @state() private _copied: string | null = null;
  @state() private _retrying = false;
  @query('textarea') private _editor?: HTMLTextAreaElement;

  #renderedText: string | null = null;
  #nodes: Node[] | null = null;
  #copiedTimer: ReturnType<typeof setTimeout> | undefined;

  override willUpdate(changed: PropertyValues<this>) {
    if (changed.has('message')) {
      this.roleName = this.message?.role ?? '';
      this._retrying = false;
    }
  }

  override updated(changed: PropertyValues) {
    if (changed.has('_editing') && this._editing) {
      this._editor?.focus();
      this._editor?.select();
    }
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    clearTimeout(this.#copiedTimer);
  }

  override render() {
    const m = this.message;
    if (!m) return nothing;
    const who = m.role === 'user' ? 'You' : 'Glimpse';
    return html`<article aria-label=${`${who}, ${fullDate(m.timestamp)}`}>
      ${this.imageUrl ? this.renderPhoto(m) : nothing}
      ${m.role === 'user' ? this.renderUser(m) : this.renderAssistant(m)}
    </article>`;
  }

  private renderPhoto(m: StoredMessage) {
    if (this.imageInContext) return html`<img class="photo" src=${this.imageUrl!} alt="Image you sent" />`;
    return html`<figure class="out">
      <img class="photo" src=${this.imageUrl!} alt="Image you sent, no longer in the model’s context" />
      <figcaption>
        <span class="badge not-in-context">Not in context</span>
        ${this.canAskAgain && m.imageHash
          ? html`<button class="linkish ask-again" type="button" @click=${() => this.dispatchEvent(new AskAgainEvent(m.imageHash!))}>Ask about this again</button>`
          : nothing}
      </figcaption>
    </figure>`;
  }

  private renderUser(m: StoredMessage) {
    const text = textOf(m);
    if (this._editing) {
      return html`<form class="edit" @submit=${this.saveEdit}>
        <label class="sr-only" for="edit">Edit your message</label>
        <textarea id="edit" dir="auto" .value=${text} @keydown=${this.onEditKey}></textarea>
        <p class="help muted">The conversation goes on from here; what followed is kept as the earlier version.</p>
        <div class="row">
          <button class="btn" type="button" @click=${this.cancelEdit}>Cancel</button>
          <button class="btn primary" type="submit">Save and ask again</button>
        </div>
      </form>`;
    }
    return html`${text ? html`<div class="bubble user-text" dir="auto">${text}</div>` : nothing}
      <div class="meta">
        <time datetime=${m.timestamp} title=${fullDate(m.timestamp)}>${shortDate(m.timestamp)}</time>
        ${this.renderVersions(m)}
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
          ? html`<div dir="auto" class="md ${streaming ? 'cursor' : ''} ${markdownRenderer() ? '' : 'plain'}" @click=${this.onMarkdownClick}>${this.markdown(text)}</div>`
          : streaming
            ? html`<span class="thinking"
                ><span class="pulse" aria-hidden="true"></span
                ><span class="stage"
                  >${this.pending || 'Thinking'}${this.waitedMs !== null && this.waitedMs >= 1000
                    ? html`<span class="elapsed"> · ${elapsedText(this.waitedMs)}</span>`
                    : nothing}</span
                ></span
              >`
            : status === 'complete'
              ? html`<span class="muted">(empty answer)</span>`
              : nothing}
      </div>
      ${status === 'error' && m.error
        ? html`<error-banner .error=${m.error} .dismissible=${false}>
            ${this.canRegenerate
              ? html`<button class="btn retry" type="button" ?disabled=${this._retrying} @click=${this.retry}>
                  ${icons.refresh} ${this._retrying ? 'Retrying…' : 'Try again'}
                </button>`
              : nothing}
          </error-banner>`
        : nothing}
      <div class="meta">
        ${status === 'stopped'
          ? html`<span class="status stopped">${text ? 'Stopped — partial answer' : 'Stopped before the answer began'}</span>`
          : status === 'interrupted'
            ? html`<span class="status interrupted">Interrupted (the page was closed while answering)</span>`
            : isCutOff(m) ? this.renderCutOff(m) : nothing}
        ${streaming && this.liveTokensPerSecond !== null
          ? html`<span class="live-speed">${this.liveTokensPerSecond.toFixed(1)} tokens/s</span>`
          : nothing}
        ${this.renderVersions(m)}
        ${!streaming && details.length ? html`<span class="details">${details.join(' · ')}</span>` : nothing}
        ${!streaming && (text || (this.canRegenerate && status === 'stopped'))
          ? html`<span class="actions"
              >${text
                ? html`<button class="btn copy-reply" type="button" aria-label="Copy the whole answer" @click=${() => void this.copy(text, null)}>
                    ${icons.copy} Copy
                  </button>`
                : nothing}${this.canContinue
                ? html`<button class="btn continue" type="button" aria-label="Continue this answer where it stopped" @click=${() => this.dispatchEvent(new ContinueAnswerEvent())}>
                    ${icons.forward} Continue
                  </button>`
                : nothing}${this.canRegenerate && status !== 'error'
                ? html`<button class="btn regenerate" type="button" @click=${this.regenerate}>${icons.refresh} Regenerate</button>`
                : nothing}</span
            >`
          : nothing}
        ${this._copied ? html`<span role="status" class="copied">${this._copied}</span>` : nothing}
      </div>`;
  }

  /** "Cut off at 512 tokens": the token limit ended it; how to go on (Continue, or what else helps). */
  private renderCutOff(m: StoredMessage) {
    const how = this.canContinue
      ? 'Continue goes on from where it stopped.'
      : 'This model cannot go on from here: ask it to continue, or raise “Longest answer” in Settings.';
    return html`<span class="status cut-off" title=${how}>Cut off at ${(m.details?.tokens ?? 0).toLocaleString('en')} tokens</span>`;
  }

  /** ‹ 2/3 ›: the versions of this turn (answers again, or edits, each with what followed). */
  private renderVersions(m: StoredMessage) {
    const count = versionCount(m);
    if (count < 2) return nothing;
    const at = versionIndex(m);
    const what = m.role === 'user' ? 'message' : 'answer';
    const go = (index: number) => this.dispatchEvent(new VersionSelectEvent(m.id, index));
    return html`<span class="versions" role="group" aria-label=${`Versions of this ${what}`}>
      <button class="icon-btn prev" type="button" aria-label=${`Previous version of this ${what}`} ?disabled=${!this.canSwitch || at === 0} @click=${() => go(at - 1)}>‹</button>
      <span class="count">${at + 1}/${count}</span>
      <button class="icon-btn next" type="button" aria-label=${`Next version of this ${what}`} ?disabled=${!this.canSwitch || at === count - 1} @click=${() => go(at + 1)}>›</button>
    </span>`;
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
    await this.copy(button.closest('.code-block')?.querySelector('pre')?.textContent ?? '', button);
  }

  /** Copies an answer (its markdown source) or a code block, and says whether it worked. */
  private async copy(text: string, button: Element | null) {
    const what = button ? 'Code' : 'Answer';
    try {
      await navigator.clipboard.writeText(text);
      if (button) button.textContent = 'Copied';
      this._copied = `${what} copied to the clipboard.`;
    } catch {
      if (button) button.textContent = 'Copy failed';
      this._copied = `Copying failed: the browser did not allow clipboard access. Select the ${what.toLowerCase()} and copy it by hand.`;
    }
    clearTimeout(this.#copiedTimer);
    this.#copiedTimer = setTimeout(() => {
      if (button) button.textContent = 'Copy';
      this._copied = null;
    }, 2000);
  }

  private regenerate() {
    this.dispatchEvent(new RegenerateEvent());
  }

  private retry() {
    this._retrying = true;
    this.regenerate();
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
    if (this.message && text !== textOf(this.message)) this.dispatchEvent(new EditMessageEvent(this.message.id, text));
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
