import { consume } from '@lit/context';
import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { ChatApi } from '../chat/api';
import type { EngineController } from '../engine/api';
import { planImage } from '../engine/image';
import type { ChatComposer } from './chat-composer';
import { chatContext, engineContext, generationContext, settingsContext } from './contexts';
import { ConversationController } from './controllers/conversation';
import { DropZoneController } from './controllers/drop-zone';
import { FollowBottomController } from './controllers/follow-bottom';
import { ListenController } from './controllers/listen';
import { SendMessageEvent, SessionSelectEvent, type AskAgainEvent, type EditMessageEvent, type ImageRemoveEvent, type VersionSelectEvent } from './events';
import { loadMarkdown } from './markdown-loader';
import type { GenerationTracker } from './services/generation';
import type { SettingsStore } from './services/settings';
import { isDownloading, stageText } from './stage';
import { chatViewStyles } from './styles/chat-view';
import { contextLimit, estimateContextTokens } from './tokens';
import './chat-composer';
import './chat-empty';
import './engine-card';
import './error-banner';
import './message-item';
import './undo-toast';

/**
 * The open conversation: the turns, a marker where the model's context window starts, the composer with
 * the token meter, what an answer waits for (and for how long), the engine's failure as one card with what
 * to do, and a polite live region that announces each answer once it is complete (not every token).
 * Escape stops an answer; a card that appears scrolls fully into view above the composer.
 *
 * @fires session-select - a new chat was saved by its first message (detail: `sessionId`)
 */
@customElement('chat-view')
export class ChatView extends LitElement {
  static override styles = chatViewStyles;

  @consume({ context: chatContext }) @property({ attribute: false }) chat?: ChatApi;
  @consume({ context: generationContext }) @property({ attribute: false }) generation?: GenerationTracker;
  @consume({ context: settingsContext }) @property({ attribute: false }) settings?: SettingsStore;
  @consume({ context: engineContext }) @property({ attribute: false }) engine?: EngineController;

  /** The chat to show; null = a new chat (saved by its first message). */
  @property({ attribute: false }) sessionId: string | null = null;
  /** Whether the backend in use can see images. */
  @property({ type: Boolean, attribute: 'accepts-images' }) acceptsImages = true;
  @property({ type: Boolean, reflect: true }) dragging = false;

  @state() private _announcement = '';
  /** Something to tell about the open chat (e.g. it was deleted in another tab); null = nothing. */
  @state() private _notice: string | null = null;
  /** The picture just taken out of the context, while Undo is offered. */
  @state() private _removed: string | null = null;
  @query('chat-composer') private _composer?: ChatComposer;

  /** Ticks once a second while an answer waits for its first token (the seconds elapsed). */
  #tick: ReturnType<typeof setInterval> | undefined;
  readonly #follow = new FollowBottomController(this);
  readonly #drop = new DropZoneController(this, (file) => void this._composer?.attach(file));
  readonly #onKey = (e: KeyboardEvent) => this.onGlobalKey(e);

  readonly conversation = new ConversationController(this, {
    chat: () => this.chat,
    generation: () => this.generation,
    onCreated: (id) => {
      this.sessionId = id;
      this.dispatchEvent(new SessionSelectEvent(id));
    },
    onDeleted: (_id, remote) => {
      this.sessionId = null;
      if (remote) this._notice = 'This chat was deleted in another tab.';
      this.dispatchEvent(new SessionSelectEvent(null));
    },
    onFinished: (text) => {
      // Re-set even if equal, so a repeated answer is announced again.
      this._announcement = '';
      void this.updateComplete.then(() => (this._announcement = text));
    },
  });

  constructor() {
    super();
    new ListenController(this, () => this.generation, ['change']);
    new ListenController(this, () => this.settings, ['change'], () => void this.conversation.reload());
    new ListenController(this, () => this.engine, ['status']);
  }

