import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ChatMessage, StoredMessage } from '../../chat/messages';
import type { ChatService } from '../../chat/service';
import { GenerationAbortedError, StorageQuotaError, StorageUnavailableError, isError } from '../../errors';
import type { SessionStore, StoreChange } from '../../storage/sessions';
import type { GenerationTracker } from '../services/generation';

export interface ContextImage {
  hash: string;
  url: string;
  width: number;
  height: number;
}

export interface ConversationDeps {
  store: () => SessionStore | undefined;
  chat: () => ChatService | undefined;
  generation: () => GenerationTracker | undefined;
  /** Called with the id of a chat created by its first message. */
  onCreated: (sessionId: string) => void;
  /** Called when an answer ends, with the text to announce to screen readers. */
  onFinished: (announcement: string) => void;
  /** The open chat was deleted (`remote`: in another tab); the controller has already closed it. */
  onDeleted?: (sessionId: string, remote: boolean) => void;
}

/**
 * The open conversation: its transcript, where the model's window starts, the image in context, object
 * URLs for the images, and the actions (send, stop, regenerate, edit, remove the image). Reloads on the
 * store's change events, so another tab's changes show up too: a message it appends, a clear, and a
 * delete (which closes the chat here).
 */
export class ConversationController implements ReactiveController {
  sessionId: string | null = null;
  messages: StoredMessage[] = [];
  windowStartSeq: number | null = null;
  /** What the model would read now (the window, the system prompt, the image part), for the token meter. */
  contextMessages: ChatMessage[] = [];
  contextImage: ContextImage | null = null;
  loading = false;
  /** Why the last send/edit was refused (shown near the composer); null when fine. */
  inputError: unknown = null;
  /** A failure to load the conversation itself. */
  loadError: unknown = null;

