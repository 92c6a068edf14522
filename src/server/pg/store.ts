/**
 * Sessions in PostgreSQL for the REST API (DATABASE_URL): the same {@link SessionRepository} contract as the
 * file store and IndexedDB, shared by every API instance on the database.
 *
 *   glimpse_sessions        id, updated_at (the list order), the SessionRecord as JSON
 *   glimpse_messages        (session_id, seq), id, rev, image_hash, the StoredMessage as JSON
 *   glimpse_images          hash (SHA-256), type, size, width, height, the bytes (bytea): once per picture
 *   glimpse_image_features  (hash, key): the vision encoder's output, deleted with its picture (cascade)
 *
 * Each write is one transaction on one client that first locks the session's row (SELECT … FOR UPDATE),
 * so writes to a session from several instances queue instead of losing one another. An image row is
 * guarded by a transaction advisory lock on its hash: a message that starts using a picture and the
 * clean-up of the picture's last use never cross (the picture is either kept or inserted again).
 */
import pg from 'pg';
import type { PoolClient, PoolConfig } from 'pg';
import { MAX_FEATURE_SETS, type ImageFeatures, type ImageFeatureStore } from '../../chat/features';
import { nowIso, type StoredMessage } from '../../chat/messages';
import { GlimpseError, InvalidSessionIdError, SessionNotFoundError, StorageUnavailableError } from '../../errors';
import {
  afterTruncate,
  DEFAULT_TITLE,
  newSessionRecord,
  nextRevision,
  sessionNotFound,
  summarize,
  titleFrom,
  touchSummary,
  validateSessionId,
  type ImageRecord,
  type NewImage,
  type NewMessage,
  type SessionRecord,
  type SessionRepository,
  type SessionSummary,
} from '../../chat/repository';
import { decodeFeatures, encodeFeatures } from '../features';
import { migrate } from './migrations';

const HASH = /^[0-9a-f]{64}$/;
/** First key of the image advisory locks (the second is the hash's hashtext). */
const IMAGE_LOCK = 0x676c6d69; // "glmi"

export interface PgStoreOptions {
  /** postgres://user:password@host:port/database (DATABASE_URL). */
  connectionString: string;
  /** Keep the tables in this schema (created if missing) instead of the connection's default. */
  schema?: string;
  /** Connections for queries (default 10). */
  poolSize?: number;
}

/** The pool settings for a connection string, in a schema of its own when one is named. */
export function poolConfig(opts: PgStoreOptions): PoolConfig {
  return {
    connectionString: opts.connectionString,
    max: opts.poolSize ?? 10,
    application_name: 'glimpse',
    ...(opts.schema ? { options: `-c search_path=${quoteIdent(opts.schema)}` } : {}),
  };
}

export function quoteIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new Error(`Not a schema name: ${name}`);
  return `"${name}"`;
}

/** Database faults as the storage errors the API maps (503), with what went wrong. */
function storageError(err: unknown): unknown {
  if (err instanceof GlimpseError) return err;
  const code = (err as { code?: string } | undefined)?.code;
  return new StorageUnavailableError(`The database did not save this: ${err instanceof Error ? err.message : String(err)}`, { code }, { cause: err });
}

interface MessageRow {
  body: string;
}

const parseMessage = (row: MessageRow) => JSON.parse(row.body) as StoredMessage;

