import { openDB, type IDBPDatabase } from 'idb';
import { StorageUnavailableError } from '../errors';
import { DB_NAME, DB_VERSION, type GlimpseDB } from './schema';

export type Database = IDBPDatabase<GlimpseDB>;

/**
 * Opens (and upgrades) the Glimpse database. Upgrades are additive steps keyed on the old version
 * (https://github.com/jakearchibald/idb#opendb), so a database from any earlier release keeps its data.
 */
export async function openDatabase(name: string = DB_NAME): Promise<Database> {
  try {
    return await openDB<GlimpseDB>(name, DB_VERSION, {
      upgrade(db, oldVersion, _newVersion, tx) {
        if (oldVersion < 1) {
          const sessions = db.createObjectStore('sessions', { keyPath: 'id' });
          sessions.createIndex('by-updated', 'updatedAt');
          const messages = db.createObjectStore('messages', { keyPath: ['sessionId', 'seq'] });
          messages.createIndex('by-image', 'imageHash');
          messages.createIndex('by-id', 'id', { unique: true });
          db.createObjectStore('images', { keyPath: 'hash' });
        }
        if (oldVersion < 2) {
          db.createObjectStore('meta');
        }
        if (oldVersion < 3) {
          // No message had versions before: nothing to fill in.
          tx.objectStore('messages').createIndex('by-branch-image', 'branchImages', { multiEntry: true });
        }
      },
      blocking(_current, _next, event) {
        // Another tab (a newer app version) wants to upgrade: let it, rather than block it forever.
        (event.target as IDBDatabase).close();
      },
    });
  } catch (err) {
    throw new StorageUnavailableError(
      'Your browser would not open Glimpse’s local database (private browsing or blocked storage?). ' +
        'Allow site data for this page and reload.',
      {},
      { cause: err },
    );
  }
}
