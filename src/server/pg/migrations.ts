/**
 * The PostgreSQL schema as numbered steps, applied in order at start and recorded in `glimpse_migrations`.
 * Never edit a step that has shipped: add the next number (like DB_VERSION and its upgrade steps for
 * IndexedDB, src/storage/db.ts), so an existing database is carried forward, never dropped.
 *
 * Message and session records are kept as JSON text, not jsonb: jsonb refuses "\u0000" and lone surrogates,
 * which a typed message may hold (the file store keeps them), and nothing queries inside a record.
 */
import type { PoolClient } from 'pg';
import { GlimpseError } from '../../errors';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'sessions, messages, images, image features',
    sql: `
      CREATE TABLE glimpse_sessions (
        id          text PRIMARY KEY,
        updated_at  timestamptz NOT NULL,
        record      text NOT NULL                -- SessionRecord as JSON
      );
      CREATE INDEX glimpse_sessions_by_updated ON glimpse_sessions (updated_at DESC, id COLLATE "C" DESC);

      CREATE TABLE glimpse_images (
        hash        text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),   -- SHA-256 of the bytes
        type        text NOT NULL,
        size        integer NOT NULL,
        width       integer,
        height      integer,
        created_at  text NOT NULL,
        bytes       bytea NOT NULL
      );

      CREATE TABLE glimpse_messages (
        session_id  text NOT NULL REFERENCES glimpse_sessions (id) ON DELETE CASCADE,
        seq         integer NOT NULL,
        id          text NOT NULL,
        rev         integer NOT NULL DEFAULT 0,
        image_hash  text REFERENCES glimpse_images (hash),
        body        text NOT NULL,               -- StoredMessage as JSON
        PRIMARY KEY (session_id, seq)
      );
      CREATE INDEX glimpse_messages_by_image ON glimpse_messages (image_hash) WHERE image_hash IS NOT NULL;

      CREATE TABLE glimpse_image_features (
        hash        text NOT NULL REFERENCES glimpse_images (hash) ON DELETE CASCADE,
        key         text NOT NULL,
        kept        bigserial,                   -- order of keeping: the oldest goes past the limit
        data        bytea NOT NULL,              -- the features file format (src/server/features.ts)
        PRIMARY KEY (hash, key)
      );
    `,
  },
  {
    version: 2,
    name: 'pictures the versions of a message refer to',
    // A turn answered again or edited keeps its other versions (and the turns that followed them) inside its
    // record; the pictures those refer to must stay while it does. One row per (message, picture): the
    // foreign keys keep a picture from being deleted while a version refers to it, and the rows go with
    // their message. Filled from the records' "branchImages" (only a key can spell `"branchImages":[` in a
    // record's JSON: a quote inside a string is escaped), for the pictures that are stored.
    sql: `
      CREATE TABLE glimpse_branch_images (
        session_id  text NOT NULL,
        seq         integer NOT NULL,
        hash        text NOT NULL REFERENCES glimpse_images (hash),
        PRIMARY KEY (session_id, seq, hash),
        FOREIGN KEY (session_id, seq) REFERENCES glimpse_messages (session_id, seq) ON DELETE CASCADE
      );
      CREATE INDEX glimpse_branch_images_by_hash ON glimpse_branch_images (hash);

      INSERT INTO glimpse_branch_images (session_id, seq, hash)
      SELECT DISTINCT m.session_id, m.seq, h[1]
        FROM glimpse_messages m,
             regexp_matches(m.body, '"branchImages":\\[([^]]*)]') AS list,
             regexp_matches(list[1], '[0-9a-f]{64}', 'g') AS h
       WHERE EXISTS (SELECT 1 FROM glimpse_images i WHERE i.hash = h[1]);
    `,
  },
];

/** The database was migrated by a newer Glimpse than this one: starting would misread its tables. */
export class SchemaTooNewError extends GlimpseError {
  static override readonly errorName = 'SchemaTooNewError';
  constructor(readonly found: number, readonly known: number) {
    super(`The database schema is at version ${found}, newer than this Glimpse knows (${known}). Upgrade Glimpse, or use another database.`, { found, known });
  }
}

/** Any number, as long as every instance uses the same one: the key of the lock migrations run under. */
const MIGRATION_LOCK = 0x676c6d70; // "glmp"

/**
 * Applies the steps the database lacks, in one transaction, under an advisory lock: instances starting
 * together on one database migrate once, and a failed step leaves the schema as it was. Returns the
 * versions applied now.
 */
export async function migrate(client: PoolClient, steps: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS glimpse_migrations (
      version     integer PRIMARY KEY,
      name        text NOT NULL,
      applied_at  timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM glimpse_migrations');
    const done = new Set(rows.map((r) => r.version));
    const known = Math.max(0, ...steps.map((s) => s.version));
    const newest = Math.max(0, ...done);
    if (newest > known) throw new SchemaTooNewError(newest, known);
    const applied: number[] = [];
    for (const step of [...steps].sort((a, b) => a.version - b.version)) {
      if (done.has(step.version)) continue;
      await client.query(step.sql);
      await client.query('INSERT INTO glimpse_migrations (version, name) VALUES ($1, $2)', [step.version, step.name]);
      applied.push(step.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