/** The database named by DATABASE_URL cannot be used (unreachable, refused, or migrated by a newer Glimpse). */
export class DatabaseOpenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(`Cannot open the PostgreSQL database (DATABASE_URL): ${message}`, options);
    this.name = 'DatabaseOpenError';
  }
}

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

  /** Locks pictures by hash, in a fixed order (two transactions never wait on each other's in reverse). */
  private async lockImages(c: PoolClient, hashes: Iterable<string>): Promise<void> {
    for (const hash of [...new Set(hashes)].sort()) {
      await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [IMAGE_LOCK, hash]);
    }
  }

  /** Deletes the pictures among `hashes` no message uses any more (their features go with them). */
  private async dropOrphans(c: PoolClient, hashes: Iterable<string>): Promise<void> {
    const list = [...new Set(hashes)].filter((h) => HASH.test(h));
    if (list.length === 0) return;
    await this.lockImages(c, list);
    await c.query(
      `DELETE FROM glimpse_images i WHERE i.hash = ANY($1)
         AND NOT EXISTS (SELECT 1 FROM glimpse_messages m WHERE m.image_hash = i.hash)`,
      [list],
    );
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

  async messages(id: string): Promise<StoredMessage[]> {
    validateSessionId(id);
    const { rows } = await this.read((q) => q.query<MessageRow>('SELECT body FROM glimpse_messages WHERE session_id = $1 ORDER BY seq', [id]));
    return rows.map(parseMessage);
  }

  async getImage(hash: string): Promise<ImageRecord | undefined> {
    if (!HASH.test(hash)) return undefined;
    const { rows } = await this.read((q) =>
      q.query<{ type: string; size: number; width: number | null; height: number | null; created_at: string; bytes: Buffer }>(
        'SELECT type, size, width, height, created_at, bytes FROM glimpse_images WHERE hash = $1',
        [hash],
      ),
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      hash,
      blob: new Blob([new Uint8Array(r.bytes)], { type: r.type }),
      type: r.type,
      size: r.size,
      ...(r.width !== null ? { width: r.width } : {}),
      ...(r.height !== null ? { height: r.height } : {}),
      createdAt: r.created_at,
    };
  }

  async append(sessionId: string, message: NewMessage, image?: NewImage): Promise<StoredMessage> {
    if (image && !HASH.test(image.hash)) throw new StorageUnavailableError('An image hash must be 64 hex digits (SHA-256).');
    const bytes = image ? new Uint8Array(await image.blob.arrayBuffer()) : null;
    return this.tx(async (c) => {
      const session = await this.lockSession(c, validateSessionId(sessionId));
      const stored: StoredMessage = { ...structuredClone(message), id: message.id ?? crypto.randomUUID(), sessionId, seq: session.nextSeq };
      if (image && bytes) {
        await this.lockImages(c, [image.hash]);
        await c.query(
          `INSERT INTO glimpse_images (hash, type, size, width, height, created_at, bytes)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (hash) DO NOTHING`,
          [image.hash, image.blob.type, image.blob.size, image.width ?? null, image.height ?? null, stored.timestamp, bytes],
        );
        stored.imageHash = image.hash;
        session.imageHash = image.hash;
      }
      await c.query(
        'INSERT INTO glimpse_messages (session_id, seq, id, rev, image_hash, body) VALUES ($1, $2, $3, $4, $5, $6)',
        [sessionId, stored.seq, stored.id, stored.rev ?? 0, stored.imageHash ?? null, JSON.stringify(stored)],
      );
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
      const { rows } = await c.query<MessageRow>('SELECT body FROM glimpse_messages WHERE session_id = $1 AND seq = $2', [message.sessionId, message.seq]);
      const existing = rows[0] ? parseMessage(rows[0]) : undefined;
      if (!existing || existing.id !== message.id) throw gone();
      const next = nextRevision(existing, structuredClone(message));
      await c.query('UPDATE glimpse_messages SET rev = $3, body = $4 WHERE session_id = $1 AND seq = $2', [
        message.sessionId, message.seq, next.rev, JSON.stringify(next),
      ]);
      session.updatedAt = nowIso();
      touchSummary(session, next);
      await this.saveSession(c, session);
      return next;
    });
  }

  async truncate(sessionId: string, fromSeq: number): Promise<void> {
    await this.tx(async (c) => {
      const session = await this.lockSession(c, validateSessionId(sessionId));
      const { rows } = await c.query<MessageRow>(
        'DELETE FROM glimpse_messages WHERE session_id = $1 AND seq >= $2 RETURNING body',
        [sessionId, fromSeq],
      );
      const remaining = await c.query<MessageRow>('SELECT body FROM glimpse_messages WHERE session_id = $1 ORDER BY seq', [sessionId]);
      const removed = afterTruncate(session, fromSeq, rows.map(parseMessage), remaining.rows.map(parseMessage));
      await this.saveSession(c, session);
      await this.dropOrphans(c, removed);
    });
  }

  async clear(sessionId: string): Promise<number> {
    validateSessionId(sessionId);
    return this.tx(async (c) => {
      const session = await this.lockSession(c, sessionId);
      const { rows } = await c.query<{ image_hash: string | null }>(
        'DELETE FROM glimpse_messages WHERE session_id = $1 RETURNING image_hash',
        [sessionId],
      );
      Object.assign(session, { messageCount: 0, nextSeq: 0, imageHash: null, preview: '', updatedAt: nowIso() });
      await this.saveSession(c, session);
      await this.dropOrphans(c, rows.map((r) => r.image_hash).filter((h): h is string => !!h));
      return rows.length;
    });
  }

  /** Deletes a session, its messages and the images only it used. */
  async delete(sessionId: string): Promise<void> {
    validateSessionId(sessionId);
    await this.tx(async (c) => {
      await this.lockSession(c, sessionId);
      const { rows } = await c.query<{ image_hash: string | null }>(
        'DELETE FROM glimpse_messages WHERE session_id = $1 RETURNING image_hash',
        [sessionId],
      );
      await c.query('DELETE FROM glimpse_sessions WHERE id = $1', [sessionId]);
      await this.dropOrphans(c, rows.map((r) => r.image_hash).filter((h): h is string => !!h));
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
    if (!HASH.test(hash)) return [];
    const { rows } = await this.read((q) =>
      q.query<{ data: Buffer }>('SELECT data FROM glimpse_image_features WHERE hash = $1 ORDER BY kept LIMIT $2', [hash, MAX_FEATURE_SETS]),
    );
    return rows.map((r) => decodeFeatures(new Uint8Array(r.data))).filter((f): f is ImageFeatures => f !== null);
  }

  /** Replaces the set of the same key (it becomes the most recent); past the limit the oldest kept goes. */
  async keepFeatures(hash: string, features: ImageFeatures): Promise<void> {
    if (!HASH.test(hash)) return;
    const data = encodeFeatures(features);
    await this.tx(async (c) => {
      await this.lockImages(c, [hash]); // the picture cannot go between the check and the insert
      const { rowCount } = await c.query(
        `INSERT INTO glimpse_image_features (hash, key, data)
         SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM glimpse_images WHERE hash = $1)
         ON CONFLICT (hash, key) DO UPDATE SET data = EXCLUDED.data, kept = nextval(pg_get_serial_sequence('glimpse_image_features', 'kept'))`,
        [hash, features.key, data],
      );
      if (!rowCount) return;
      await c.query(
        `DELETE FROM glimpse_image_features WHERE hash = $1 AND key NOT IN
           (SELECT key FROM glimpse_image_features WHERE hash = $1 ORDER BY kept DESC LIMIT $2)`,
        [hash, MAX_FEATURE_SETS],
      );
    });
  }
}
