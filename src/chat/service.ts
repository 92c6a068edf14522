import {
  EmptyMessageError,
  GenerationAbortedError,
  GlimpseError,
  ImageUnreadableError,
  MessageTooLongError,
  isError,
  serializeError,
} from '../errors';
import { validateSessionId, type NewMessage, type SessionRepository, type SessionSummary } from './repository';
import { DEFAULT_GENERATION, type ChatBackend, type GenerationSettings, type TokenEvent } from './backend';
import type { ImageFeatures, ImageFeatureStore } from './features';
import { buildContext, DEFAULT_WINDOW, type ModelContext } from './context';
import { DEFAULT_IMAGE_LIMITS, hashBlob, inspectImage, type ImageInfo, type ImageLimits } from './images';
import { defaultSessionLocks, type SessionLocks } from './locks';
import { makeContent, nowIso, textOf, toChatMessage, type ChatMessage, type StoredMessage } from './messages';
import { showVersion, withNewVersion } from './versions';

/** The answer of `chat`, shaped like the REST server's POST /chat. */
export interface ChatResponse {
  message: string;
  response: string;
  has_image: boolean;
  model_used: string;
  session_id: string;
  conversation_length: number;
}

/** GET /chat/history/{id} */
export interface HistoryResponse {
  session_id: string;
  history: ChatMessage[];
  length: number;
}

/** DELETE /chat/history/{id} */
export interface ClearResponse {
  message: string;
  session_id: string;
  removed: number;
}

/** GET /chat/sessions */
export interface SessionsResponse {
  sessions: SessionSummary[];
  total: number;
}

export interface ChatSettings {
  /** Messages the model sees (default 20 = 10 exchanges). */
  windowSize: number;
  /** Longest message accepted, in characters. */
  maxMessageChars: number;
  imageLimits: ImageLimits;
  generation: GenerationSettings;
}

export const DEFAULT_CHAT_SETTINGS: ChatSettings = {
  windowSize: DEFAULT_WINDOW,
  maxMessageChars: 8_000,
  imageLimits: DEFAULT_IMAGE_LIMITS,
  generation: DEFAULT_GENERATION,
};

export interface ChatRequest {
  message: string;
  image?: Blob | null;
  session_id?: string;
  signal?: AbortSignal;
  /** Streamed text as it arrives. */
  onToken?: (event: TokenEvent & { sessionId: string; messageId: string }) => void;
  /** Called once the user's message and the empty assistant turn are saved (the UI shows them at once). */
  onSaved?: (ids: { sessionId: string; userMessage: StoredMessage | null; assistantMessage: StoredMessage }) => void;
}

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
 * Characters that show nothing: white space, format characters (zero-width space and joiners, BOM, soft
 * hyphen…) and the blank letters some fonts draw as nothing (Hangul fillers, braille blank).
 */
const INVISIBLE = /^[\p{White_Space}\p{Cf}\p{Cc}\u115f\u1160\u3164\uffa0\u2800]*$/u;

/**
 * The chat service: the in-browser equivalent of the REST API the app replaces. The UI and the tests call
 * it; it applies the conversation rules, saves before generating, and keeps partial answers.
 */
export class ChatService {
  private readonly store: SessionRepository;
  private readonly backend: () => ChatBackend;
  private readonly settings: () => ChatSettings;
  private readonly decodeCheck?: ServiceOptions['decodeCheck'];
  private readonly persistEveryMs: number;
  private readonly locks: SessionLocks;
  private readonly features?: ImageFeatureStore;
  private readonly onWarning?: (message: string) => void;
  private featuresWarned = false;

