/**
 * One answer per session at a time across every API instance on one database: the session's lock is a
 * PostgreSQL transaction advisory lock (pg_advisory_xact_lock) held on a connection of its own for as long as
 * the turn runs. It dies with its transaction or its connection, so an instance that crashes or is killed
 * mid-answer frees its sessions as soon as the server sees the connection close.
 *
 * The locks have their own pool: a turn holding a lock also writes through the store's pool, and sharing one
 * pool would let lock holders take every connection and wait for a store connection forever.
 */
import pg from 'pg';
import type { PoolClient } from 'pg';
import type { SessionLocks } from '../../chat/locks';
import { StorageUnavailableError } from '../../errors';
import { poolConfig, type PgStoreOptions } from './pool';

/** First key of the session locks (the second is hashtext of the session id); other keys never collide. */
export const SESSION_LOCK = 0x676c6d73; // "glms"

export class PgSessionLocks implements SessionLocks {
  private readonly pool: pg.Pool;

  /** `poolSize`: sessions this instance can hold or wait for at once (default 20). */
  constructor(opts: PgStoreOptions) {
    this.pool = new pg.Pool({ ...poolConfig(opts), max: opts.poolSize ?? 20, application_name: 'glimpse-locks' });
    this.pool.on('error', () => undefined); // an idle connection lost: the pool replaces it
  }

  async run<T>(sessionId: string, fn: () => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw new StorageUnavailableError(`The database cannot be reached to lock this chat: ${(err as Error).message}`, {}, { cause: err });
    }
    // Held idle in a transaction for the whole turn: a connection lost meanwhile must not crash the process
    // (the lock is gone with it; the store's row locks and stale-write checks still keep the data whole).
    let lost: Error | undefined;
    const onError = (err: Error) => (lost = err);
    client.on('error', onError);
    try {
      try {
        await client.query('BEGIN');
        // The transaction sits idle while the answer is generated: a server-wide idle timeout must not end it.
        await client.query('SET LOCAL idle_in_transaction_session_timeout = 0');
        await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [SESSION_LOCK, sessionId]);
      } catch (err) {
        lost = err as Error;
        throw new StorageUnavailableError(`Could not lock this chat in the database: ${(err as Error).message}`, {}, { cause: err });
      }
      return await fn();
    } finally {
      if (!lost) await client.query('COMMIT').catch((err: Error) => (lost = err));
      client.off('error', onError);
      client.release(lost ?? false);
    }
  }

  /** Whether any instance holds or waits for the session's lock now. */
  async held(sessionId: string): Promise<boolean> {
    const { rows } = await this.pool.query<{ held: boolean }>(
      `SELECT EXISTS (
         SELECT 1 FROM pg_locks
          WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND classid = $1::bigint::oid AND objid = (hashtext($2)::bigint & 4294967295)::oid AND objsubid = 2
       ) AS held`,
      [SESSION_LOCK, sessionId],
    );
    return rows[0]?.held ?? false;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
