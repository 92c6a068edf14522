/**
 * How SessionStore writes: every change in one readwrite transaction (all or nothing), IndexedDB failures as
 * named errors a person can act on, and the clean-up of pictures no message refers to any more.
 */
import type { IDBPTransaction } from 'idb';
import { GlimpseError, StorageQuotaError, StorageUnavailableError } from '../errors';
import type { Database } from './db';
import type { GlimpseDB } from './schema';

/** Maps IndexedDB failures to named errors a person can act on. */
export function storageError(err: unknown): unknown {
  if (err instanceof GlimpseError) return err;
  const name = err instanceof Error || err instanceof DOMException ? err.name : '';
  if (name === 'QuotaExceededError') {
    return new StorageQuotaError(
      'Your browser’s storage for this site is full, so this was not saved. Delete old chats or cached ' +
        'models (Settings → Storage) and try again; nothing already saved was lost.',
      {},
      { cause: err },
    );
  }
  return new StorageUnavailableError(`Saving failed: ${err instanceof Error ? err.message : String(err)}`, {}, { cause: err });
}

export async function guard<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw storageError(err);
  }
}

export type StoreName = 'sessions' | 'messages' | 'images';
export type WriteTx<S extends StoreName[]> = IDBPTransaction<GlimpseDB, S, 'readwrite'>;

/**
 * Runs `fn` in one readwrite transaction. Any error aborts the whole transaction, so a failed write (quota,
 * a missing session) leaves every store exactly as it was.
 */
export async function write<S extends StoreName[], T>(db: Database, stores: S, fn: (tx: WriteTx<S>) => Promise<T>): Promise<T> {
  return guard(async () => {
    const tx = db.transaction(stores, 'readwrite');
    const done = tx.done;
    done.catch(() => undefined); // awaited below; an abort must not surface as an unhandled rejection
    try {
      const result = await fn(tx);
      await done;
      return result;
    } catch (err) {
      try {
        tx.abort();
      } catch {
        // already finished or aborted
      }
      throw err;
    }
  });
}

/**
 * Deletes each image no remaining message refers to, directly or in its versions (images are shared
 * between sessions by hash).
 */
export async function dropOrphans(
  images: { delete(key: string): Promise<void> },
  messages: { index(name: 'by-image' | 'by-branch-image'): { count(key: string): Promise<number> } },
  hashes: Set<string>,
): Promise<void> {
  for (const hash of hashes) {
    const used = (await messages.index('by-image').count(hash)) + (await messages.index('by-branch-image').count(hash));
    if (used === 0) await images.delete(hash);
  }
}