  constructor(opts: ServiceOptions) {
    this.store = opts.store;
    this.backend = opts.backend;
    this.settings = opts.settings ?? (() => DEFAULT_CHAT_SETTINGS);
    this.decodeCheck = opts.decodeCheck;
    this.persistEveryMs = opts.persistEveryMs ?? 500;
    this.locks = opts.locks ?? defaultSessionLocks();
    this.features = opts.features;
    this.onWarning = opts.onWarning;
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
  async prepareImage(blob: Blob): Promise<{ blob: Blob; hash: string; info: ImageInfo }> {
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
    const image = req.image ? await this.prepareImage(req.image) : null;

    const sessionId = req.session_id ?? (await this.store.create()).id;
    if (req.session_id !== undefined) await this.store.require(validateSessionId(req.session_id));

    return this.withSessionLock(sessionId, async () => {
      const userMessage = await this.store.append(
        sessionId,
        { role: 'user', content: makeContent(text, !!image), timestamp: nowIso(), status: 'complete' },
        image ? { blob: image.blob, hash: image.hash, width: image.info.width, height: image.info.height } : undefined,
      );
      return this.respond(sessionId, text, userMessage, req);
    });
  }

  /**
   * Regenerates the last answer and asks again. Where the store keeps versions, the new answer is another
   * version of the last one (‹ 2/2 ›); otherwise the old answer is dropped.
   */
  async regenerate(sessionId: string, opts: Omit<ChatRequest, 'message' | 'image' | 'session_id'> = {}): Promise<ChatResponse> {
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
        const [placeholder] = await this.store.replaceFrom(sessionId, answer.seq, [withNewVersion(answer, [], empty)]);
        place = (fresh) => this.store.update({ ...placeholder!, ...fresh, id: placeholder!.id });
      } else if (answer) {
        await this.store.truncate(sessionId, answer.seq);
      }
      return this.respond(sessionId, textOf(question), null, { ...opts, message: textOf(question) }, place);
    });
  }

  /** Edits the last user message (text only; its image stays) and answers it again. */
  async editLast(sessionId: string, newText: string, opts: Omit<ChatRequest, 'message' | 'image' | 'session_id'> = {}): Promise<ChatResponse> {
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
    opts: Omit<ChatRequest, 'message' | 'image' | 'session_id'> = {},
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
      return this.respond(sessionId, text, null, { ...opts, message: text });
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
    return { session_id: sessionId, history: messages.map(toChatMessage), length: messages.length };
  }

  /**
   * The stored transcript with bookkeeping (ids, status, image hashes) for the UI. A turn still marked
   * `streaming` with no tab generating it (the page was closed mid-answer) is marked `interrupted`.
   */
  async transcript(sessionId: string): Promise<StoredMessage[]> {
    await this.store.require(validateSessionId(sessionId));
    const messages = await this.store.messages(sessionId);
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
    const s = this.settings();
    return buildContext(await this.store.messages(sessionId), {
      windowSize: s.windowSize,
      systemPrompt: s.generation.systemPrompt,
      imageHash: session.imageHash,
    });
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

  /** `place` stores the empty answer (default: appended; Regenerate makes it a new version of the old one). */
  private async respond(
    sessionId: string,
    text: string,
    userMessage: StoredMessage | null,
    req: Omit<ChatRequest, 'session_id'>,
    place: (answer: NewMessage) => Promise<StoredMessage> = (answer) => this.store.append(sessionId, answer),
  ): Promise<ChatResponse> {
    const session = await this.store.require(sessionId);
    const settings = this.settings();
    const context = buildContext(await this.store.messages(sessionId), {
      windowSize: settings.windowSize,
      systemPrompt: settings.generation.systemPrompt,
      imageHash: session.imageHash,
    });
    const backend = this.backend();
    const imageRecord = context.imageHash ? await this.store.getImage(context.imageHash) : undefined;
    const features = imageRecord && this.features ? await this.features.featuresOf(imageRecord.hash).catch(() => []) : undefined;

    const assistant = await place({
      role: 'assistant',
      content: [{ type: 'text', text: '' }],
      timestamp: nowIso(),
      status: 'streaming',
      details: { model: settings.generation.model, backend: backend.id },
    });
    req.onSaved?.({ sessionId, userMessage, assistantMessage: assistant });

    let lastSaved = Date.now();
    let partial = '';
    // The latest stored revision of the answer: each write builds on it (the store refuses stale ones).
    let current = assistant;
    const save = async (patch: Partial<StoredMessage>) => {
      current = await this.store.update({ ...current, ...patch });
    };
    let saving: Promise<void> = Promise.resolve();
    const signal = req.signal ?? new AbortController().signal;
    try {
      const result = await backend.generate({
        sessionId,
        messages: context.messages,
        image: imageRecord ? { blob: imageRecord.blob, hash: imageRecord.hash } : null,
        ...(features?.length ? { features } : {}),
        settings: settings.generation,
        signal,
        onToken: (event) => {
          partial = event.full;
          req.onToken?.({ ...event, sessionId, messageId: assistant.id });
          if (Date.now() - lastSaved >= this.persistEveryMs) {
            lastSaved = Date.now();
            // Keep the partial answer on disk so a reload mid-answer loses nothing.
            const text = partial;
            saving = saving.then(() => save({ content: [{ type: 'text', text }] }).catch(() => undefined));
          }
        },
      });
      await saving;
      if (imageRecord && result.features) await this.keepFeatures(imageRecord.hash, result.features);
      await save({
        content: [{ type: 'text', text: result.text }],
        status: 'complete',
        details: { ...assistant.details, ...result.details, model: result.model, backend: backend.id },
      });
      const after = await this.store.require(sessionId);
      return {
        message: text,
        response: result.text,
        has_image: context.imageHash !== null,
        model_used: result.model,
        session_id: sessionId,
        conversation_length: after.messageCount,
      };
    } catch (err) {
      await saving;
      const aborted = isError(err, GenerationAbortedError) || signal.aborted;
      const kept =
        err instanceof GlimpseError && typeof err.data.partial === 'string' ? err.data.partial : partial;
      const { name, message } = serializeError(err);
      await save({
        content: [{ type: 'text', text: kept }],
        status: aborted ? 'stopped' : 'error',
        ...(aborted ? {} : { error: { name, message } }),
      }).catch(() => undefined);
      if (aborted && !isError(err, GenerationAbortedError)) {
        throw new GenerationAbortedError('Stopped.', { partial: kept });
      }
      throw err;
    }
  }

  /**
   * Keeps what the vision encoder computed with the picture. Only an optimisation: a failure (a full disk,
   * the storage quota) costs no message, and the user is told once.
   */
  private async keepFeatures(hash: string, f: ImageFeatures): Promise<void> {
    try {
      await this.features?.keepFeatures(hash, f);
    } catch (err) {
      if (this.featuresWarned) return;
      this.featuresWarned = true;
      this.onWarning?.(
        `Storage is full, so this picture's analysis was not saved: after a reload it will be read again (slower). ` +
          `Your messages are saved. (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }

  /** One generation per session at a time, across tabs too (Web Locks), so turns never interleave. */
  private withSessionLock<T>(sessionId: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(sessionId, fn);
  }
}
