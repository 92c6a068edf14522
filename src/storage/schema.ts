import type { DBSchema } from 'idb';
import type { StoredMessage } from '../chat/messages';
import type { ImageRecord, SessionRecord } from '../chat/repository';

export type { ImageRecord, SessionRecord } from '../chat/repository';

/**
 * Bump DB_VERSION for every schema change and add an `if (oldVersion < N)` step in db.ts, so a user's
 * existing data is carried forward, never dropped.
 *   1: sessions, messages, images
 *   2: meta (small app state: settings, the last open session)
 *   3: messages index by-branch-image (pictures referred to by a turn's other versions, kept while referred to)
 */
export const DB_VERSION = 3;
export const DB_NAME = 'glimpse';

export interface GlimpseDB extends DBSchema {
  sessions: {
    key: string;
    value: SessionRecord;
    indexes: { 'by-updated': string };
  };
  messages: {
    /** [sessionId, seq]: one range read returns a transcript in order. */
    key: [string, number];
    value: StoredMessage;
    indexes: { 'by-image': string; 'by-id': string; 'by-branch-image': string };
  };
  images: {
    key: string;
    value: ImageRecord;
  };
  meta: {
    key: string;
    value: unknown;
  };
}