  override connectedCallback() {
    super.connectedCallback();
    document.addEventListener('keydown', this.#onKey);
  }

  override disconnectedCallback() {
    super.disconnectedCallback();
    document.removeEventListener('keydown', this.#onKey);
    clearInterval(this.#tick);
  }

  override willUpdate(changed: PropertyValues<this>) {
    if (changed.has('sessionId') && this.sessionId !== this.conversation.sessionId) {
      this.#follow.stick();
      this._notice = null;
      this._removed = null;
      void this.conversation.open(this.sessionId);
    }
  }

  override firstUpdated() {
    // Content that grows after this element rendered (an answer's markdown, a card in a message) keeps the
    // view at the bottom, as long as the user had not scrolled up.
    this.#follow.observe(this.renderRoot.querySelector('.scroller')!, this.renderRoot.querySelector('.content')!);
  }

  override updated() {
    this.bringCardsIntoView();
    this.tickWhileWaiting();
  }

  /** Moves focus to the message box. */
  focusComposer() {
    this._composer?.focus();
  }

  override render() {
    const c = this.conversation;
    const live = this.generation?.live ?? null;
    const generatingHere = !!live && live.sessionId === (c.sessionId ?? '');
    const settings = this.settings?.value;
    const last = c.messages[c.messages.length - 1];
    // Our message is not saved yet and the chat's last answer is still streaming: another tab is answering
    // in this chat, and the chat service waits for it (one answer per chat at a time, across tabs).
    const waitingForOtherTab = generatingHere && live.messageId === null && last?.status === 'streaming';
    const blocked = live && !generatingHere ? 'Another chat is still answering; stop it or wait.' : '';
    const model = settings?.localModel ?? this.engine?.model ?? '';
    return html`
      <div
        class="scroller"
        tabindex="0"
        role="region"
        aria-label="Messages"
        @scroll=${this.#follow.onScroll}
        @dragover=${this.#drop.onDragOver}
        @dragleave=${this.#drop.onDragLeave}
        @drop=${this.#drop.onDrop}
      >
        <div class="content">
        ${this._notice
          ? html`<div class="notice"><error-banner level="warning" .error=${{ name: 'Notice', message: this._notice }} @dismiss=${() => (this._notice = null)}></error-banner></div>`
          : nothing}
        ${c.loadError
          ? html`<div class="loading"><error-banner .error=${c.loadError} .dismissible=${false}></error-banner></div>`
          : c.messages.length === 0
            ? c.loading
              ? html`<p class="loading muted" role="status">Opening the chat…</p>`
              : html`<chat-empty></chat-empty>`
            : this.renderMessages()}
        <engine-card class="engine-card" .shownInAnswer=${this.failureShown()}></engine-card>
        </div>
      </div>
      <div class="bottom">
        ${generatingHere && !this.#follow.following
          ? html`<button class="btn jump" type="button" @click=${this.jumpToLatest}>↓ Jump to latest</button>`
          : nothing}
        <undo-toast .message=${this._removed ? 'Image removed from the model’s context.' : ''} @undo=${this.undoRemove} @dismiss=${this.onToastGone}></undo-toast>
        <chat-composer
          .generating=${generatingHere}
          .blocked=${blocked}
          .status=${waitingForOtherTab ? 'Waiting for the other tab to finish its answer…' : ''}
          .detail=${settings?.imageDetail ?? 'auto'}
          .acceptsImages=${this.acceptsImages}
          .contextImage=${c.contextImage}
          .contextTokens=${settings?.backend === 'remote' ? null : c.contextMessages.length ? estimateContextTokens(c.contextMessages) : 0}
          .tokenLimit=${contextLimit(model)}
          .error=${c.inputError}
          @send-message=${this.onSend}
          @stop-generation=${() => c.stop()}
          @image-remove=${this.onRemoveContextImage}
          @dismiss=${(e: Event) => {
            e.stopPropagation();
            c.inputError = null;
            this.requestUpdate();
          }}
        ></chat-composer>
        <p class="privacy" ?hidden=${c.messages.length === 0 && !c.loading}>
          ${settings?.backend === 'remote'
            ? `Remote model: your messages ${this.acceptsImages ? 'and the photo in context' : '(text only)'} go to your Glimpse proxy. Chats are stored only in this browser.`
            : 'Runs on your device; nothing is uploaded. Chats are stored only in this browser.'}
        </p>
      </div>
      <div class="sr-only" aria-live="polite" aria-atomic="true" id="announcer">${this._announcement}</div>
    `;
  }

  private renderMessages() {
    const c = this.conversation;
    const live = this.generation?.live ?? null;
    const last = c.messages[c.messages.length - 1];
    const showMarker = c.windowStartSeq !== null && c.messages.length > 0 && c.messages[0]!.seq < c.windowStartSeq;
    return html`<ol aria-label="Conversation">
      ${repeat(
        c.messages,
        (m) => m.id,
        (m) => html`${showMarker && m.seq === c.windowStartSeq
            ? html`<li class="marker" id="context-marker">Context starts here — the model does not see earlier messages</li>`
            : nothing}
          <li>
            <message-item
              data-id=${m.id}
              .message=${m}
              .imageUrl=${c.imageUrl(m.imageHash)}
              .imageInContext=${!!m.imageHash && m.imageHash === c.contextImage?.hash}
              .liveText=${live && live.messageId === m.id && m.status === 'streaming' ? live.text : null}
              .liveTokensPerSecond=${live && live.messageId === m.id ? live.tokensPerSecond : null}
              .pending=${m.status === 'streaming' ? (live?.messageId === m.id ? this.pendingText() : 'Answering in another tab') : ''}
              .waitedMs=${live?.messageId === m.id && live.firstTokenAt === null && !isDownloading(this.engine?.status)
                ? performance.now() - live.startedAt
                : null /* while downloading, the header's time left is the one time shown */}
              ?can-regenerate=${!live && m === last && m.role === 'assistant'}
              ?can-continue=${!live && m === last && c.canContinue(m)}
              ?can-edit=${!live && c.canEdit(m)}
              ?can-ask-again=${!live && this.acceptsImages}
              ?can-switch=${!live}
              @regenerate=${() => void c.regenerate()}
              @continue-answer=${() => void c.continueAnswer()}
              @edit-message=${(e: EditMessageEvent) => void c.editMessage(e.messageId, e.text)}
              @version-select=${(e: VersionSelectEvent) => void c.selectVersion(e.messageId, e.index)}
              @ask-again=${this.onAskAgain}
            ></message-item>
          </li>`,
      )}
    </ol>`;
  }

  /** The error the last answer shows (its card is the one card for it). */
  private failureShown(): string | null {
    const last = this.conversation.messages.at(-1);
    return last?.status === 'error' ? (last.error?.name ?? null) : null;
  }

  /** What the answer is waiting for before its first token (the download, the GPU's warm-up, the image…). */
  private pendingText(): string {
    if (this.settings?.value.backend === 'remote') return 'Waiting for the remote model';
    const image = this.conversation.contextImage;
    const tokens = image ? planImage(image.width, image.height, this.settings?.value.imageDetail ?? 'auto').tokens : null;
    return stageText(this.engine?.status, tokens) ?? 'Thinking';
  }

  private tickWhileWaiting() {
    const live = this.generation?.live;
    const waiting = !!live && live.firstTokenAt === null;
    if (waiting && this.#tick === undefined) this.#tick = setInterval(() => this.requestUpdate(), 1000);
    if (!waiting && this.#tick !== undefined) {
      clearInterval(this.#tick);
      this.#tick = undefined;
    }
  }

  /**
   * A new failure card scrolls fully into view, just above the composer: the last answer's (a new failure is
   * always the last turn; the engine's own card does the same for itself).
   */
  private bringCardsIntoView() {
    const last = this.conversation.messages.at(-1);
    if (last?.status !== 'error') return;
    const el = this.renderRoot.querySelector(`message-item[data-id="${last.id}"]`);
    if (el) void this.#follow.revealOnce(last.id, el);
  }

  private onGlobalKey(e: KeyboardEvent) {
    if (e.key !== 'Escape' || e.defaultPrevented) return;
    const live = this.generation?.live;
    if (!live || live.sessionId !== (this.conversation.sessionId ?? '')) return;
    // Escape inside a dialog, an edit box or a rename field belongs to them.
    const inside = e.composedPath().some((n) => n instanceof HTMLElement && ['DIALOG', 'INPUT', 'FORM', 'ASIDE'].includes(n.tagName));
    if (inside) return;
    e.preventDefault();
    this.conversation.stop();
  }

  private onSend(e: SendMessageEvent) {
    this.#follow.stick();
    this._removed = null;
    void loadMarkdown(); // the answer will need it
    e.accepted = this.conversation.send(e.text, e.image);
  }

  private async onRemoveContextImage(e: ImageRemoveEvent) {
    e.stopPropagation();
    this._removed = await this.conversation.removeContextImage();
  }

  private async undoRemove(e: Event) {
    e.stopPropagation();
    const hash = this._removed;
    this._removed = null;
    if (hash) await this.conversation.setContextImage(hash);
  }

  private onToastGone(e: Event) {
    e.stopPropagation();
    this._removed = null;
  }

  private jumpToLatest() {
    this.#follow.jump();
    // The button goes once followed: the keyboard goes on in the message box, not on the page body.
    this.renderRoot.querySelector('chat-composer')?.focus();
  }

  private async onAskAgain(e: AskAgainEvent) {
    e.stopPropagation();
    this._removed = null;
    if (await this.conversation.setContextImage(e.imageHash)) this.focusComposer();
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'chat-view': ChatView;
  }
}
