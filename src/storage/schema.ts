import type { DBSchema } from 'idb';
import type { ImageFeatures } from '../chat/features';
import type { StoredMessage } from '../chat/messages';

/**
 * Bump DB_VERSION for every schema change and add an `if (oldVersion < N)` step in db.ts, so a user's
 * existing data is carried forward, never dropped.
 *   1: sessions, messages, images
 *   2: meta (small app state: settings, the last open session)
 *   3: messages index by-branch-image (pictures referred to by a turn's other versions, kept while referred to)
 */
export const DB_VERSION = 3;
export const DB_NAME = 'glimpse';

export interface SessionRecord {
  id: string;
  title: string;
  /** True once the user renamed it: automatic titles no longer overwrite it. */
  customTitle: boolean;
  createdAt: string;
  updatedAt: string;
  messageCount: number;
  /** Next message seq (dense, never reused within a transcript). */
  nextSeq: number;
  /** Content hash of the one image in the model's context, or null. */
  imageHash: string | null;
  /** A short preview of the last message, for the session list. */
  preview: string;
}

export interface ImageRecord {
  hash: string;
  blob: Blob;
  type: string;
  size: number;
  width?: number;
  height?: number;
  createdAt: string;
  /** The vision encoder's output for this picture, per encoder (optional: recomputable, not exported). */
  features?: ImageFeatures[];
}

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
