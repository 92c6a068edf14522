/**
 * Sessions in PostgreSQL for the REST API (DATABASE_URL): the same {@link SessionRepository} contract as the
 * file store and IndexedDB, shared by every API instance on the database.
 *
 *   glimpse_sessions        id, updated_at (the list order), the SessionRecord as JSON
 *   glimpse_messages        (session_id, seq), id, rev, image_hash, the StoredMessage as JSON
 *   glimpse_images          hash (SHA-256), type, size, width, height, the bytes (bytea): once per picture
 *   glimpse_image_features  (hash, key): the vision encoder's output, deleted with its picture (cascade)
 *   glimpse_branch_images   (session_id, seq, hash): the pictures a message's versions refer to (messages.ts)
 *
 * Each write is one transaction on one client that first locks the session's row (SELECT … FOR UPDATE),
 * so writes to a session from several instances queue instead of losing one another; then the pictures it
 * touches (images.ts), all at once.
 */
import pg from 'pg';
import type { PoolClient } from 'pg';
import type { ImageFeatures, ImageFeatureStore } from '../../chat/features';
import { nowIso, type StoredMessage } from '../../chat/messages';
import { InvalidSessionIdError, SessionNotFoundError, StorageUnavailableError } from '../../errors';
import {
  afterReplace,
  afterTruncate,
  DEFAULT_TITLE,
  imagesOf,
  newSessionRecord,
  nextRevision,
  placeTurn,
  sessionNotFound,
  summarize,
  titleFrom,
  touchSummary,
  validateSessionId,
  withBranchImages,
  type ImageRecord,
  type NewImage,
  type NewMessage,
  type NewTurn,
  type SessionRecord,
  type SessionRepository,
  type SessionSummary,
} from '../../chat/repository';
import { checkHash, dropOrphans, HASH, insertImage, lockImages, readFeatures, readImage, writeFeatures } from './images';
import { deleteMessages, insertMessage, readMessage, readMessages, rewriteMessage } from './messages';
import { migrate } from './migrations';
import { DatabaseOpenError, poolConfig, quoteIdent, storageError, type PgStoreOptions } from './pool';

export { DatabaseOpenError, poolConfig, quoteIdent, type PgStoreOptions } from './pool';

export class PgSessionStore implements SessionRepository, ImageFeatureStore {
  /** Problems found at open (none for PostgreSQL: kept for the server's log, like the file store). */
  readonly warnings: string[] = [];
  private closed = false;

  private constructor(readonly pool: pg.Pool) {}

  /** Connects, creates the schema if asked, and runs the migrations the database lacks. */
  static async open(opts: PgStoreOptions): Promise<PgSessionStore> {
    try {
      return await PgSessionStore.connect(opts);
    } catch (err) {
      throw new DatabaseOpenError(err instanceof Error ? err.message : String(err), { cause: err });
    }
  }

