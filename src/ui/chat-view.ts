import { consume } from '@lit/context';
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { ChatService } from '../chat/service';
import type { EngineController } from '../engine/api';
import type { SessionStore } from '../storage/sessions';
import type { ChatComposer } from './chat-composer';
import { chatContext, engineContext, generationContext, settingsContext, storeContext } from './contexts';
import { ConversationController } from './controllers/conversation';
import { ListenController } from './controllers/listen';
import { EditLastEvent, SendMessageEvent, SessionSelectEvent, type ImageRemoveEvent } from './events';
import { downloadText, percent } from './format';
import { loadMarkdown } from './markdown-loader';
import type { GenerationTracker } from './services/generation';
import type { SettingsStore } from './services/settings';
import { base } from './styles/theme';
import { icons } from './styles/icons';
import './chat-composer';
import './error-banner';
import './message-item';

/**
 * The open conversation: the turns, a marker where the model's context window starts, the composer,
 * and a polite live region that announces each answer once it is complete (not every token).
 *
 * @fires session-select - a new chat was saved by its first message (detail: `sessionId`)
 */
@customElement('chat-view')
export class ChatView extends LitElement {
  static override styles = [
    base,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 0;
        position: relative;
      }
      .scroller {
        flex: 1;
        overflow-y: auto;
        overscroll-behavior: contain;
      }
      ol {
        list-style: none;
        margin: 0 auto;
        padding: 1.2rem 1rem 1rem;
        max-width: 50rem;
        display: flex;
        flex-direction: column;
        gap: 1.3rem;
      }
      .marker {
        display: flex;
        align-items: center;
        gap: 0.7rem;
        font-size: 0.78rem;
        color: var(--text-muted);
      }
      .marker::before,
      .marker::after {
        content: '';
        flex: 1;
        border-top: 1px dashed var(--border);
      }
      .bottom {
        padding: 0.4rem 1rem max(0.8rem, env(safe-area-inset-bottom));
        max-width: 50rem;
        width: 100%;
        margin: 0 auto;
      }
      .privacy {
        text-align: center;
        font-size: 0.72rem;
        color: var(--text-muted);
        margin: 0.35rem 0 0;
      }
      .empty {
        max-width: 34rem;
        margin: 0 auto;
        padding: 3rem 1.25rem 1rem;
        text-align: center;
      }
      .empty h2 {
        font-size: 1.5rem;
        margin: 0 0 0.5rem;
      }
      .empty ol.steps {
        text-align: left;
        display: grid;
        gap: 0.35rem;
        list-style: decimal;
        padding: 0 0 0 1.4rem;
        margin: 1.2rem auto;
        max-width: 26rem;
        font-size: 0.95rem;
      }
      .empty .size {
        white-space: nowrap;
      }
      .promise {
        display: inline-flex;
        gap: 0.45rem;
        align-items: center;
        font-size: 0.88rem;
        background: var(--bg-soft);
        border: 1px solid var(--border);
        border-radius: 999px;
        padding: 0.35rem 0.85rem;
      }
      .promise svg {
        width: 16px;
        height: 16px;
      }
      :host([dragging]) .scroller {
        outline: 2px dashed var(--accent);
        outline-offset: -8px;
      }
      .notice {
        max-width: 50rem;
        margin: 0 auto;
        padding: 1rem 1rem 0;
      }
      .loading {
        padding: 2rem;
        text-align: center;
      }
    `,
  ];

  @consume({ context: storeContext }) @property({ attribute: false }) store?: SessionStore;
  @consume({ context: chatContext }) @property({ attribute: false }) chat?: ChatService;
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
  @query('chat-composer') private _composer?: ChatComposer;
  @query('.scroller') private _scroller?: HTMLElement;

  #stickToBottom = true;

  readonly conversation = new ConversationController(this, {
    store: () => this.store,
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

  override willUpdate(changed: PropertyValues<this>) {
    if (changed.has('sessionId') && this.sessionId !== this.conversation.sessionId) {
      this.#stickToBottom = true;
      this._notice = null;
      void this.conversation.open(this.sessionId);
    }
  }

  override updated() {
    if (this.#stickToBottom && this._scroller) this._scroller.scrollTop = this._scroller.scrollHeight;
    // The download size depends on the device: find it out (probe() is cached and downloads nothing).
    if (this.settings?.value.backend !== 'remote' && this.engine && !this.engine.device) {
      this.engine.probe().then(() => this.requestUpdate(), () => undefined);
    }
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
    const lastUser = [...c.messages].reverse().find((m) => m.role === 'user');
    const showMarker =
      c.windowStartSeq !== null && c.messages.length > 0 && c.messages[0]!.seq < c.windowStartSeq;
    return html`
      <div
        class="scroller"
        @scroll=${this.onScroll}
        @dragover=${this.onDragOver}
        @dragleave=${() => (this.dragging = false)}
        @drop=${this.onDrop}
      >
        ${this._notice
          ? html`<div class="notice"><error-banner level="warning" .error=${{ name: 'Notice', message: this._notice }} @dismiss=${() => (this._notice = null)}></error-banner></div>`
          : nothing}
        ${c.loadError
          ? html`<div class="loading"><error-banner .error=${c.loadError} .dismissible=${false}></error-banner></div>`
          : c.messages.length === 0
            ? c.loading
              ? html`<p class="loading muted" role="status">Opening the chat…</p>`
              : this.renderEmpty()
            : html`<ol aria-label="Conversation">
                ${repeat(
                  c.messages,
                  (m) => m.id,
                  (m) => html`${showMarker && m.seq === c.windowStartSeq
                      ? html`<li class="marker" id="context-marker">Context starts here — the model does not see earlier messages</li>`
                      : nothing}
                    <li>
                      <message-item
                        .message=${m}
                        .imageUrl=${c.imageUrl(m.imageHash)}
                        .liveText=${live && live.messageId === m.id && m.status === 'streaming' ? live.text : null}
                        .liveTokensPerSecond=${live && live.messageId === m.id ? live.tokensPerSecond : null}
                        .pending=${m.status === 'streaming' ? (live?.messageId === m.id ? this.pendingText() : 'Answering in another tab') : ''}
                        ?can-regenerate=${!live && m === last && m.role === 'assistant'}
                        ?can-edit=${!live && m === lastUser}
                        @regenerate=${() => void c.regenerate()}
                        @edit-last=${(e: EditLastEvent) => void c.editLast(e.text)}
                      ></message-item>
                    </li>`,
                )}
              </ol>`}
      </div>
      <div class="bottom">
        <chat-composer
          .generating=${generatingHere}
          .blocked=${blocked}
          .status=${waitingForOtherTab ? 'Waiting for the other tab to finish its answer…' : ''}
          .detail=${settings?.imageDetail ?? 'auto'}
          .acceptsImages=${this.acceptsImages}
          .contextImage=${c.contextImage}
          .error=${c.inputError}
          @send-message=${this.onSend}
          @stop-generation=${() => c.stop()}
          @image-remove=${this.onRemoveContextImage}
          @dismiss=${() => {
            c.inputError = null;
            this.requestUpdate();
          }}
        ></chat-composer>
        <p class="privacy" ?hidden=${c.messages.length === 0 && !c.loading}>
          ${settings?.backend === 'remote'
            ? 'Remote model: your messages (text only) go to your Glimpse proxy. Chats are stored only in this browser.'
            : 'Runs on your device; nothing is uploaded. Chats are stored only in this browser.'}
        </p>
      </div>
      <div class="sr-only" aria-live="polite" aria-atomic="true" id="announcer">${this._announcement}</div>
    `;
  }

  private renderEmpty() {
    const settings = this.settings?.value;
    const remote = settings?.backend === 'remote';
    const download = downloadText(settings?.localModel ?? this.engine?.model ?? '', this.engine?.device);
    const status = this.engine?.status;
    const downloaded = status?.state === 'ready' || status?.state === 'generating';
    return html`<section class="empty" aria-labelledby="empty-title">
      <h2 id="empty-title">What would you like to look at?</h2>
      <p class="muted">Glimpse is a private chat about your photos, powered by a small vision model.</p>
      <ol class="steps">
        <li>Attach a photo: the image button, drag it here, or paste it.</li>
        <li>Ask a question about it, then follow up without attaching it again.</li>
        ${remote
          ? html`<li>The remote model reads text only; images stay in this browser.</li>`
          : downloaded
            ? html`<li>The model is ready on this device.</li>`
            : html`<li>
                The first answer downloads the model once${download ? html` (<span class="size">${download}</span> on this device)` : ''};
                after that it works offline.
              </li>`}
      </ol>
      <p class="promise">${icons.lock} ${remote ? 'Remote mode: text goes to your own proxy' : 'Runs on your device; nothing is uploaded'}</p>
    </section>`;
  }

  /** What the answer is waiting for, before its first token. */
  private pendingText(): string {
    const s = this.engine?.status;
    if (this.settings?.value.backend === 'remote') return 'Waiting for the remote model';
    if (s?.state === 'loading') {
      const p = s.progress;
      return p && p.total > 0 ? `Downloading the model (${percent(p.loaded, p.total)}%)` : 'Loading the model';
    }
    if (s?.state === 'restarting') return 'Restarting the engine';
    return 'Thinking';
  }

  private onSend(e: SendMessageEvent) {
    this.#stickToBottom = true;
    void loadMarkdown(); // the answer will need it
    e.accepted = this.conversation.send(e.text, e.image);
  }

  private onRemoveContextImage(e: ImageRemoveEvent) {
    e.stopPropagation();
    void this.conversation.removeContextImage();
  }

  private onScroll() {
    const s = this._scroller;
    if (s) this.#stickToBottom = s.scrollHeight - s.scrollTop - s.clientHeight < 80;
  }

  private onDragOver(e: DragEvent) {
    if (!this.acceptsImages || !e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    this.dragging = true;
  }

  private onDrop(e: DragEvent) {
    this.dragging = false;
    const file = e.dataTransfer?.files[0];
    if (!file || !this.acceptsImages) return;
    e.preventDefault();
    void this._composer?.attach(file);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'chat-view': ChatView;
  }
}
