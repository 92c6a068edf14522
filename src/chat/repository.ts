/**
 * The contract every session store keeps, and the record rules they share. The chat service depends on
 * {@link SessionRepository} only, so the same conversation rules run over IndexedDB in the browser
 * (SessionStore, src/storage/sessions.ts) and over files in the headless REST server (src/server/store.ts).
 * Nothing here touches a database.
 */
import type { ImageFeatures } from './features';
import { hasImagePart, nowIso, textOf, type BranchTurn, type StoredMessage } from './messages';
import { branchImages } from './versions';
import { InvalidSessionIdError, SessionNotFoundError, StaleWriteError } from '../errors';
import { SESSION_ID_PATTERN } from './ids';

export interface SessionRecord {
  id: string;
  title: string;
  /** True once the user renamed it: automatic titles no longer overwrite it. */
  customTitle: boolean;
  createdAt: string;
  updatedAt: string;
  messageCount: number;
  /** Next message seq (dense, never reused within a transcript). */
  nextSeq: number;
  /** Content hash of the one image in the model's context, or null. */
  imageHash: string | null;
  /** A short preview of the last message, for the session list. */
  preview: string;
}

export interface ImageRecord {
  hash: string;
  blob: Blob;
  type: string;
  size: number;
  width?: number;
  height?: number;
  createdAt: string;
  /** The vision encoder's output for this picture, per encoder (optional: recomputable, not exported). */
  features?: ImageFeatures[];
}

/** One row of the session list. */
export interface SessionSummary {
  id: string;
  title: string;
  updated_at: string;
  created_at: string;
  message_count: number;
  has_image: boolean;
  preview: string;
}

/** A new message before the store gives it a seq and id. */
export type NewMessage = Omit<StoredMessage, 'id' | 'seq' | 'sessionId' | 'imageHash'> & { id?: string };

/** A turn written by replaceFrom: a branch turn, with the id it keeps (the first one; others get new ids). */
export type NewTurn = BranchTurn & { id?: string };

export interface NewImage {
  blob: Blob;
  hash: string;
  width?: number;
  height?: number;
}

/**
 * What the chat service needs from storage. Every method that names a session rejects with
 * SessionNotFoundError when it does not exist (messages() returns [] instead), and with
 * InvalidSessionIdError for a malformed id. Each write is all or nothing.
 */
export interface SessionRepository {
  /** A new empty session: a random UUID, or the id given (InvalidSessionIdError if it exists). */
  create(opts?: { id?: string; title?: string }): Promise<SessionRecord>;
  get(id: string): Promise<SessionRecord | undefined>;
  /** The session, or a SessionNotFoundError naming the id. */
  require(id: string): Promise<SessionRecord>;
  /** All sessions, most recently updated first. */
  list(): Promise<SessionSummary[]>;
  /** How many sessions there are, without reading them (the REST API's `glimpse_sessions` gauge, each scrape). */
  count(): Promise<number>;
  /** The full transcript, oldest first. */
  messages(id: string): Promise<StoredMessage[]>;
  getImage(hash: string): Promise<ImageRecord | undefined>;
  /** Appends a message (and its image, deduplicated by hash); an image becomes the session's image in context. */
  append(sessionId: string, message: NewMessage, image?: NewImage): Promise<StoredMessage>;
  /**
   * Rewrites a stored message (streamed text, final status) and returns it with its next revision. Refused
   * with StaleWriteError when `message.rev` is not the stored revision (someone rewrote it since it was read).
   */
  update(message: StoredMessage): Promise<StoredMessage>;
  /** Deletes the messages with seq ≥ fromSeq; the image in context falls back to the latest one left. */
  truncate(sessionId: string, fromSeq: number): Promise<void>;
  /** Removes every message and the image in context; the session stays. Returns how many were removed. */
  clear(sessionId: string): Promise<number>;
  /**
   * Replaces the messages from `fromSeq` on by `turns`, in one write (a turn answered again or edited keeps its
   * other versions; showing another version swaps the turns after it). Seqs run on from `fromSeq`; a turn
   * keeps its `id` when given, the others get new ones. Pictures the turns refer to (directly or in their
   * versions) must be stored already and stay; pictures only the replaced messages referred to are deleted.
   * The image in context follows the turns (see afterReplace). Optional: without it the chat service offers
   * no versions (editing the last question and regenerating then overwrite, as before).
   */
  replaceFrom?(sessionId: string, fromSeq: number, turns: NewTurn[]): Promise<StoredMessage[]>;
  /**
   * Sets or removes (null) the image in the model's context without touching the transcript. Optional: the
   * chat service's image-in-context actions (the UI's remove, Undo and “Ask about this again”) need it.
   */
  setContextImage?(sessionId: string, hash: string | null): Promise<void>;
}

export const DEFAULT_TITLE = 'New chat';
const TITLE_MAX = 60;

export function validateSessionId(id: string): string {
  if (typeof id !== 'string' || !SESSION_ID_PATTERN.test(id)) {
    throw new InvalidSessionIdError(
      `“${String(id).slice(0, 40)}” is not a valid session id (letters, digits, - _ . : and at most 128 characters).`,
      { id: String(id).slice(0, 200) },
    );
  }
  return id;
}