  private static async connect(opts: PgStoreOptions): Promise<PgSessionStore> {
    if (opts.schema) {
      const admin = new pg.Client({ connectionString: opts.connectionString });
      await admin.connect();
      try {
        await admin.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(opts.schema)}`);
      } finally {
        await admin.end();
      }
    }
    const pool = new pg.Pool(poolConfig(opts));
    // An idle client that loses its server (a restart) must not crash the process: the pool drops it.
    pool.on('error', () => undefined);
    const store = new PgSessionStore(pool);
    const client = await pool.connect();
    try {
      await migrate(client);
    } catch (err) {
      client.release();
      await pool.end();
      throw err;
    }
    client.release();
    return store;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /** Runs `fn` in one transaction on one client: all of it is saved, or none of it. */
  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw new StorageUnavailableError('The session store is closed.');
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw storageError(err);
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw storageError(err);
    } finally {
      client.release(broken);
    }
  }

  private async read<T>(fn: (q: pg.Pool) => Promise<T>): Promise<T> {
    if (this.closed) throw new StorageUnavailableError('The session store is closed.');
    try {
      return await fn(this.pool);
    } catch (err) {
      throw storageError(err);
    }
  }

  /** The session's record, its row locked until the transaction ends (writers to one session queue here). */
  private async lockSession(c: PoolClient, id: string): Promise<SessionRecord> {
    const { rows } = await c.query<{ record: string }>('SELECT record FROM glimpse_sessions WHERE id = $1 FOR UPDATE', [id]);
    if (!rows[0]) throw sessionNotFound(id);
    return JSON.parse(rows[0].record) as SessionRecord;
  }

  private async saveSession(c: PoolClient, s: SessionRecord): Promise<void> {
    await c.query('UPDATE glimpse_sessions SET updated_at = $2, record = $3 WHERE id = $1', [s.id, s.updatedAt, JSON.stringify(s)]);
  }

  async create(opts: { id?: string; title?: string } = {}): Promise<SessionRecord> {
    const id = opts.id === undefined ? crypto.randomUUID() : validateSessionId(opts.id);
    const session = newSessionRecord(id, opts.title);
    return this.tx(async (c) => {
      const { rowCount } = await c.query(
        'INSERT INTO glimpse_sessions (id, updated_at, record) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING',
        [id, session.updatedAt, JSON.stringify(session)],
      );
      if (rowCount === 0) throw new InvalidSessionIdError(`A session with id “${id}” already exists.`, { id });
      return session;
    });
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    validateSessionId(id);
    const { rows } = await this.read((q) => q.query<{ record: string }>('SELECT record FROM glimpse_sessions WHERE id = $1', [id]));
    return rows[0] ? (JSON.parse(rows[0].record) as SessionRecord) : undefined;
  }

  async require(id: string): Promise<SessionRecord> {
    const s = await this.get(id);
    if (!s) throw sessionNotFound(id);
    return s;
  }

  async list(): Promise<SessionSummary[]> {
    // Newest first; ties by id, descending (what the IndexedDB index gives reversed).
    const { rows } = await this.read((q) => q.query<{ record: string }>('SELECT record FROM glimpse_sessions ORDER BY updated_at DESC, id COLLATE "C" DESC'));
    return rows.map((r) => summarize(JSON.parse(r.record) as SessionRecord));
  }

  async count(): Promise<number> {
    // count(*) returns a bigint, which pg gives as a string.
    const { rows } = await this.read((q) => q.query<{ n: string }>('SELECT count(*) AS n FROM glimpse_sessions'));
    return Number(rows[0]?.n ?? 0);
  }

  async messages(id: string): Promise<StoredMessage[]> {
    validateSessionId(id);
    return this.read((q) => readMessages(q, id));
  }

  async getImage(hash: string): Promise<ImageRecord | undefined> {
    return HASH.test(hash) ? this.read((q) => readImage(q, hash)) : undefined;
  }

  async append(sessionId: string, message: NewMessage, image?: NewImage): Promise<StoredMessage> {
    checkHash(image);
    const bytes = image ? new Uint8Array(await image.blob.arrayBuffer()) : null;
    return this.tx(async (c) => {
      const session = await this.lockSession(c, validateSessionId(sessionId));
      const stored: StoredMessage = withBranchImages({ ...structuredClone(message), id: message.id ?? crypto.randomUUID(), sessionId, seq: session.nextSeq });
      await lockImages(c, [...(image ? [image.hash] : []), ...imagesOf(stored)]);
      if (image && bytes) {
        await insertImage(c, image, bytes, stored.timestamp);
        stored.imageHash = image.hash;
        session.imageHash = image.hash;
      }
      await insertMessage(c, stored);
      session.nextSeq += 1;
      session.messageCount += 1;
      session.updatedAt = nowIso();
      touchSummary(session, stored);
      await this.saveSession(c, session);
      return stored;
    });
  }

  async update(message: StoredMessage): Promise<StoredMessage> {
    return this.tx(async (c) => {
      const gone = () => new SessionNotFoundError('This message no longer exists (the chat was cleared or deleted).', { id: message.sessionId });
      const session = await this.lockSession(c, validateSessionId(message.sessionId)).catch((err: unknown) => {
        throw err instanceof SessionNotFoundError ? gone() : err;
      });
      const existing = await readMessage(c, message.sessionId, message.seq);
      if (!existing || existing.id !== message.id) throw gone();
      const next = withBranchImages(nextRevision(existing, structuredClone(message)));
      await lockImages(c, [...imagesOf(existing), ...imagesOf(next)]);
      const unused = await rewriteMessage(c, existing, next);
      session.updatedAt = nowIso();
      touchSummary(session, next);
      await this.saveSession(c, session);
      await dropOrphans(c, unused);
      return next;
    });
  }

  async truncate(sessionId: string, fromSeq: number): Promise<void> {
    await this.tx(async (c) => {
      const session = await this.lockSession(c, validateSessionId(sessionId));
      const removed = await deleteMessages(c, sessionId, fromSeq);
      const hashes = afterTruncate(session, fromSeq, removed, await readMessages(c, sessionId));
      await this.saveSession(c, session);
      await dropOrphans(c, hashes);
    });
  }

  /** Replaces the messages from `fromSeq` on (versions: a new answer or edit, another version shown), in one transaction. */
  async replaceFrom(sessionId: string, fromSeq: number, turns: NewTurn[]): Promise<StoredMessage[]> {
    return this.tx(async (c) => {
      const session = await this.lockSession(c, validateSessionId(sessionId));
      const removed = await readMessages(c, sessionId, fromSeq);
      const added = turns.map((t, i) => placeTurn(t, sessionId, fromSeq + i, removed[i]));
      await lockImages(c, [...removed, ...added].flatMap(imagesOf));
      await deleteMessages(c, sessionId, fromSeq);
      for (const m of added) await insertMessage(c, m);
      const remaining = await readMessages(c, sessionId, 0, fromSeq);
      const hashes = afterReplace(session, fromSeq, remaining, added, removed);
      await this.saveSession(c, session);
      await dropOrphans(c, hashes);
      return added;
    });
  }

  async clear(sessionId: string): Promise<number> {
    validateSessionId(sessionId);
    return this.tx(async (c) => {
      const session = await this.lockSession(c, sessionId);
      const removed = await deleteMessages(c, sessionId);
      Object.assign(session, { messageCount: 0, nextSeq: 0, imageHash: null, preview: '', updatedAt: nowIso() });
      await this.saveSession(c, session);
      await dropOrphans(c, removed.flatMap(imagesOf));
      return removed.length;
    });
  }

  /** Deletes a session, its messages and the images only it used. */
  async delete(sessionId: string): Promise<void> {
    validateSessionId(sessionId);
    await this.tx(async (c) => {
      await this.lockSession(c, sessionId);
      const removed = await deleteMessages(c, sessionId);
      await c.query('DELETE FROM glimpse_sessions WHERE id = $1', [sessionId]);
      await dropOrphans(c, removed.flatMap(imagesOf));
    });
  }

  async rename(sessionId: string, title: string): Promise<SessionRecord> {
    const clean = title.trim();
    return this.tx(async (c) => {
      const session = await this.lockSession(c, validateSessionId(sessionId));
      session.title = clean ? titleFrom(clean) : DEFAULT_TITLE;
      session.customTitle = !!clean;
      await this.saveSession(c, session);
      return session;
    });
  }

  async featuresOf(hash: string): Promise<ImageFeatures[]> {
    return HASH.test(hash) ? this.read((q) => readFeatures(q, hash)) : [];
  }

  /** Replaces the set of the same key (it becomes the most recent); past the limit the oldest kept goes. */
  async keepFeatures(hash: string, features: ImageFeatures): Promise<void> {
    if (!HASH.test(hash)) return;
    await this.tx((c) => writeFeatures(c, hash, features));
  }
}
