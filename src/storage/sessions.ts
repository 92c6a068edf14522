import { withFeatures, type ImageFeatures, type ImageFeatureStore } from '../chat/features';
import { nowIso, textOf, type StoredMessage } from '../chat/messages';
import type { SessionChange, SessionLibrary } from '../chat/library';
import { InvalidSessionIdError, SessionNotFoundError } from '../errors';
import { openDatabase, type Database } from './db';
import type { ImageRecord, SessionRecord } from './schema';
import { dropOrphans, guard, write } from './session-writes';
import { exportSessions, importPrepared, type ChatArchive, type ImportCounts } from './session-transfer';
import type { ExportFile, PreparedImport } from './transfer';
import {
  afterReplace,
  afterTruncate,
  DEFAULT_TITLE,
  imagesOf,
  newSessionRecord,
  nextRevision,
  placeTurn,
  sessionNotFound as notFound,
  summarize,
  titleFrom,
  touchSummary,
  validateSessionId,
  withBranchImages,
  type NewImage,
  type NewMessage,
  type NewTurn,
  type SessionRepository,
  type SessionSummary,
} from '../chat/repository';

export type { SessionRecord } from './schema';
export { DEFAULT_TITLE, validateSessionId } from '../chat/repository';
export type { NewImage, NewMessage, SessionRepository, SessionSummary } from '../chat/repository';

export type { ChatArchive, ImportCounts } from './session-transfer';
/** A change announced on the store's `change` event (see SessionChange). */
export type StoreChange = SessionChange;

const CHANNEL = 'glimpse-sessions';

/**
 * Sessions, their transcripts and their images, in IndexedDB. The only module (with db.ts) that talks to
 * the database. Every multi-store change runs in one transaction, so a failure (quota, crash) leaves the
 * data exactly as it was. Changes are announced on `change` events here and to other tabs through a
 * BroadcastChannel.
 */
export class SessionStore extends EventTarget implements SessionRepository, SessionLibrary, ChatArchive, ImageFeatureStore {
  private readonly channel: BroadcastChannel | null;

  private constructor(private readonly db: Database, name: string) {
    super();
    this.channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(`${CHANNEL}:${name}`) : null;
    this.channel?.addEventListener('message', (e: MessageEvent<StoreChange>) => {
      this.dispatchEvent(new CustomEvent<StoreChange & { remote: boolean }>('change', { detail: { ...e.data, remote: true } }));
    });
  }

  static async open(name?: string): Promise<SessionStore> {
    const db = await openDatabase(name);
    return new SessionStore(db, db.name);
  }

  close(): void {
    this.channel?.close();
    this.db.close();
  }

  private emit(change: StoreChange): void {
    this.dispatchEvent(new CustomEvent<StoreChange & { remote: boolean }>('change', { detail: { ...change, remote: false } }));
    this.channel?.postMessage(change);
  }

  async create(opts: { id?: string; title?: string } = {}): Promise<SessionRecord> {
    const id = opts.id === undefined ? crypto.randomUUID() : validateSessionId(opts.id);
    const record = newSessionRecord(id, opts.title);
    await write(this.db, ['sessions'], async (tx) => {
      if (await tx.objectStore('sessions').get(id)) {
        throw new InvalidSessionIdError(`A session with id “${id}” already exists.`, { id });
      }
      await tx.objectStore('sessions').add(record);
    });
    this.emit({ kind: 'created', sessionId: id });
    return record;
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    validateSessionId(id);
    return guard(() => this.db.get('sessions', id));
  }

  /** The session, or a SessionNotFoundError naming the id. */
  async require(id: string): Promise<SessionRecord> {
    const s = await this.get(id);
    if (!s) throw notFound(id);
    return s;
  }

  /** All sessions, most recently updated first. */
  async list(): Promise<SessionSummary[]> {
    const all = await guard(() => this.db.getAllFromIndex('sessions', 'by-updated'));
    return all.reverse().map(summarize);
  }

  /** How many sessions there are (IDB count(): no record is read). */
  async count(): Promise<number> {
    return guard(() => this.db.count('sessions'));
  }

