import { CannotContinueError, EmptyMessageError, GlimpseError, ImageUnreadableError, MessageTooLongError, StorageUnavailableError, UnsupportedImageError } from '../errors';
import {
  DEFAULT_CHAT_SETTINGS,
  type ChatApi,
  type ChatRequest,
  type ChatResponse,
  type ChatSettings,
  type ClearResponse,
  type ConversationView,
  type HistoryResponse,
  type Picture,
  type PreparedImage,
  type SessionsResponse,
  type TurnOptions,
} from './api';
import type { ChatBackend } from './backend';
import { buildContext, type ModelContext } from './context';
import { canContinue, continueSettings } from './continue';
import type { ImageFeatureStore } from './features';
import { hashBlob, inspectImage, type ImageInfo } from './images';
import type { SessionChange } from './library';
import { defaultSessionLocks, type SessionLocks } from './locks';
import { makeContent, nowIso, textOf, toHistoryMessage, type StoredMessage } from './messages';
import { validateSessionId, type NewMessage, type SessionRepository } from './repository';
import { regenerateSettings } from './sampling';
import { TurnWriter } from './turns';
import { showVersion, withNewVersion } from './versions';

export { DEFAULT_CHAT_SETTINGS } from './api';
export type {
  ChatApi,
  ChatRequest,
  ChatResponse,
  ChatSettings,
  ClearResponse,
  ConversationView,
  HistoryResponse,
  Picture,
  PreparedImage,
  SessionsResponse,
  TurnOptions,
} from './api';

export interface ServiceOptions {
  /** Where sessions live: SessionStore (IndexedDB) in the browser, FileSessionStore in the REST server. */
  store: SessionRepository;
  /** The backend to answer with (local engine or remote proxy), read at each call. */
  backend: () => ChatBackend;
  settings?: () => ChatSettings;
  /**
   * Decodes an image to prove it is readable (the browser passes createImageBitmap). Header checks catch
   * most damage; this catches the rest before anything is stored.
   */
  decodeCheck?: (blob: Blob, info: ImageInfo) => Promise<void>;
  /** How often partial answers are written to the store while streaming (ms). */
  persistEveryMs?: number;
  /**
   * One answer per session at a time: Web Locks in the page (across tabs), an in-process lock in Node.
   * Default: Web Locks where the runtime has them, else in-process.
   */
  locks?: SessionLocks;
  /** Where image features are kept with their pictures, so a backend's vision encoder runs once per picture. */
  features?: ImageFeatureStore;
  /** Something the user should know that did not fail their turn (said once per kind), e.g. storage full. */
  onWarning?: (message: string) => void;
}

/**
 * The answer's place for a regenerate: the old answer kept as a version, unless it has no text (a failed
 * load, a stop before the first word), which there is nothing to go back to: Try again takes its place.
 */
function replaceAnswer(answer: StoredMessage, empty: Partial<StoredMessage>): StoredMessage {
  if (textOf(answer).trim() !== '') return withNewVersion(answer, [], empty);
  const { status: _s, error: _e, details: _d, ...rest } = answer;
  return { ...rest, ...empty };
}

/**
 * Characters that show nothing: white space, format characters (zero-width space and joiners, BOM, soft
 * hyphen…) and the blank letters some fonts draw as nothing (Hangul fillers, braille blank).
 */
const INVISIBLE = /^[\p{White_Space}\p{Cf}\p{Cc}\u115f\u1160\u3164\uffa0\u2800]*$/u;

/**
 * The chat service: the in-browser equivalent of the REST API the app replaces. The UI and the tests call
 * it; it applies the conversation rules, saves before generating, and keeps partial answers.
 */
export class ChatService implements ChatApi {
  private readonly store: SessionRepository;
  private readonly settings: () => ChatSettings;
  private readonly decodeCheck?: ServiceOptions['decodeCheck'];
  private readonly locks: SessionLocks;
  private readonly turns: TurnWriter;
  private readonly backend: () => ChatBackend;

  constructor(opts: ServiceOptions) {
    this.store = opts.store;
    this.backend = opts.backend;
    this.settings = opts.settings ?? (() => DEFAULT_CHAT_SETTINGS);
    this.decodeCheck = opts.decodeCheck;
    this.locks = opts.locks ?? defaultSessionLocks();
    this.turns = new TurnWriter({
      store: opts.store,
      backend: opts.backend,
      settings: this.settings,
      persistEveryMs: opts.persistEveryMs ?? 500,
      ...(opts.features ? { features: opts.features } : {}),
      ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
    });
  }

