/**
 * What the chat service offers, as types: the REST server's JSON shapes, the settings it runs with, and
 * {@link ChatApi}, the part of it the UI calls (provided to the elements through a context, so they depend on
 * this interface, not on the class or the store behind it).
 */
import { DEFAULT_GENERATION, type GenerationSettings, type TokenEvent } from './backend';
import { DEFAULT_WINDOW, type ModelContext } from './context';
import { DEFAULT_IMAGE_LIMITS, type ImageInfo, type ImageLimits } from './images';
import type { SessionChange } from './library';
import type { HistoryMessage, StoredMessage } from './messages';
import type { SessionSummary } from './repository';

/** The answer of `chat`, shaped like the REST server's POST /chat. */
export interface ChatResponse {
  message: string;
  response: string;
  has_image: boolean;
  model_used: string;
  session_id: string;
  conversation_length: number;
  /** 'length': the answer was cut at the token limit (Continue goes on); 'stop': the model ended it. */
  finish_reason?: 'stop' | 'length';
}

/** GET /chat/history/{id} */
export interface HistoryResponse {
  session_id: string;
  history: HistoryMessage[];
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
  /**
   * Runs the turn once the session's lock is held (default: at once). The REST API waits for its generation
   * queue here, so a turn waiting for the lock (another instance answering the session) never holds the model.
   */
  whenLocked?: (turn: () => Promise<ChatResponse>) => Promise<ChatResponse>;
  /**
   * Stops waiting for the session's lock when it aborts: nothing is saved, and the call rejects with
   * GenerationAbortedError. The REST API passes its client's signal; the page leaves it unset, so a question
   * stopped while another tab answers is still saved (its answer marked stopped).
   */
  waitSignal?: AbortSignal;
}

/** The options of a turn answered again (regenerate, edit): a request without its own message or image. */
export type TurnOptions = Omit<ChatRequest, 'message' | 'image' | 'session_id'>;

/** An image checked and ready to store. */
export interface PreparedImage {
  blob: Blob;
  hash: string;
  info: ImageInfo;
}

/** A chat as the UI shows it: the transcript, what the model would see now, and the image in its context. */
export interface ConversationView {
  messages: StoredMessage[];
  context: ModelContext;
  /** The hash of the one image in the model's context, or null. */
  contextImage: string | null;
}

/** A stored picture, with the size its token cost is worked out from. */
export interface Picture {
  hash: string;
  blob: Blob;
  width: number;
  height: number;
}

/** The chat service as the UI uses it (src/chat/service.ts implements it). */
export interface ChatApi {
  /** Checks a message without saving it; throws the named error the UI shows. */
  validateMessage(message: string, allowEmpty?: boolean): string;
  /** Checks an image without saving it. */
  prepareImage(blob: Blob): Promise<PreparedImage>;
  chat(req: ChatRequest): Promise<ChatResponse>;
  regenerate(sessionId: string, opts?: TurnOptions): Promise<ChatResponse>;
  /** Continue: the last answer, cut at the token limit or stopped, goes on where it ended (same message). */
  continueAnswer(sessionId: string, opts?: TurnOptions): Promise<ChatResponse>;
  /** Whether Continue can extend this answer with the backend in use. */
  canContinue(message: StoredMessage): boolean;
  editMessage(sessionId: string, messageId: string, newText: string, opts?: TurnOptions): Promise<ChatResponse>;
  selectVersion(sessionId: string, messageId: string, index: number): Promise<StoredMessage[]>;
  /** The chat as shown: transcript, model context and image in context, in one read. */
  conversation(sessionId: string): Promise<ConversationView>;
  /** What the model would see of `messages` with `contextImage` in context (no store read). */
  contextOf(messages: readonly StoredMessage[], contextImage: string | null): ModelContext;
  /** A picture of a chat; undefined when it is not stored. */
  picture(hash: string): Promise<Picture | undefined>;
  /** Takes the image out of the model's context (the transcript keeps it); resolves with its hash, for Undo. */
  removeContextImage(sessionId: string): Promise<string | null>;
  /** Makes one of this chat's pictures the image in the model's context (Undo, “Ask about this again”). */
  setContextImage(sessionId: string, hash: string): Promise<void>;
  /** Calls `listener` on every change to the stored chats (this tab's and others'); returns the unsubscribe. */
  subscribe(listener: (change: SessionChange) => void): () => void;
}
