/**
 * SessionStore's side of export and import: sessions with their pictures as an export file's content, and a
 * validated import written in one transaction. The file format and its validation live in transfer.ts.
 */
import { nowIso, type BranchTurn, type StoredMessage } from '../chat/messages';
import { DEFAULT_TITLE, imagesOf, preview, withBranchImages } from '../chat/repository';
import { versionIndex } from '../chat/versions';
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

/** Sessions (all, or the given ids) with their images (those in versions' branches too), as an export file's content. */
export async function exportSessions(store: SessionReader, db: Database, ids?: string[]): Promise<ExportFile> {
  const all = ids ? await Promise.all(ids.map((id) => store.require(id))) : await guard(() => db.getAll('sessions'));
  const images: ExportFile['images'] = {};
  const sessions: ExportedSession[] = [];
  for (const s of all) {
    const history = await store.messages(s.id);
    // The store keeps each message's branchImages (withBranchImages on every write): its own and its branches' pictures.
    for (const hash of new Set(history.flatMap(imagesOf))) {
      if (images[hash]) continue;
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

/** What makes two transcripts the same one: each turn's role, time and versions (which shown, and when each was written). */
const turnKey = (m: Pick<BranchTurn, 'role' | 'timestamp' | 'versions' | 'version'>): string =>
  JSON.stringify([m.role, m.timestamp, versionIndex(m), (m.versions ?? []).map((x) => x.timestamp)]);

function sameHistory(have: StoredMessage[], history: BranchTurn[]): boolean {
  return have.length === history.length && have.every((m, i) => turnKey(m) === turnKey(history[i]!));
}

/**
 * Writes a validated import in one transaction (all or nothing). A session whose id already exists with
 * the same history (versions included) is skipped, so importing a file twice does not duplicate; a
 * different session under an existing id is imported under a new id. Messages get new ids; each keeps its
 * versions and the pictures their branches refer to (`branchImages`, so the store keeps those pictures).
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
      if (await sessions.get(id)) {
        if (sameHistory(await messages.getAll(IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER])), s.history)) {
          skipped++;
          continue;
        }
        id = crypto.randomUUID();
      }
      const used = new Set<string>();
      const stored = s.history.map((turn, seq): StoredMessage => withBranchImages({ ...turn, id: crypto.randomUUID(), sessionId: id, seq }));
      for (const m of stored) {
        await messages.add(m);
        for (const hash of imagesOf(m)) used.add(hash);
      }
      if (s.image_in_context) used.add(s.image_in_context);
      for (const hash of used) {
        const blob = prepared.images.get(hash);
        if (blob && !(await images.getKey(hash))) {
          await images.put({ hash, blob, type: blob.type, size: blob.size, createdAt: nowIso() });
          newImages++;
        }
      }
      const last = stored.at(-1);
      await sessions.add({
        id,
        title: s.title || DEFAULT_TITLE,
        customTitle: !!s.custom_title,
        createdAt: s.created_at,
        updatedAt: s.updated_at,
        messageCount: stored.length,
        nextSeq: stored.length,
        imageHash: s.image_in_context,
        preview: last ? preview(last) : '',
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