  /** The full transcript, oldest first. */
  async messages(id: string): Promise<StoredMessage[]> {
    validateSessionId(id);
    return guard(() =>
      this.db.getAll('messages', IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER])),
    );
  }

  async getImage(hash: string): Promise<ImageRecord | undefined> {
    return guard(() => this.db.get('images', hash));
  }

  async featuresOf(hash: string): Promise<ImageFeatures[]> {
    return (await this.getImage(hash))?.features ?? [];
  }

  /** Kept inside the image's record, so they go with the picture when its last message is deleted. */
  async keepFeatures(hash: string, features: ImageFeatures): Promise<void> {
    await write(this.db, ['images'], async (tx) => {
      const images = tx.objectStore('images');
      const record = await images.get(hash);
      if (!record) return;
      await images.put({ ...record, features: withFeatures(record.features ?? [], features) });
    });
  }

  /**
   * Appends a message (and its image, deduplicated by hash) in one transaction. A message with an image
   * makes that image the session's image in context.
   */
  async append(sessionId: string, message: NewMessage, image?: NewImage): Promise<StoredMessage> {
    const saved = await write(this.db, ['sessions', 'messages', 'images'], async (tx) => {
      const session = await tx.objectStore('sessions').get(sessionId);
      if (!session) {
        throw notFound(sessionId);
      }
      const stored: StoredMessage = withBranchImages({
        ...message,
        id: message.id ?? crypto.randomUUID(),
        sessionId,
        seq: session.nextSeq,
      });
      if (image) {
        stored.imageHash = image.hash;
        const images = tx.objectStore('images');
        if (!(await images.getKey(image.hash))) {
          await images.put({
            hash: image.hash,
            blob: image.blob,
            type: image.blob.type,
            size: image.blob.size,
            width: image.width,
            height: image.height,
            createdAt: stored.timestamp,
          });
        }
        session.imageHash = image.hash;
      }
      await tx.objectStore('messages').add(stored);
      session.nextSeq += 1;
      session.messageCount += 1;
      session.updatedAt = nowIso();
      touchSummary(session, stored);
      await tx.objectStore('sessions').put(session);
      return stored;
    });
    this.emit({ kind: 'messages', sessionId });
    return saved;
  }

  /** Rewrites a stored message (streamed text, final status); refuses a write built on an old read. */
  async update(message: StoredMessage): Promise<StoredMessage> {
    const saved = await write(this.db, ['sessions', 'messages', 'images'], async (tx) => {
      const session = await tx.objectStore('sessions').get(message.sessionId);
      const existing = await tx.objectStore('messages').get([message.sessionId, message.seq]);
      if (!session || !existing || existing.id !== message.id) {
        throw new SessionNotFoundError('This message no longer exists (the chat was cleared or deleted).', {
          id: message.sessionId,
        });
      }
      const next = withBranchImages(nextRevision(existing, message));
      await tx.objectStore('messages').put(next);
      session.updatedAt = nowIso();
      touchSummary(session, next);
      await tx.objectStore('sessions').put(session);
      // Versions dropped: the pictures only they referred to go (others keep theirs, shared by hash).
      const kept = new Set(imagesOf(next));
      await dropOrphans(tx.objectStore('images'), tx.objectStore('messages'), new Set(imagesOf(existing).filter((h) => !kept.has(h))));
      return { next, row: summarize(session) };
    });
    // The message and the session's new row go with the event: views swap them in without reading again.
    this.emit({ kind: 'messages', sessionId: message.sessionId, message: saved.next, session: saved.row });
    return saved.next;
  }

  /** Deletes the messages with seq ≥ fromSeq (edit and regenerate of the last turn). */
  async truncate(sessionId: string, fromSeq: number): Promise<void> {
    await write(this.db, ['sessions', 'messages', 'images'], async (tx) => {
      const session = await tx.objectStore('sessions').get(sessionId);
      if (!session) {
        throw notFound(sessionId);
      }
      const range = IDBKeyRange.bound([sessionId, fromSeq], [sessionId, Number.MAX_SAFE_INTEGER]);
      const removed = await tx.objectStore('messages').getAll(range);
      await tx.objectStore('messages').delete(range);
      // (An empty range cannot be a key range: from the first message on, nothing remains before it.)
      const remaining = fromSeq > 0 ? await tx.objectStore('messages').getAll(IDBKeyRange.bound([sessionId, 0], [sessionId, fromSeq], false, true)) : [];
      const removedHashes = afterTruncate(session, fromSeq, removed, remaining);
      await tx.objectStore('sessions').put(session);
      await dropOrphans(tx.objectStore('images'), tx.objectStore('messages'), removedHashes);
    });
    this.emit({ kind: 'messages', sessionId });
  }

  /** Replaces the messages from `fromSeq` on (versions: a new answer or edit, another version shown), in one transaction. */
  async replaceFrom(sessionId: string, fromSeq: number, turns: NewTurn[]): Promise<StoredMessage[]> {
    const added = await write(this.db, ['sessions', 'messages', 'images'], async (tx) => {
      const session = await tx.objectStore('sessions').get(sessionId);
      if (!session) {
        throw notFound(sessionId);
      }
      const messages = tx.objectStore('messages');
      const range = IDBKeyRange.bound([sessionId, fromSeq], [sessionId, Number.MAX_SAFE_INTEGER]);
      const removed = await messages.getAll(range);
      await messages.delete(range);
      const placed = turns.map((t, i) => placeTurn(t, sessionId, fromSeq + i, removed[i]));
      for (const m of placed) await messages.add(m);
      // (An empty range cannot be a key range: from the first message on, nothing remains before it.)
      const remaining = fromSeq > 0 ? await messages.getAll(IDBKeyRange.bound([sessionId, 0], [sessionId, fromSeq], false, true)) : [];
      const hashes = afterReplace(session, fromSeq, remaining, placed, removed);
      await tx.objectStore('sessions').put(session);
      await dropOrphans(tx.objectStore('images'), messages, hashes);
      return placed;
    });
    this.emit({ kind: 'messages', sessionId });
    return added;
  }

  /** Removes every message and the image in context; the session itself stays. */
  async clear(sessionId: string): Promise<number> {
    const removed = await this.removeMessages(sessionId, false);
    this.emit({ kind: 'cleared', sessionId });
    return removed;
  }

  async delete(sessionId: string): Promise<void> {
    await this.removeMessages(sessionId, true);
    this.emit({ kind: 'deleted', sessionId });
  }

  async rename(sessionId: string, title: string): Promise<SessionRecord> {
    const clean = title.trim();
    const s = await write(this.db, ['sessions'], async (tx) => {
      const session = await tx.objectStore('sessions').get(sessionId);
      if (!session) {
        throw notFound(sessionId);
      }
      session.title = clean ? titleFrom(clean) : DEFAULT_TITLE;
      session.customTitle = !!clean;
      await tx.objectStore('sessions').put(session);
      return session;
    });
    this.emit({ kind: 'renamed', sessionId });
    return s;
  }

  /** Sessions (all, or the given ids) with their images, as an export file's content. */
  exportSessions(ids?: string[]): Promise<ExportFile> {
    return exportSessions(this, this.db, ids);
  }

  /**
   * Writes a validated import in one transaction (all or nothing). A session whose id already exists with
   * the same history is skipped, so importing a file twice does not duplicate; a different session under an
   * existing id is imported under a new id.
   */
  async importPrepared(prepared: PreparedImport): Promise<ImportCounts> {
    const { changed, ...counts } = await importPrepared(this.db, prepared);
    for (const id of changed) this.emit({ kind: 'created', sessionId: id });
    return counts;
  }

  /**
   * The first message of each session whose text contains `query` (case-insensitive), in one pass over the
   * messages store (sidebar search across tens of thousands of messages).
   */
  async searchMessages(query: string): Promise<Map<string, string>> {
    const needle = query.toLowerCase();
    const found = new Map<string, string>();
    if (!needle) return found;
    // Batched reads: one getAll per 2,000 messages is far faster than a cursor step per message.
    const BATCH = 2000;
    let after: [string, number] | null = null;
    for (;;) {
      const range: IDBKeyRange | undefined = after ? IDBKeyRange.lowerBound(after, true) : undefined;
      const batch: StoredMessage[] = await guard(() => this.db.getAll('messages', range, BATCH));
      for (const m of batch) {
        if (found.has(m.sessionId)) continue;
        const text = textOf(m);
        if (text.toLowerCase().includes(needle)) found.set(m.sessionId, text);
      }
      if (batch.length < BATCH) return found;
      const last = batch[batch.length - 1]!;
      after = [last.sessionId, last.seq];
    }
  }

  /** Small app state (settings, the last open session), kept with the data it belongs to. */
  async getMeta<T>(key: string): Promise<T | undefined> {
    return guard(async () => (await this.db.get('meta', key)) as T | undefined);
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    await guard(() => this.db.put('meta', value, key));
  }

  /** Sets or removes (null) the image in the model's context without touching the transcript. */
  async setContextImage(sessionId: string, hash: string | null): Promise<void> {
    await write(this.db, ['sessions'], async (tx) => {
      const session = await tx.objectStore('sessions').get(sessionId);
      if (!session) {
        throw notFound(sessionId);
      }
      session.imageHash = hash;
      await tx.objectStore('sessions').put(session);
    });
    this.emit({ kind: 'updated', sessionId });
  }

  private async removeMessages(sessionId: string, deleteSession: boolean): Promise<number> {
    validateSessionId(sessionId);
    return write(this.db, ['sessions', 'messages', 'images'], async (tx) => {
      const sessions = tx.objectStore('sessions');
      const session = await sessions.get(sessionId);
      if (!session) {
        throw notFound(sessionId);
      }
      const messages = tx.objectStore('messages');
      const range = IDBKeyRange.bound([sessionId, 0], [sessionId, Number.MAX_SAFE_INTEGER]);
      const removed = await messages.getAll(range);
      await messages.delete(range);
      if (deleteSession) {
        await sessions.delete(sessionId);
      } else {
        Object.assign(session, { messageCount: 0, nextSeq: 0, imageHash: null, preview: '', updatedAt: nowIso() });
        await sessions.put(session);
      }
      const hashes = new Set(removed.flatMap(imagesOf));
      await dropOrphans(tx.objectStore('images'), messages, hashes);
      return removed.length;
    });
  }
}