  /** Checks a message without saving it; throws the named error the UI shows. */
  validateMessage(message: string, allowEmpty = false): string {
    const text = typeof message === 'string' ? message : '';
    if (!allowEmpty && INVISIBLE.test(text)) {
      throw new EmptyMessageError('Type a message first: an empty message cannot be sent.', { field: 'message' });
    }
    const max = this.settings().maxMessageChars;
    if (text.length > max) {
      throw new MessageTooLongError(
        `This message is ${text.length.toLocaleString('en')} characters; the limit is ${max.toLocaleString('en')}. ` +
          'Shorten it or split it into several messages.',
        { field: 'message', length: text.length, max },
      );
    }
    return text;
  }

  /** Checks an image without saving it; returns what is needed to store it. */
  async prepareImage(blob: Blob): Promise<PreparedImage> {
    const info = await inspectImage(blob, this.settings().imageLimits);
    if (this.decodeCheck) {
      try {
        await this.decodeCheck(blob, info);
      } catch (err) {
        if (err instanceof GlimpseError) throw err;
        throw new ImageUnreadableError('This image could not be decoded; it may be damaged or cut short.', {
          mime: info.mime,
        });
      }
    }
    // Store with the sniffed type, never the name the file claimed.
    const typed = blob.type === info.mime ? blob : new Blob([blob], { type: info.mime });
    return { blob: typed, hash: await hashBlob(typed), info };
  }

  /** POST /chat: saves the user's turn, asks the backend, saves the answer. */
  async chat(req: ChatRequest): Promise<ChatResponse> {
    const text = this.validateMessage(req.message, !!req.image);
    const fresh = req.session_id === undefined;
    const sessionId = fresh ? crypto.randomUUID() : validateSessionId(req.session_id!);
    if (!fresh) await this.store.require(sessionId);
    const whenLocked = req.whenLocked ?? ((turn) => turn());

    // Decoding the image is part of the turn (in the REST API's queue, one at a time); a new chat is created
    // once its turn runs, so a request refused or cancelled while it waits leaves nothing behind. So does a
    // backend that cannot start (its model cannot be fetched): it is asked before anything is stored.
    return this.withSessionLock(sessionId, () => whenLocked(async () => {
      await this.backend().prepare?.();
      const image = req.image ? await this.prepareImage(req.image) : null;
      if (fresh) await this.store.create({ id: sessionId });
      const userMessage = await this.store.append(
        sessionId,
        { role: 'user', content: makeContent(text, !!image), timestamp: nowIso(), status: 'complete' },
        image ? { blob: image.blob, hash: image.hash, width: image.info.width, height: image.info.height } : undefined,
      );
      return this.turns.respond(sessionId, text, userMessage, req);
    }), req.waitSignal);
  }

  /**
   * Regenerates the last answer and asks again. Where the store keeps versions, the new answer is another
   * version of the last one (‹ 2/2 ›); otherwise the old answer is dropped. The new answer is sampled with a
   * fresh seed (src/chat/sampling.ts), so it differs, unless the user fixed a seed.
   */
  async regenerate(sessionId: string, opts: TurnOptions = {}): Promise<ChatResponse> {
    return this.withSessionLock(sessionId, async () => {
      const transcript = await this.store.messages(sessionId);
      await this.store.require(sessionId);
      const answer = transcript.at(-1)?.role === 'assistant' ? transcript.at(-1)! : null;
      const question = transcript.at(answer ? -2 : -1);
      if (!question || question.role !== 'user') {
        throw new EmptyMessageError('There is no question to answer again in this chat.', { field: 'message' });
      }
      let place: ((fresh: NewMessage) => Promise<StoredMessage>) | undefined;
      if (answer && this.store.replaceFrom) {
        // The new answer's place, holding the old one as a version; empty, so the model's context skips it.
        const empty = { id: crypto.randomUUID(), content: makeContent('', false), status: 'streaming' as const, timestamp: nowIso() };
        const [placeholder] = await this.store.replaceFrom(sessionId, answer.seq, [replaceAnswer(answer, empty)]);
        place = (fresh) => this.store.update({ ...placeholder!, ...fresh, id: placeholder!.id });
      } else if (answer) {
        await this.store.truncate(sessionId, answer.seq);
      }
      const generation = regenerateSettings(this.settings().generation);
      return this.turns.respond(sessionId, textOf(question), null, { ...opts, message: textOf(question), generation }, place);
    });
  }