/** The message as the next revision of `existing`, or StaleWriteError when it was built on an older read. */
export function nextRevision(existing: StoredMessage, message: StoredMessage): StoredMessage {
  const stored = existing.rev ?? 0;
  if ((message.rev ?? 0) !== stored) {
    throw new StaleWriteError('This message was changed since it was read; the older change was not saved.', {
      id: message.id, rev: message.rev ?? 0, stored,
    });
  }
  return { ...message, rev: stored + 1 };
}

export function sessionNotFound(id: string): SessionNotFoundError {
  return new SessionNotFoundError(`There is no chat with id “${id}”. It may have been deleted.`, { id });
}

export function titleFrom(text: string): string {
  const line = text.trim().replace(/\s+/g, ' ');
  return line.length > TITLE_MAX ? `${line.slice(0, TITLE_MAX - 1)}…` : line || DEFAULT_TITLE;
}

/** A fresh session record. */
export function newSessionRecord(id: string, title?: string): SessionRecord {
  const now = nowIso();
  return {
    id,
    title: title?.trim() ? titleFrom(title) : DEFAULT_TITLE,
    customTitle: !!title?.trim(),
    createdAt: now,
    updatedAt: now,
    messageCount: 0,
    nextSeq: 0,
    imageHash: null,
    preview: '',
  };
}

export function summarize(s: SessionRecord): SessionSummary {
  return {
    id: s.id,
    title: s.title,
    updated_at: s.updatedAt,
    created_at: s.createdAt,
    message_count: s.messageCount,
    has_image: s.imageHash !== null,
    preview: s.preview,
  };
}

export function preview(m: StoredMessage): string {
  const text = textOf(m).trim().replace(/\s+/g, ' ');
  if (text) return text.slice(0, 120);
  return hasImagePart(m) ? '[image]' : '';
}

/** Updates the list preview and, until the user renames it, the automatic title from the first user turn. */
export function touchSummary(session: SessionRecord, m: StoredMessage): void {
  session.preview = preview(m);
  if (!session.customTitle && session.title === DEFAULT_TITLE && m.role === 'user') {
    const text = textOf(m);
    if (text.trim()) session.title = titleFrom(text);
    else if (hasImagePart(m)) session.title = 'Image chat';
  }
}

/**
 * The session record after its messages from some seq on were removed (edit and regenerate of the last
 * turn): counts, the image in context (back to the latest remaining one if its message went), the preview.
 * Returns the image hashes the removed messages referred to, for orphan clean-up.
 */
export function afterTruncate(session: SessionRecord, fromSeq: number, removed: StoredMessage[], remaining: StoredMessage[]): Set<string> {
  session.messageCount = remaining.length;
  session.nextSeq = fromSeq;
  const removedHashes = new Set(removed.flatMap(imagesOf));
  if (session.imageHash && removedHashes.has(session.imageHash)) {
    session.imageHash = [...remaining].reverse().find((m) => m.imageHash)?.imageHash ?? null;
  }
  const last = remaining[remaining.length - 1];
  session.preview = last ? preview(last) : '';
  session.updatedAt = nowIso();
  return removedHashes;
}

/** Every picture a stored message refers to: the one it sent, and those in its versions' branches. */
export function imagesOf(m: Pick<StoredMessage, 'imageHash' | 'branchImages'>): string[] {
  return [...(m.imageHash ? [m.imageHash] : []), ...(m.branchImages ?? [])];
}

/** The message as stored: `branchImages` worked out from its versions (absent when there are none). */
export function withBranchImages<T extends Pick<StoredMessage, 'versions' | 'branchImages'>>(m: T): T {
  const { branchImages: _old, ...rest } = m;
  const found = branchImages(m.versions);
  return (found.length ? { ...rest, branchImages: found } : rest) as T;
}

/** A turn written by replaceFrom as the stored message at `seq` (its id kept, its revision after `before`'s). */
export function placeTurn(turn: NewTurn, sessionId: string, seq: number, before: StoredMessage | undefined): StoredMessage {
  const id = turn.id ?? crypto.randomUUID();
  const rev = before?.id === id ? (before.rev ?? 0) + 1 : 0;
  return withBranchImages({ ...structuredClone(turn), id, sessionId, seq, rev });
}

/**
 * The session record after replaceFrom: counts, preview, and the image in context. Turns that send a
 * picture make the latest one sent the image in context (a branch where another photo was sent brings it
 * back); otherwise it stays, unless no message sends it any more (then the latest one left, as a truncate).
 * Returns the pictures the replaced messages referred to, for orphan clean-up.
 */
export function afterReplace(
  session: SessionRecord,
  fromSeq: number,
  remaining: StoredMessage[],
  added: StoredMessage[],
  removed: StoredMessage[],
): Set<string> {
  const transcript = [...remaining, ...added];
  session.messageCount = transcript.length;
  session.nextSeq = fromSeq + added.length;
  const latest = [...transcript].reverse().find((m) => m.imageHash)?.imageHash ?? null;
  if (added.some((m) => m.imageHash)) session.imageHash = latest;
  else if (session.imageHash && !transcript.some((m) => m.imageHash === session.imageHash)) session.imageHash = latest;
  const last = transcript.at(-1);
  session.preview = last ? preview(last) : '';
  session.updatedAt = nowIso();
  return new Set(removed.flatMap(imagesOf));
}
