import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { ChatMessage, StoredMessage } from '../../chat/messages';
import type { ChatApi, ConversationView, TurnOptions } from '../../chat/api';
import type { SessionChange } from '../../chat/library';
import { GenerationAbortedError, StorageQuotaError, StorageUnavailableError, isError } from '../../errors';
import type { GenerationTracker } from '../services/generation';

export interface ContextImage {
  hash: string;
  url: string;
  width: number;
  height: number;
}

export interface ConversationDeps {
  chat: () => ChatApi | undefined;
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
 * URLs for the images, and the actions (send, stop, regenerate, edit, remove the image). Follows the chat
 * service's change events, so another tab's changes show up too: a message rewritten in place (each partial
 * save of a streaming answer) replaces that message without reading the chat again; a message appended or
 * removed, the image in context changed or a clear re-read it; a delete closes the chat here.
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

  /** Object URLs and sizes of the pictures shown, by hash (a picture never changes under its hash). */
  readonly #pictures = new Map<string, { url: string; width: number; height: number }>();
  /** Answers that could not be saved (storage full): shown with the error until the chat is closed. */
  readonly #unsaved = new Map<string, StoredMessage>();
  /** Messages rewritten in place since the chat was opened, so a read that started before one cannot undo it. */
  readonly #rewritten = new Map<string, StoredMessage>();
  /** The image in the model's context as last read (the one-image rule itself lives in the chat service). */
  #contextHash: string | null = null;
  #chat: ChatApi | null = null;
  #unsubscribe: (() => void) | null = null;
  #loadSeq = 0;
  readonly #onChange = (change: SessionChange) => {
    if (change.sessionId !== this.sessionId) return;
    if (change.kind === 'deleted') {
      void this.open(null);
      this.deps.onDeleted?.(change.sessionId, change.remote === true);
      return;
    }
    if (change.kind === 'renamed') return; // nothing shown here changes
    if (change.kind === 'messages' && change.message && this.rewrite(change.message)) return;
    void this.reload();
  };

  constructor(private readonly host: ReactiveControllerHost, private readonly deps: ConversationDeps) {
    host.addController(this);
  }

  hostConnected(): void {
    this.attach();
  }

  hostUpdate(): void {
    if ((this.deps.chat() ?? null) !== this.#chat) this.attach();
  }

  hostDisconnected(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#chat = null;
    this.forgetPictures();
  }

  private attach(): void {
    this.#unsubscribe?.();
    this.#chat = this.deps.chat() ?? null;
    this.#unsubscribe = this.#chat?.subscribe(this.#onChange) ?? null;
  }

  private forgetPictures(): void {
    for (const p of this.#pictures.values()) URL.revokeObjectURL(p.url);
    this.#pictures.clear();
  }

  /** Opens a session (null = a new chat). */
  async open(sessionId: string | null): Promise<void> {
    if (sessionId === this.sessionId && (this.messages.length > 0 || sessionId === null)) return;
    this.sessionId = sessionId;
    this.messages = [];
    this.windowStartSeq = null;
    this.contextMessages = [];
    this.contextImage = null;
    this.#contextHash = null;
    this.inputError = null;
    this.loadError = null;
    this.#unsaved.clear();
    this.#rewritten.clear();
    this.forgetPictures();
    this.host.requestUpdate();
    await this.reload();
  }

  imageUrl(hash: string | undefined): string | null {
    return hash ? (this.#pictures.get(hash)?.url ?? null) : null;
  }

  /** Reads the chat again: the transcript, the window start and the image in context. */
  async reload(): Promise<void> {
    const chat = this.deps.chat();
    const id = this.sessionId;
    const seq = ++this.#loadSeq;
    if (!chat || id === null) return;
    this.loading = this.messages.length === 0;
    try {
      const view = await chat.conversation(id);
      await this.readPictures(chat, view);
      if (seq !== this.#loadSeq) return; // a newer load (or another session) won
      this.messages = view.messages.map((m) => this.shown(m));
      this.#contextHash = view.contextImage;
      this.showContext(chat);
      this.loadError = null;
    } catch (err) {
      if (seq === this.#loadSeq) this.loadError = err;
    } finally {
      if (seq === this.#loadSeq) this.loading = false;
      this.host.requestUpdate();
    }
  }

  /** Object URLs and sizes for the pictures of `view` not read yet. */
  private async readPictures(chat: ChatApi, view: ConversationView): Promise<void> {
    const hashes = new Set(view.messages.map((m) => m.imageHash).filter((h): h is string => !!h));
    if (view.contextImage) hashes.add(view.contextImage);
    for (const hash of hashes) {
      if (this.#pictures.has(hash)) continue;
      const picture = await chat.picture(hash);
      if (picture) this.#pictures.set(hash, { url: URL.createObjectURL(picture.blob), width: picture.width, height: picture.height });
    }
  }

  /** The window, the model's context and the image in context, from the messages shown (no store read). */
  private showContext(chat: ChatApi): void {
    const context = chat.contextOf(this.messages, this.#contextHash);
    this.windowStartSeq = context.windowStartSeq;
    this.contextMessages = context.messages;
    const h = this.#contextHash;
    const picture = h ? this.#pictures.get(h) : undefined;
    this.contextImage = h && picture ? { hash: h, ...picture } : null;
  }

  /** The version of a message to show: one that could not be saved, or the latest rewrite seen. */
  private shown(m: StoredMessage): StoredMessage {
    const unsaved = this.#unsaved.get(m.id);
    if (unsaved) return unsaved;
    const rewritten = this.#rewritten.get(m.id);
    return rewritten && (rewritten.rev ?? 0) > (m.rev ?? 0) ? rewritten : m;
  }

  /**
   * A partial save of a streaming answer: swapped in without reading the chat. Returns false for anything
   * else (an answer's final status, a message not shown here as it was): then the chat is read again, once
   * per answer, so its outcome shows in one step with what goes with it.
   */
  private rewrite(message: StoredMessage): boolean {
    const chat = this.deps.chat();
    const at = this.messages.findIndex((m) => m.id === message.id);
    const old = this.messages[at];
    if (!chat || !old || message.status !== 'streaming' || old.seq !== message.seq || old.imageHash !== message.imageHash) return false;
    const known = this.#rewritten.get(message.id);
    if (!known || (known.rev ?? 0) < (message.rev ?? 0)) this.#rewritten.set(message.id, message);
    this.messages = this.messages.map((m, i) => (i === at ? this.shown(message) : m));
    this.showContext(chat);
    this.host.requestUpdate();
    return true;
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

  /** Continue: the last answer (cut at the token limit, or stopped) goes on where it ended, in place. */
  async continueAnswer(): Promise<void> {
    await this.run((chat, id, opts) => chat.continueAnswer(id, opts));
  }

  /** Whether Continue is offered on this answer with the backend in use. */
  canContinue(m: StoredMessage): boolean {
    return this.deps.chat()?.canContinue(m) ?? false;
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
    return this.imageAction((chat, id) => chat.removeContextImage(id));
  }

  /**
   * Makes a picture of this chat the image in the model's context (Undo of a removal, or “Ask about this
   * again” on an older one). Resolves false when it could not be saved (shown near the composer).
   */
  async setContextImage(hash: string): Promise<boolean> {
    return (await this.imageAction((chat, id) => chat.setContextImage(id, hash).then(() => hash))) !== null;
  }

  private async imageAction(fn: (chat: ChatApi, sessionId: string) => Promise<string | null>): Promise<string | null> {
    const chat = this.deps.chat();
    if (!chat || !this.sessionId) return null;
    try {
      return await fn(chat, this.sessionId);
    } catch (err) {
      this.inputError = err;
      this.host.requestUpdate();
      return null;
    }
  }

  private async run(fn: (chat: ChatApi, id: string, opts: TurnOptions) => Promise<{ response: string }>): Promise<void> {
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
