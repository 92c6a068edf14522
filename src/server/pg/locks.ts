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
import { lockWaitAborted, type SessionLocks } from '../../chat/locks';
import { StorageUnavailableError } from '../../errors';
import { poolConfig, type PgStoreOptions } from './pool';

/** First key of the session locks (the second is hashtext of the session id); other keys never collide. */
export const SESSION_LOCK = 0x676c6d73; // "glms"

/** Connections a cancel was sent to (closed instead of going back to the pool). */
const cancelled = new WeakSet<PoolClient>();

export class PgSessionLocks implements SessionLocks {
  private readonly pool: pg.Pool;

  /** `poolSize`: sessions this instance can hold or wait for at once (default 20). */
  constructor(private readonly opts: PgStoreOptions) {
    this.pool = new pg.Pool({ ...poolConfig(opts), max: opts.poolSize ?? 20, application_name: 'glimpse-locks' });
    this.pool.on('error', () => undefined); // an idle connection lost: the pool replaces it
  }

  async run<T>(sessionId: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw lockWaitAborted();
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
        await this.acquire(client, sessionId, signal);
      } catch (err) {
        lost = err as Error;
        if (signal?.aborted) throw lockWaitAborted();
        throw new StorageUnavailableError(`Could not lock this chat in the database: ${(err as Error).message}`, {}, { cause: err });
      }
      if (signal?.aborted) throw lockWaitAborted(); // granted as the request gave up: the turn does not run
      return await fn();
    } finally {
      if (!lost) await client.query('COMMIT').catch((err: Error) => (lost = err));
      client.off('error', onError);
      client.release(lost ?? (cancelled.delete(client) ? new Error('lock wait cancelled') : false));
    }
  }

  /**
   * Waits for the session's lock on `client`. An abort cancels the wait at once (pg_cancel_backend, from a
   * connection of its own: every pooled one may be waiting too), so a request whose client went away stops
   * queueing behind another instance's turn.
   */
  private async acquire(client: PoolClient, sessionId: string, signal?: AbortSignal): Promise<void> {
    const pid = (client as unknown as { processID: number | null }).processID;
    const onAbort = () => {
      // The cancel may land after the wait ended: this connection must never serve another turn.
      cancelled.add(client);
      void this.cancel(pid);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [SESSION_LOCK, sessionId]);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async cancel(pid: number | null): Promise<void> {
    if (!pid) return;
    const admin = new pg.Client({ ...poolConfig(this.opts), application_name: 'glimpse-locks-cancel' });
    admin.on('error', () => undefined);
    try {
      await admin.connect();
      await admin.query('SELECT pg_cancel_backend($1)', [pid]);
    } catch {
      // Best effort: the wait then ends when the lock is granted, and the turn does not run.
    } finally {
      await admin.end().catch(() => undefined);
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
