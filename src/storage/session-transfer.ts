/**
 * SessionStore's side of export and import: sessions with their pictures as an export file's content, and a
 * validated import written in one transaction. The file format and its validation live in transfer.ts.
 */
import { nowIso, type StoredMessage } from '../chat/messages';
import { DEFAULT_TITLE, preview } from '../chat/repository';
import type { Database } from './db';
import type { ImageRecord, SessionRecord } from './schema';
import { guard, write } from './session-writes';
import {
  blobToBase64,
  EXPORT_FORMAT,
  EXPORT_VERSION,
  toExportedMessage,
  type ExportedSession,
  type ExportFile,
  type PreparedImport,
} from './transfer';

/** What an import wrote. */
export interface ImportCounts {
  imported: number;
  skipped: number;
  images: number;
}

/**
 * The reads an export needs (SessionStore has them). Named here rather than importing SessionStore, which
 * imports this file: the store depends on its export/import, never the other way.
 */
export interface SessionReader {
  /** The session, or SessionNotFoundError. */
  require(id: string): Promise<SessionRecord>;
  messages(id: string): Promise<StoredMessage[]>;
  getImage(hash: string): Promise<ImageRecord | undefined>;
}

/** Sessions (all, or the given ids) with their images, as an export file's content. */
export async function exportSessions(store: SessionReader, db: Database, ids?: string[]): Promise<ExportFile> {
  const all = ids ? await Promise.all(ids.map((id) => store.require(id))) : await guard(() => db.getAll('sessions'));
  const images: ExportFile['images'] = {};
  const sessions: ExportedSession[] = [];
  for (const s of all) {
    const history = await store.messages(s.id);
    for (const hash of new Set(history.map((m) => m.imageHash).filter((h): h is string => !!h))) {
      const rec = await store.getImage(hash);
      if (rec) images[hash] = { type: rec.type, data: await blobToBase64(rec.blob) };
    }
    sessions.push({
      session_id: s.id,
      title: s.title,
      custom_title: s.customTitle,
      created_at: s.createdAt,
      updated_at: s.updatedAt,
      image_in_context: s.imageHash && images[s.imageHash] ? s.imageHash : null,
      history: history.map(toExportedMessage),
    });
  }
  return { format: EXPORT_FORMAT, version: EXPORT_VERSION, exported_at: nowIso(), sessions, images };
}

/**
 * Writes a validated import in one transaction (all or nothing). A session whose id already exists with
 * the same history is skipped, so importing a file twice does not duplicate; a different session under an
 * existing id is imported under a new id.
 */
export async function importPrepared(db: Database, prepared: PreparedImport): Promise<ImportCounts & { changed: string[] }> {
  let imported = 0;
  let skipped = 0;
  let newImages = 0;
  const changed: string[] = [];
  await write(db, ['sessions', 'messages', 'images'], async (tx) => {
    const sessions = tx.objectStore('sessions');
    const messages = tx.objectStore('messages');
    const images = tx.objectStore('images');
    for (const s of prepared.sessions) {
      let id = s.session_id;
      const existing = await sessions.get(id);
      if (existing) {
        const have = await messages.getAll(IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER]));
        const same =
          have.length === s.history.length &&
          have.every((m, i) => m.timestamp === s.history[i]!.timestamp && m.role === s.history[i]!.role);
        if (same) {
          skipped++;
          continue;
        }
        id = crypto.randomUUID();
      }
      const used = new Set<string>();
      for (const [seq, m] of s.history.entries()) {
        const stored: StoredMessage = {
          id: crypto.randomUUID(),
          sessionId: id,
          seq,
          role: m.role,
          content: m.content,
          timestamp: m.timestamp,
          status: m.status ?? 'complete',
          ...(m.image ? { imageHash: m.image } : {}),
          ...(m.details ? { details: m.details } : {}),
        };
        await messages.add(stored);
        if (m.image) used.add(m.image);
      }
      if (s.image_in_context) used.add(s.image_in_context);
      for (const hash of used) {
        const blob = prepared.images.get(hash);
        if (blob && !(await images.getKey(hash))) {
          await images.put({ hash, blob, type: blob.type, size: blob.size, createdAt: nowIso() });
          newImages++;
        }
      }
      const last = s.history[s.history.length - 1];
      await sessions.add({
        id,
        title: s.title || DEFAULT_TITLE,
        customTitle: !!s.custom_title,
        createdAt: s.created_at,
        updatedAt: s.updated_at,
        messageCount: s.history.length,
        nextSeq: s.history.length,
        imageHash: s.image_in_context,
        preview: last ? preview({ ...last, id: '', sessionId: id, seq: 0 }) : '',
      });
      imported++;
      changed.push(id);
    }
  });
  return { imported, skipped, images: newImages, changed };
}

/** Export and import of chats, as the Storage tab uses them (SessionStore implements it). */
export interface ChatArchive {
  /** Sessions (all, or the given ids) with their images, as an export file's content. */
  exportSessions(ids?: string[]): Promise<ExportFile>;
  /** Writes a validated import in one transaction (all or nothing). */
  importPrepared(prepared: PreparedImport): Promise<ImportCounts>;
}