  /** Whether Continue can extend this answer here: it was cut off (or stopped), and the backend can go on. */
  canContinue(m: StoredMessage): boolean {
    return this.backend().continues === true && canContinue(m);
  }

  /**
   * Continue: the chat's last answer, cut at the token limit (or stopped), goes on where it ended. The same
   * message grows (no new turn, no new version); the local engine extends it from its KV cache.
   */
  async continueAnswer(sessionId: string, opts: TurnOptions = {}): Promise<ChatResponse> {
    const whenLocked = opts.whenLocked ?? ((turn) => turn());
    return this.withSessionLock(sessionId, () => whenLocked(async () => {
      await this.store.require(sessionId);
      const transcript = await this.store.messages(sessionId);
      const answer = transcript.at(-1);
      const question = transcript.findLast((m) => m.role === 'user');
      if (!answer || !question || !canContinue(answer)) {
        throw new CannotContinueError('There is nothing to continue: the last answer in this chat was not cut off.', { field: 'continue' });
      }
      const backend = this.backend();
      if (backend.continues !== true) {
        throw new CannotContinueError('This model cannot continue an answer where it ended: ask it to go on instead.', { field: 'continue', backend: backend.id });
      }
      await backend.prepare?.();
      const generation = continueSettings(this.settings().generation, answer.details);
      return this.turns.respond(sessionId, textOf(question), null, { ...opts, message: textOf(question), generation, continuing: answer });
    }), opts.waitSignal);
  }

  /** Edits the last user message (text only; its image stays) and answers it again. */
  async editLast(sessionId: string, newText: string, opts: TurnOptions = {}): Promise<ChatResponse> {
    const last = [...(await this.store.messages(validateSessionId(sessionId)))].reverse().find((m) => m.role === 'user');
    return this.editMessage(sessionId, last?.id ?? '', newText, opts);
  }

  /**
   * Edits one of the user's messages (text only; its image stays) and answers it again: the conversation
   * goes on from there. Where the store keeps versions, what followed stays as the earlier version's branch;
   * otherwise only the last question can be edited, and what followed it is dropped.
   */
  async editMessage(
    sessionId: string,
    messageId: string,
    newText: string,
    opts: TurnOptions = {},
  ): Promise<ChatResponse> {
    return this.withSessionLock(sessionId, async () => {
      await this.store.require(sessionId);
      const transcript = await this.store.messages(sessionId);
      const at = transcript.findIndex((m) => m.id === messageId && m.role === 'user');
      const lastUser = transcript.findLastIndex((m) => m.role === 'user');
      if (at < 0 || (!this.store.replaceFrom && at !== lastUser)) {
        throw new EmptyMessageError('There is no such message to edit in this chat.', { field: 'message' });
      }
      const message = transcript[at]!;
      const text = this.validateMessage(newText, message.imageHash !== undefined);
      const content = makeContent(text, message.imageHash !== undefined);
      if (this.store.replaceFrom) {
        await this.store.replaceFrom(sessionId, message.seq, [withNewVersion(message, transcript.slice(at + 1), { content, timestamp: nowIso() })]);
      } else {
        await this.store.truncate(sessionId, message.seq + 1);
        await this.store.update({ ...message, content, timestamp: nowIso() });
      }
      return this.turns.respond(sessionId, text, null, { ...opts, message: text });
    });
  }

  /**
   * Shows another version of a turn (an earlier answer, or a question before an edit): the turns after it
   * become that version's branch, and the ones shown until now are kept with the version they followed.
   */
  async selectVersion(sessionId: string, messageId: string, index: number): Promise<StoredMessage[]> {
    return this.withSessionLock(sessionId, async () => {
      await this.store.require(sessionId);
      const transcript = await this.store.messages(sessionId);
      const at = transcript.findIndex((m) => m.id === messageId);
      if (at < 0 || !this.store.replaceFrom) throw new EmptyMessageError('This message has no other versions.', { field: 'message' });
      const message = transcript[at]!;
      const { turn, following } = showVersion(message, transcript.slice(at + 1), index);
      await this.store.replaceFrom(sessionId, message.seq, [turn, ...following]);
      return this.store.messages(sessionId);
    });
  }

  /** GET /chat/history/{id} */
  async history(sessionId: string): Promise<HistoryResponse> {
    const messages = await this.transcript(sessionId);
    return { session_id: sessionId, history: messages.map(toHistoryMessage), length: messages.length };
  }

