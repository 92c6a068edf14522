/**
 * Pictures in PostgreSQL: one `glimpse_images` row per SHA-256 however many messages send it, its features
 * in `glimpse_image_features` (deleted with it). A picture stays while a message sends it (image_hash) or a
 * version of a message refers to it (glimpse_branch_images); the clean-up deletes it after its last use.
 *
 * An image row is guarded by a transaction advisory lock on its hash: a message that starts using a picture
 * and the clean-up of the picture's last use never cross (the picture is either kept or inserted again).
 */
import type pg from 'pg';
import type { PoolClient } from 'pg';
import { MAX_FEATURE_SETS, type ImageFeatures } from '../../chat/features';
import { IMAGE_HASH_PATTERN } from '../../chat/ids';
import type { ImageRecord, NewImage } from '../../chat/repository';
import { StorageUnavailableError } from '../../errors';
import { decodeFeatures, encodeFeatures } from '../features';

/** The image-hash pattern (src/chat/ids.ts), under the name this store's files use. */
export const HASH = IMAGE_HASH_PATTERN;
/** First key of the image advisory locks (the second is the hash's hashtext). */
const IMAGE_LOCK = 0x676c6d69; // "glmi"

/** Refuses a hash that is not a SHA-256 before anything is written. */
export function checkHash(image: NewImage | undefined): void {
  if (image && !HASH.test(image.hash)) throw new StorageUnavailableError('An image hash must be 64 hex digits (SHA-256).');
}

/**
 * Locks pictures by hash, in a fixed order (two transactions never wait on each other's in reverse). A
 * transaction locks every picture it will touch in one call: a later call for another hash could cross.
 */
export async function lockImages(c: PoolClient, hashes: Iterable<string>): Promise<void> {
  for (const hash of [...new Set(hashes)].filter((h) => HASH.test(h)).sort()) {
    await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [IMAGE_LOCK, hash]);
  }
}

/** Stores a picture's bytes once (already stored: nothing happens). The caller holds its lock. */
export async function insertImage(c: PoolClient, image: NewImage, bytes: Uint8Array, createdAt: string): Promise<void> {
  await c.query(
    `INSERT INTO glimpse_images (hash, type, size, width, height, created_at, bytes)
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (hash) DO NOTHING`,
    [image.hash, image.blob.type, image.blob.size, image.width ?? null, image.height ?? null, createdAt, bytes],
  );
}

/** Deletes the pictures among `hashes` nothing refers to any more (their features go with them). */
export async function dropOrphans(c: PoolClient, hashes: Iterable<string>): Promise<void> {
  const list = [...new Set(hashes)].filter((h) => HASH.test(h));
  if (list.length === 0) return;
  await lockImages(c, list);
  await c.query(
    `DELETE FROM glimpse_images i WHERE i.hash = ANY($1)
       AND NOT EXISTS (SELECT 1 FROM glimpse_messages m WHERE m.image_hash = i.hash)
       AND NOT EXISTS (SELECT 1 FROM glimpse_branch_images b WHERE b.hash = i.hash)`,
    [list],
  );
}

export async function readImage(q: pg.Pool, hash: string): Promise<ImageRecord | undefined> {
  const { rows } = await q.query<{ type: string; size: number; width: number | null; height: number | null; created_at: string; bytes: Buffer }>(
    'SELECT type, size, width, height, created_at, bytes FROM glimpse_images WHERE hash = $1',
    [hash],
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

export async function readFeatures(q: pg.Pool, hash: string): Promise<ImageFeatures[]> {
  const { rows } = await q.query<{ data: Buffer }>(
    'SELECT data FROM glimpse_image_features WHERE hash = $1 ORDER BY kept LIMIT $2',
    [hash, MAX_FEATURE_SETS],
  );
  return rows.map((r) => decodeFeatures(new Uint8Array(r.data))).filter((f): f is ImageFeatures => f !== null);
}

/** Replaces the set of the same key (it becomes the most recent); past the limit the oldest kept goes. */
export async function writeFeatures(c: PoolClient, hash: string, features: ImageFeatures): Promise<void> {
  await lockImages(c, [hash]); // the picture cannot go between the check and the insert
  const { rowCount } = await c.query(
    `INSERT INTO glimpse_image_features (hash, key, data)
     SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM glimpse_images WHERE hash = $1)
     ON CONFLICT (hash, key) DO UPDATE SET data = EXCLUDED.data, kept = nextval(pg_get_serial_sequence('glimpse_image_features', 'kept'))`,
    [hash, features.key, encodeFeatures(features)],
  );
  if (!rowCount) return;
  await c.query(
    `DELETE FROM glimpse_image_features WHERE hash = $1 AND key NOT IN
       (SELECT key FROM glimpse_image_features WHERE hash = $1 ORDER BY kept DESC LIMIT $2)`,
    [hash, MAX_FEATURE_SETS],
  );
}
