/**
 * Message shapes. A message is exactly what SmolVLM's chat template reads: a role and an array of content
 * parts (`{type:'image'}` or `{type:'text', text}`), plus an ISO-8601 timestamp. These are the JSON shapes
 * of the REST server Glimpse replaces (POST /chat, GET /chat/history/{id}, ...).
 */

export type Role = 'user' | 'assistant' | 'system';

export interface ImagePart {
  type: 'image';
}
export interface TextPart {
  type: 'text';
  text: string;
}
export type ContentPart = ImagePart | TextPart;

/** A message as the model's processor and the history API see it. */
export interface ChatMessage {
  role: Role;
  content: ContentPart[];
  /** ISO-8601, e.g. 2026-11-21T23:35:19.000Z */
  timestamp: string;
}

/**
 * How a stored message ended. `complete` is the normal case; the others keep whatever text was produced so
 * nothing is ever silently dropped.
 */
export type MessageStatus = 'complete' | 'streaming' | 'stopped' | 'error' | 'interrupted';

/** Per-reply details shown under an assistant turn. */
export interface ReplyDetails {
  model: string;
  backend: string;
  device?: string;
  tokens?: number;
  tokensPerSecond?: number;
  timeToFirstTokenMs?: number;
  totalMs?: number;
  imageTokens?: number;
  /** Prompt tokens, and how many of them came from the KV cache (the headless server reports these). */
  promptTokens?: number;
  cachedTokens?: number;
  /** False when the image was already in the KV cache. */
  visionRan?: boolean;
  /** True when the picture's kept features were fed instead of running the vision encoder. */
  featuresReused?: boolean;
  /** A sampled answer's temperature and seed (absent for a greedy one: it is the same every time). */
  temperature?: number;
  seed?: number;
  /**
   * Why the answer ended, as OpenAI's finish_reason: 'stop' when the model ended it, 'length' when it was cut
   * at the token limit (or the model's context) and can be continued. Absent on older answers.
   */
  finishReason?: 'stop' | 'length';
  /** Times Continue extended this answer (absent = 0). */
  continued?: number;
}

/** A message as it is stored in a session: the chat shape plus bookkeeping. */
export interface StoredMessage extends ChatMessage {
  /** Stable id (UUID) so the UI can key, edit and regenerate messages. */
  id: string;
  sessionId: string;
  /** Position in the transcript, 0-based and dense. */
  seq: number;
  /** Content hash of the image this message carried, when its content has an image part. */
  imageHash?: string;
  status?: MessageStatus;
  /** For status `error`: what went wrong, in words for a person. */
  error?: { name: string; message: string };
  /**
   * How many times the message was rewritten (absent = 0). An update carries the revision it read and the
   * store refuses it when the stored one has moved on, so a stale write never undoes a newer one.
   */
  rev?: number;
  details?: ReplyDetails;
  /**
   * The other versions of this turn (‹ 1/2 ›), in order, the shown one not included: earlier answers
   * (Regenerate) or the user's text before an edit, each with the turns that followed it (src/chat/versions.ts).
   */
  versions?: MessageVersion[];
  /** Where the shown version sits among all of them, 0-based (absent: last). */
  version?: number;
  /** The pictures the versions' branches refer to (kept by the store, so they are not deleted while referred to). */
  branchImages?: string[];
}

/** Another version of a turn and the conversation that followed it. */
export interface MessageVersion {
  content: ContentPart[];
  timestamp: string;
  status?: MessageStatus;
  error?: { name: string; message: string };
  details?: ReplyDetails;
  /** The turns that followed this version, oldest first (a branch). */
  following?: BranchTurn[];
}

/** A turn kept in a branch: a stored message without its place in a transcript. */
export type BranchTurn = Omit<StoredMessage, 'id' | 'sessionId' | 'seq' | 'rev' | 'branchImages'>;

export const nowIso = (): string => new Date().toISOString();

export function textOf(message: Pick<ChatMessage, 'content'>): string {
  return message.content
    .filter((p): p is TextPart => p.type === 'text')
    .map((p) => p.text)
    .join('');
}

/**
 * An answer the token limit ended (the model had more to say): complete, with finishReason 'length'. One
 * stopped during Continue keeps the details of the part before it, so its status decides.
 */
export function isCutOff(m: { role: Role; status?: string; details?: { finishReason?: string } }): boolean {
  return m.role === 'assistant' && (m.status ?? 'complete') === 'complete' && m.details?.finishReason === 'length';
}

export function hasImagePart(message: Pick<ChatMessage, 'content'>): boolean {
  return message.content.some((p) => p.type === 'image');
}

/** Builds a message's content: the image part first (as SmolVLM's examples do), then the text. */
export function makeContent(text: string, withImage: boolean): ContentPart[] {
  const parts: ContentPart[] = [];
  if (withImage) parts.push({ type: 'image' });
  if (text.length > 0) parts.push({ type: 'text', text });
  return parts;
}

/** The public (API) view of a stored message: only the documented JSON fields. */
export function toChatMessage(m: StoredMessage): ChatMessage {
  return { role: m.role, content: m.content.map((p) => ({ ...p })), timestamp: m.timestamp };
}

/**
 * A message in GET /chat/history: the chat shape, plus `status` when it did not complete (an answer that
 * failed, was stopped, or was cut by a restart) and, for a failure, `error` ({code, message}).
 */
export interface HistoryMessage extends ChatMessage {
  status?: Exclude<MessageStatus, 'complete'>;
  error?: { code: string; message: string };
  /** 'length' on an answer cut at the token limit (it can be continued). */
  finish_reason?: 'length';
}

export function toHistoryMessage(m: StoredMessage): HistoryMessage {
  const out: HistoryMessage = toChatMessage(m);
  if (m.status && m.status !== 'complete') out.status = m.status;
  if (m.status === 'error' && m.error) out.error = { code: m.error.name, message: m.error.message };
  if (isCutOff(m)) out.finish_reason = 'length';
  return out;
}
