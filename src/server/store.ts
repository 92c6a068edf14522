/**
 * Sessions on disk for the headless REST server: the same {@link SessionRepository} contract as the
 * browser's IndexedDB SessionStore, with no native dependency. The folder's layout, its lock and reading it
 * at open are in store-folder.ts.
 *
 * Every write goes to a temp file, is fsynced, then renamed over the old one, so a crash leaves either the
 * old or the new file, never half of one. Writes are serialised in this process and the in-memory copy is
 * updated only after the disk write succeeded, so a failed write (disk full) changes nothing. Images no
 * message refers to are deleted, and swept at open (a crash between writing an image and its session).
 * Deleting and clearing work on a full disk (they free space before they write), so one can always make room.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredMessage } from '../chat/messages';
import { nowIso } from '../chat/messages';
import { IMAGE_HASH_PATTERN } from '../chat/ids';
import { InvalidSessionIdError, SessionNotFoundError, StorageQuotaError, StorageUnavailableError } from '../errors';
import { atomicWrite, fileName, isDiskFull, storageError } from './disk';
import { readFeatures, writeFeatures } from './features';
import type { ImageFeatures, ImageFeatureStore } from '../chat/features';
import {
  FILE_VERSION,
  loadFolder,
  lockFolder,
  removeImage,
  unlockFolder,
  usedHashes,
  writeImage,
  type ImageMeta,
  type SessionFile,
} from './store-folder';

export { DataDirInUseError } from './disk';
import {
  afterReplace,
  afterTruncate,
  DEFAULT_TITLE,
  imagesOf,
  newSessionRecord,
  nextRevision,
  placeTurn,
  sessionNotFound,
  summarize,
  titleFrom,
  touchSummary,
  validateSessionId,
  withBranchImages,
  type ImageRecord,
  type NewImage,
  type NewMessage,
  type NewTurn,
  type SessionRecord,
  type SessionRepository,
  type SessionSummary,
} from '../chat/repository';

const clone = <T>(value: T): T => structuredClone(value);

export class FileSessionStore implements SessionRepository, ImageFeatureStore {
  private readonly sessions = new Map<string, SessionFile>();
  private readonly imageMeta = new Map<string, ImageMeta>();
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Files that could not be read at open (moved aside as `*.corrupt-<time>`). */
  readonly warnings: string[] = [];

  private constructor(readonly dir: string) {}

  /** Opens (creating if needed) a data folder. One process at a time: a second open fails while the first lives. */
  static async open(dir: string): Promise<FileSessionStore> {
    const store = new FileSessionStore(dir);
    await mkdir(join(dir, 'sessions'), { recursive: true });
    await mkdir(join(dir, 'images'), { recursive: true });
    await lockFolder(dir);
    try {
      const loaded = await loadFolder(dir);
      for (const [id, file] of loaded.sessions) store.sessions.set(id, file);
      for (const [hash, meta] of loaded.imageMeta) store.imageMeta.set(hash, meta);
      store.warnings.push(...loaded.warnings);
    } catch (err) {
      await store.close();
      throw storageError(err);
    }
    return store;
  }

  /** Waits for pending writes and releases the folder. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail.catch(() => undefined);
    await unlockFolder(this.dir);
  }

  async featuresOf(hash: string): Promise<ImageFeatures[]> {
    return IMAGE_HASH_PATTERN.test(hash) && this.imageMeta.has(hash) ? readFeatures(this.dir, hash) : [];
  }

  /** In the write queue, so a picture being deleted never gets features written after it is gone. */
  async keepFeatures(hash: string, features: ImageFeatures): Promise<void> {
    await this.serial(async () => {
      if (IMAGE_HASH_PATTERN.test(hash) && this.imageMeta.has(hash)) await writeFeatures(this.dir, hash, features);
    });
  }

  /** Runs writes one at a time, in call order. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.tail.then(async () => {
      if (this.closed) throw new StorageUnavailableError('The session store is closed.');
      try {
        return await op();
      } catch (err) {
        throw storageError(err);
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private saveSession(file: SessionFile): Promise<void> {
    return atomicWrite(join(this.dir, 'sessions', fileName(file.session.id)), JSON.stringify(file));
  }

  /** Deletes the image files among `hashes` that no stored message refers to any more. */
  private async dropOrphans(hashes: Iterable<string>): Promise<void> {
    const used = usedHashes(this.sessions.values());
    for (const hash of hashes) {
      if (used.has(hash) || !IMAGE_HASH_PATTERN.test(hash)) continue;
      this.imageMeta.delete(hash);
      await removeImage(this.dir, hash);
    }
  }

  private working(sessionId: string): SessionFile {
    const file = this.sessions.get(sessionId);
    if (!file) throw sessionNotFound(sessionId);
    return clone(file);
  }

  async create(opts: { id?: string; title?: string } = {}): Promise<SessionRecord> {
    const id = opts.id === undefined ? crypto.randomUUID() : validateSessionId(opts.id);
    return this.serial(async () => {
      if (this.sessions.has(id)) throw new InvalidSessionIdError(`A session with id “${id}” already exists.`, { id });
      const file: SessionFile = { version: FILE_VERSION, session: newSessionRecord(id, opts.title), messages: [] };
      await this.saveSession(file);
      this.sessions.set(id, file);
      return clone(file.session);
    });
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    validateSessionId(id);
    const file = this.sessions.get(id);
    return file ? clone(file.session) : undefined;
  }

  async require(id: string): Promise<SessionRecord> {
    const s = await this.get(id);
    if (!s) throw sessionNotFound(id);
    return s;
  }

  async list(): Promise<SessionSummary[]> {
    // Newest first; ties by id, descending (what the IndexedDB index gives reversed).
    return [...this.sessions.values()]
      .map((f) => f.session)
      .sort((a, b) => (a.updatedAt === b.updatedAt ? (a.id < b.id ? 1 : -1) : a.updatedAt < b.updatedAt ? 1 : -1))
      .map(summarize);
  }

  async count(): Promise<number> {
    return this.sessions.size;
  }

  async messages(id: string): Promise<StoredMessage[]> {
    validateSessionId(id);
    return clone(this.sessions.get(id)?.messages ?? []);
  }

  async getImage(hash: string): Promise<ImageRecord | undefined> {
    const meta = IMAGE_HASH_PATTERN.test(hash) ? this.imageMeta.get(hash) : undefined;
    if (!meta) return undefined;
    try {
      const bytes = await readFile(join(this.dir, 'images', hash));
      return { hash, blob: new Blob([bytes], { type: meta.type }), ...meta };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw storageError(err);
    }
  }

  async append(sessionId: string, message: NewMessage, image?: NewImage): Promise<StoredMessage> {
    return this.serial(async () => {
      const file = this.working(sessionId);
      const session = file.session;
      const stored: StoredMessage = withBranchImages({ ...clone(message), id: message.id ?? crypto.randomUUID(), sessionId, seq: session.nextSeq });
      let newImage: string | null = null;
      if (image) {
        if (!IMAGE_HASH_PATTERN.test(image.hash)) throw new StorageUnavailableError('An image hash must be 64 hex digits (SHA-256).');
        stored.imageHash = image.hash;
        session.imageHash = image.hash;
        if (!this.imageMeta.has(image.hash)) {
          this.imageMeta.set(image.hash, await writeImage(this.dir, image, stored.timestamp));
          newImage = image.hash;
        }
      }
      file.messages.push(stored);
      session.nextSeq += 1;
      session.messageCount += 1;
      session.updatedAt = nowIso();
      touchSummary(session, stored);
      try {
        await this.saveSession(file);
      } catch (err) {
        if (newImage) await this.dropOrphans([newImage]).catch(() => undefined);
        throw err;
      }
      this.sessions.set(sessionId, file);
      return clone(stored);
    });
  }

  async update(message: StoredMessage): Promise<StoredMessage> {
    return this.serial(async () => {
      const current = this.sessions.get(message.sessionId);
      const file = current ? clone(current) : undefined;
      const at = file?.messages.findIndex((m) => m.seq === message.seq) ?? -1;
      if (!file || at < 0 || file.messages[at]!.id !== message.id) {
        throw new SessionNotFoundError('This message no longer exists (the chat was cleared or deleted).', { id: message.sessionId });
      }
      const before = file.messages[at]!;
      const next = withBranchImages(nextRevision(before, clone(message)));
      file.messages[at] = next;
      file.session.updatedAt = nowIso();
      touchSummary(file.session, next);
      await this.saveSession(file);
      this.sessions.set(message.sessionId, file);
      await this.dropOrphans(imagesOf(before)); // versions dropped: pictures only they referred to go
      return clone(next);
    });
  }

  async truncate(sessionId: string, fromSeq: number): Promise<void> {
    await this.serial(async () => {
      const file = this.working(sessionId);
      const session = file.session;
      const removed = file.messages.filter((m) => m.seq >= fromSeq);
      const remaining = file.messages.filter((m) => m.seq < fromSeq);
      file.messages = remaining;
      const removedHashes = afterTruncate(session, fromSeq, removed, remaining);
      await this.saveSession(file);
      this.sessions.set(sessionId, file);
      await this.dropOrphans(removedHashes);
    });
  }

  async replaceFrom(sessionId: string, fromSeq: number, turns: NewTurn[]): Promise<StoredMessage[]> {
    return this.serial(async () => {
      const file = this.working(sessionId);
      const removed = file.messages.filter((m) => m.seq >= fromSeq);
      const remaining = file.messages.filter((m) => m.seq < fromSeq);
      const added = turns.map((t, i) => placeTurn(t, sessionId, fromSeq + i, removed[i]));
      file.messages = [...remaining, ...added];
      const hashes = afterReplace(file.session, fromSeq, remaining, added, removed);
      await this.saveSession(file);
      this.sessions.set(sessionId, file);
      await this.dropOrphans(hashes);
      return clone(added);
    });
  }

  async clear(sessionId: string): Promise<number> {
    validateSessionId(sessionId);
    return this.serial(async () => {
      const file = this.working(sessionId);
      const removed = file.messages;
      const hashes = removed.flatMap(imagesOf);
      file.messages = [];
      Object.assign(file.session, { messageCount: 0, nextSeq: 0, imageHash: null, preview: '', updatedAt: nowIso() });
      try {
        await this.saveSession(file);
      } catch (err) {
        if (!isDiskFull(err)) throw err;
        await this.clearOnFullDisk(file, hashes);
        return removed.length;
      }
      this.sessions.set(sessionId, file);
      await this.dropOrphans(hashes);
      return removed.length;
    });
  }

  /**
   * Clearing must work on a full disk, where even the small empty file cannot be written: remove the old file
   * and the images only it used first (unlinking needs no space), then write the empty one in the room made.
   */
  private async clearOnFullDisk(file: SessionFile, hashes: string[]): Promise<void> {
    const id = file.session.id;
    await rm(join(this.dir, 'sessions', fileName(id)), { force: true });
    this.sessions.set(id, file);
    await this.dropOrphans(hashes);
    try {
      await this.saveSession(file);
    } catch (err) {
      this.sessions.delete(id); // as on disk: better gone than half there
      throw new StorageQuotaError('The disk is full: the chat could not be kept even empty, so it was deleted.', { id }, { cause: err });
    }
  }

  /** Deletes a session, its messages and the images only it used. */
  async delete(sessionId: string): Promise<void> {
    validateSessionId(sessionId);
    await this.serial(async () => {
      const file = this.working(sessionId);
      await rm(join(this.dir, 'sessions', fileName(sessionId)), { force: true });
      this.sessions.delete(sessionId);
      await this.dropOrphans(file.messages.flatMap(imagesOf));
    });
  }

  async rename(sessionId: string, title: string): Promise<SessionRecord> {
    const clean = title.trim();
    return this.serial(async () => {
      const file = this.working(sessionId);
      file.session.title = clean ? titleFrom(clean) : DEFAULT_TITLE;
      file.session.customTitle = !!clean;
      await this.saveSession(file);
      this.sessions.set(sessionId, file);
      return clone(file.session);
    });
  }
}