  /**
   * The stored transcript with bookkeeping (ids, status, image hashes) for the UI. A turn still marked
   * `streaming` with no tab generating it (the page was closed mid-answer) is marked `interrupted`.
   */
  async transcript(sessionId: string): Promise<StoredMessage[]> {
    await this.store.require(validateSessionId(sessionId));
    return this.markInterrupted(sessionId, await this.store.messages(sessionId));
  }

  /** Marks the turns left `streaming` by a page closed mid-answer (no tab holds the chat's lock) `interrupted`. */
  private async markInterrupted(sessionId: string, messages: StoredMessage[]): Promise<StoredMessage[]> {
    const stale = messages.filter((m) => m.status === 'streaming');
    if (stale.length > 0 && !(await this.locks.held(sessionId))) {
      for (const m of stale) {
        m.status = 'interrupted';
        // Best effort: the mark is shown either way, and a full disk must not hide the whole conversation.
        await this.store.update(m).catch(() => undefined);
      }
    }
    return messages;
  }

  /** What the model would see now (the UI marks where the window starts and shows the image in context). */
  async context(sessionId: string): Promise<ModelContext> {
    const session = await this.store.require(validateSessionId(sessionId));
    return this.contextOf(await this.store.messages(sessionId), session.imageHash);
  }

  /** What the model would see of `messages` with `contextImage` in context, under the current settings. */
  contextOf(messages: readonly StoredMessage[], contextImage: string | null): ModelContext {
    const s = this.settings();
    return buildContext(messages, { windowSize: s.windowSize, systemPrompt: s.generation.systemPrompt, imageHash: contextImage });
  }

  /** The chat as the UI shows it: the transcript (as `transcript`), its model context and the image in context. */
  async conversation(sessionId: string): Promise<ConversationView> {
    const session = await this.store.require(validateSessionId(sessionId));
    const messages = await this.markInterrupted(sessionId, await this.store.messages(sessionId));
    return { messages, context: this.contextOf(messages, session.imageHash), contextImage: session.imageHash };
  }

  /** A stored picture; one stored without its size (an import) counts as 512×512, one frame. */
  async picture(hash: string): Promise<Picture | undefined> {
    const record = await this.store.getImage(hash);
    return record && { hash: record.hash, blob: record.blob, width: record.width ?? 512, height: record.height ?? 512 };
  }

  /** Takes the image out of the model's context (the transcript keeps it); resolves with its hash (null: none). */
  async removeContextImage(sessionId: string): Promise<string | null> {
    const session = await this.store.require(validateSessionId(sessionId));
    if (session.imageHash === null) return null;
    await this.writeContextImage(sessionId, null);
    return session.imageHash;
  }

  /**
   * Makes one of this chat's pictures the one image in the model's context (Undo of a removal, or “Ask about
   * this again” on an older one). A picture no message of the chat sent is refused.
   */
  async setContextImage(sessionId: string, hash: string): Promise<void> {
    const messages = await this.store.messages(validateSessionId(sessionId));
    if (!messages.some((m) => m.imageHash === hash)) {
      throw new UnsupportedImageError('This picture is not part of this chat any more, so it cannot be put back in context.', { field: 'image' });
    }
    await this.writeContextImage(sessionId, hash);
  }

  /** Calls `listener` on each change to the stored chats, where the store announces them; returns the unsubscribe. */
  subscribe(listener: (change: SessionChange) => void): () => void {
    const store = this.store as Partial<EventTarget>;
    if (!store.addEventListener || !store.removeEventListener) return () => undefined;
    const handler = (e: Event) => listener((e as CustomEvent<SessionChange>).detail);
    store.addEventListener('change', handler);
    return () => store.removeEventListener?.('change', handler);
  }

  private async writeContextImage(sessionId: string, hash: string | null): Promise<void> {
    if (!this.store.setContextImage) throw new StorageUnavailableError('This session store cannot change the image in context.');
    await this.store.setContextImage(sessionId, hash);
  }

  /** DELETE /chat/history/{id} */
  async clear(sessionId: string): Promise<ClearResponse> {
    const removed = await this.store.clear(validateSessionId(sessionId));
    return { message: `Conversation history cleared for session ${sessionId}`, session_id: sessionId, removed };
  }

  /** GET /chat/sessions */
  async sessions(): Promise<SessionsResponse> {
    const sessions = await this.store.list();
    return { sessions, total: sessions.length };
  }

  /** One generation per session at a time, across tabs too (Web Locks), so turns never interleave. */
  private withSessionLock<T>(sessionId: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return this.locks.run(sessionId, fn, signal);
  }
}