  readonly #urls = new Map<string, string>();
  /** Answers that could not be saved (storage full): shown with the error until the chat is closed. */
  readonly #unsaved = new Map<string, StoredMessage>();
  #store: SessionStore | null = null;
  #loadSeq = 0;
  readonly #onChange = (e: Event) => {
    const change = (e as CustomEvent<StoreChange & { remote?: boolean }>).detail;
    if (change.sessionId !== this.sessionId) return;
    if (change.kind === 'deleted') {
      void this.open(null);
      this.deps.onDeleted?.(change.sessionId, change.remote === true);
      return;
    }
    void this.reload();
  };

  constructor(private readonly host: ReactiveControllerHost, private readonly deps: ConversationDeps) {
    host.addController(this);
  }

  hostConnected(): void {
    this.attach();
  }

  hostUpdate(): void {
    if ((this.deps.store() ?? null) !== this.#store) this.attach();
  }

  hostDisconnected(): void {
    this.#store?.removeEventListener('change', this.#onChange);
    this.#store = null;
    for (const url of this.#urls.values()) URL.revokeObjectURL(url);
    this.#urls.clear();
  }

  private attach(): void {
    this.#store?.removeEventListener('change', this.#onChange);
    this.#store = this.deps.store() ?? null;
    this.#store?.addEventListener('change', this.#onChange);
  }

  /** Opens a session (null = a new chat). */
  async open(sessionId: string | null): Promise<void> {
    if (sessionId === this.sessionId && (this.messages.length > 0 || sessionId === null)) return;
    this.sessionId = sessionId;
    this.messages = [];
    this.windowStartSeq = null;
    this.contextMessages = [];
    this.contextImage = null;
    this.inputError = null;
    this.loadError = null;
    this.#unsaved.clear();
    for (const url of this.#urls.values()) URL.revokeObjectURL(url);
    this.#urls.clear();
    this.host.requestUpdate();
    await this.reload();
  }

  imageUrl(hash: string | undefined): string | null {
    return hash ? (this.#urls.get(hash) ?? null) : null;
  }

  /** Reloads the transcript, the window start and the image in context. */
  async reload(): Promise<void> {
    const store = this.deps.store();
    const chat = this.deps.chat();
    const id = this.sessionId;
    const seq = ++this.#loadSeq;
    if (!store || !chat || id === null) return;
    this.loading = this.messages.length === 0;
    try {
      const [messages, context, session] = await Promise.all([chat.transcript(id), chat.context(id), store.get(id)]);
      const hashes = new Set(messages.map((m) => m.imageHash).filter((h): h is string => !!h));
      if (session?.imageHash) hashes.add(session.imageHash);
      const records = new Map<string, { width: number; height: number }>();
      for (const hash of hashes) {
        const record = await store.getImage(hash);
        if (!record) continue;
        if (!this.#urls.has(hash)) this.#urls.set(hash, URL.createObjectURL(record.blob));
        records.set(hash, { width: record.width ?? 512, height: record.height ?? 512 });
      }
      if (seq !== this.#loadSeq) return; // a newer load (or another session) won
      this.messages = messages.map((m) => this.#unsaved.get(m.id) ?? m);
      this.windowStartSeq = context.windowStartSeq;
      this.contextMessages = context.messages;
      const h = session?.imageHash ?? null;
      const dims = h ? records.get(h) : undefined;
      this.contextImage = h && dims ? { hash: h, url: this.#urls.get(h)!, ...dims } : null;
      this.loadError = null;
    } catch (err) {
      if (seq === this.#loadSeq) this.loadError = err;
    } finally {
      if (seq === this.#loadSeq) this.loading = false;
      this.host.requestUpdate();
    }
  }

  /** Sends a message; resolves true once it is saved (the composer then clears), false if refused. */
  send(text: string, image: Blob | null): Promise<boolean> {
    const chat = this.deps.chat();
    const generation = this.deps.generation();
    if (!chat || !generation) return Promise.resolve(false);
    this.inputError = null;
    this.host.requestUpdate();
    return new Promise<boolean>((resolve) => {
      const signal = generation.start(this.sessionId ?? '');
      chat
        .chat({
          message: text,
          image,
          ...(this.sessionId ? { session_id: this.sessionId } : {}),
          signal,
          onSaved: (saved) => this.onSaved(saved.sessionId, saved.userMessage, saved.assistantMessage, resolve),
          onToken: (e) => generation.token(e.full, e.tokens),
        })
        .then(
          (res) => this.finished(res.response),
          (err: unknown) => {
            resolve(false);
            this.failed(err);
          },
        );
    });
  }

  async regenerate(): Promise<void> {
    await this.run((chat, id, opts) => chat.regenerate(id, opts));
  }

  /** Whether a message can be edited: any of the user's (the conversation branches from there). */
  canEdit(m: StoredMessage): boolean {
    return m.role === 'user';
  }

  /** Shows another version of a turn (and the conversation that followed it). */
  async selectVersion(messageId: string, index: number): Promise<void> {
    const chat = this.deps.chat();
    if (!chat || !this.sessionId) return;
    try {
      await chat.selectVersion(this.sessionId, messageId, index);
    } catch (err) {
      this.inputError = err;
    }
    await this.reload();
  }

  /** Edits one of the user's messages and answers it again; what followed stays as the earlier version. */
  async editMessage(messageId: string, text: string): Promise<void> {
    await this.run((chat, id, opts) => chat.editMessage(id, messageId, text, opts));
  }

  stop(): void {
    this.deps.generation()?.stop();
  }

  /** Takes the image out of the model's context (the transcript keeps it); resolves with it, for Undo. */
  async removeContextImage(): Promise<string | null> {
    const hash = this.contextImage?.hash ?? null;
    return (await this.setContextImage(null)) ? hash : null;
  }

  /**
   * Makes a picture of this chat the image in the model's context (Undo of a removal, or “Ask about this
   * again” on an older one); null takes it out. Resolves false when it could not be saved (shown near the composer).
   */
  async setContextImage(hash: string | null): Promise<boolean> {
    const store = this.deps.store();
    if (!store || !this.sessionId) return false;
    try {
      await store.setContextImage(this.sessionId, hash);
      return true;
    } catch (err) {
      this.inputError = err;
      this.host.requestUpdate();
      return false;
    }
  }

  private async run(
    fn: (chat: ChatService, id: string, opts: Parameters<ChatService['regenerate']>[1]) => Promise<{ response: string }>,
  ): Promise<void> {
    const chat = this.deps.chat();
    const generation = this.deps.generation();
    const id = this.sessionId;
    if (!chat || !generation || !id) return;
    this.inputError = null;
    const signal = generation.start(id);
    try {
      const res = await fn(chat, id, {
        signal,
        onSaved: (saved) => this.onSaved(saved.sessionId, saved.userMessage, saved.assistantMessage, () => undefined),
        onToken: (e) => generation.token(e.full, e.tokens),
      });
      this.finished(res.response);
    } catch (err) {
      this.failed(err);
    }
  }

  private onSaved(
    sessionId: string,
    user: StoredMessage | null,
    assistant: StoredMessage,
    resolve: (ok: boolean) => void,
  ): void {
    this.deps.generation()?.saved(sessionId, assistant.id);
    if (this.sessionId !== sessionId) {
      // A new chat just got its id.
      this.sessionId = sessionId;
      this.deps.onCreated(sessionId);
    }
    // Show both turns at once, before the store's change event reloads the transcript.
    const rest = this.messages.filter((m) => m.id !== assistant.id && m.id !== user?.id && m.seq < assistant.seq);
    this.messages = [...rest, ...(user ? [user] : []), assistant];
    resolve(true);
    this.host.requestUpdate();
    void this.reload();
  }

  private finished(text: string): void {
    // Swap the live text for the saved answer in one step (no flash of the last partial save).
    void this.reload().finally(() => {
      this.deps.generation()?.finish();
      this.deps.onFinished(text);
    });
  }

  private failed(err: unknown): void {
    const live = this.deps.generation()?.live;
    const saved = live?.messageId != null;
    const answer = live?.messageId ? this.messages.find((m) => m.id === live.messageId) : undefined;
    if (live && answer && (isError(err, StorageQuotaError) || isError(err, StorageUnavailableError))) {
      // The answer was written but could not be saved (e.g. the disk is full): keep it on screen with the
      // reason, instead of the empty turn left on disk.
      const e = err as Error;
      this.#unsaved.set(answer.id, {
        ...answer,
        content: [{ type: 'text', text: live.text }],
        status: 'error',
        error: { name: e.name, message: e.message },
      });
    }
    void this.reload().finally(() => this.deps.generation()?.finish(err));
    if (isError(err, GenerationAbortedError)) {
      this.deps.onFinished('Stopped. The partial answer is kept.');
    } else if (saved) {
      // The error is stored on the assistant turn and shown there.
      this.deps.onFinished('The answer failed. The reason is shown under it.');
    } else {
      this.inputError = err;
    }
  }
}
