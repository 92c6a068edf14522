/**
 * Connecting to the PostgreSQL database named by DATABASE_URL: the pool settings both the store and the
 * session locks use, and the errors a database fault becomes.
 */
import type { PoolConfig } from 'pg';
import { GlimpseError, StorageUnavailableError } from '../../errors';

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
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new DatabaseOpenError(`Not a schema name: ${name} (letters, digits and _, at most 63).`);
  return `"${name}"`;
}

/** Database faults as the storage errors the API maps (503), with what went wrong. */
export function storageError(err: unknown): unknown {
  if (err instanceof GlimpseError) return err;
  const code = (err as { code?: string } | undefined)?.code;
  return new StorageUnavailableError(`The database did not save this: ${err instanceof Error ? err.message : String(err)}`, { code }, { cause: err });
}

/** The database named by DATABASE_URL cannot be used (unreachable, refused, or migrated by a newer Glimpse). */
export class DatabaseOpenError extends GlimpseError {
  static override readonly errorName = 'DatabaseOpenError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(`Cannot open the PostgreSQL database (DATABASE_URL): ${message}`, {}, options);
  }
}
