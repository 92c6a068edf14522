/**
 * The file store's data folder (store.ts): its layout, the lock that keeps it to one server, reading it at
 * open (unfinished writes removed, unreadable session files moved aside, pictures no message uses swept),
 * and the picture files.
 *
 *   DATA_DIR/sessions/<id>.json   {version, session, messages}: one file per session, replaced atomically
 *   DATA_DIR/images/<sha256>      the image bytes, shared by every message that sent them
 *   DATA_DIR/images/<sha256>.json {type, size, width, height, createdAt}
 *   DATA_DIR/features/<sha256>/   the picture's image features per encoder (features.ts), deleted with it
 *   DATA_DIR/.lock                the pid of the server using the folder
 */
import { readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { IMAGE_HASH_PATTERN } from '../chat/ids';
import type { StoredMessage } from '../chat/messages';
import { imagesOf, type NewImage, type SessionRecord } from '../chat/repository';
import { DamagedRecordError, StorageUnavailableError } from '../errors';
import { atomicWrite, DataDirInUseError, fileName, isAlive, storageError } from './disk';
import { removeFeatures, sweepFeatures } from './features';

export const FILE_VERSION = 1;

export interface SessionFile {
  version: number;
  session: SessionRecord;
  messages: StoredMessage[];
}

export interface ImageMeta {
  type: string;
  size: number;
  width?: number;
  height?: number;
  createdAt: string;
}

/** Folders open in this process (the lock file holds the same pid for all of them). */
const openHere = new Set<string>();

/** Takes the folder for this process: DataDirInUseError while another live server (or this one) has it. */
export async function lockFolder(dir: string): Promise<void> {
  const path = join(dir, '.lock');
  if (openHere.has(resolve(dir))) throw new DataDirInUseError(dir, process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      openHere.add(resolve(dir));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw storageError(err);
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw new DataDirInUseError(dir, pid);
      await unlink(path).catch(() => undefined); // stale: its process is gone
    }
  }
  throw new StorageUnavailableError(`Could not lock the data folder ${dir}.`);
}

export async function unlockFolder(dir: string): Promise<void> {
  await unlink(join(dir, '.lock')).catch(() => undefined);
  openHere.delete(resolve(dir));
}

/** Every picture the given sessions' messages refer to (sent, or in a version). */
export function usedHashes(files: Iterable<SessionFile>): Set<string> {
  const used = new Set<string>();
  for (const f of files) {
    for (const m of f.messages) for (const hash of imagesOf(m)) used.add(hash);
  }
  return used;
}

export interface LoadedFolder {
  sessions: Map<string, SessionFile>;
  imageMeta: Map<string, ImageMeta>;
  /** Files that could not be read (moved aside as `*.corrupt-<time>`). */
  warnings: string[];
}

async function loadSessions(dir: string, warnings: string[]): Promise<Map<string, SessionFile>> {
  const sessions = new Map<string, SessionFile>();
  const sessionsDir = join(dir, 'sessions');
  for (const name of await readdir(sessionsDir)) {
    const path = join(sessionsDir, name);
    if (name.includes('.tmp-')) {
      await rm(path, { force: true }); // a write that never finished: the previous file is intact
      continue;
    }
    if (!name.endsWith('.json')) continue;
    try {
      const file = JSON.parse(await readFile(path, 'utf8')) as SessionFile;
      if (file.version !== FILE_VERSION || !file.session?.id || !Array.isArray(file.messages)) throw new DamagedRecordError('unknown layout');
      if (fileName(file.session.id) !== name) throw new DamagedRecordError('file name does not match the session id');
      sessions.set(file.session.id, file);
    } catch (err) {
      const aside = `${path}.corrupt-${Date.now()}`;
      await rename(path, aside).catch(() => undefined);
      warnings.push(`${name} could not be read (${err instanceof Error ? err.message : String(err)}); moved to ${aside}`);
    }
  }
  return sessions;
}

/** Reads the folder's sessions and picture details; deletes what a crash left behind. */
export async function loadFolder(dir: string): Promise<LoadedFolder> {
  const warnings: string[] = [];
  const sessions = await loadSessions(dir, warnings);
  const imageMeta = new Map<string, ImageMeta>();
  const imagesDir = join(dir, 'images');
  const used = usedHashes(sessions.values());
  for (const name of await readdir(imagesDir)) {
    const hash = name.slice(0, 64);
    const orphan = !IMAGE_HASH_PATTERN.test(hash) || !used.has(hash) || name.includes('.tmp-');
    if (orphan) {
      await rm(join(imagesDir, name), { force: true });
    } else if (name === `${hash}.json`) {
      try {
        imageMeta.set(hash, JSON.parse(await readFile(join(imagesDir, name), 'utf8')) as ImageMeta);
      } catch {
        warnings.push(`images/${name} could not be read`);
      }
    }
  }
  await sweepFeatures(dir, (hash) => IMAGE_HASH_PATTERN.test(hash) && used.has(hash));
  return { sessions, imageMeta, warnings };
}

/** Writes a picture's bytes and details (each atomically); returns the details. */
export async function writeImage(dir: string, image: NewImage, createdAt: string): Promise<ImageMeta> {
  const meta: ImageMeta = {
    type: image.blob.type,
    size: image.blob.size,
    ...(image.width !== undefined ? { width: image.width } : {}),
    ...(image.height !== undefined ? { height: image.height } : {}),
    createdAt,
  };
  await atomicWrite(join(dir, 'images', image.hash), new Uint8Array(await image.blob.arrayBuffer()));
  await atomicWrite(join(dir, 'images', `${image.hash}.json`), JSON.stringify(meta));
  return meta;
}

/** Deletes a picture's files and its features. */
export async function removeImage(dir: string, hash: string): Promise<void> {
  await rm(join(dir, 'images', hash), { force: true });
  await rm(join(dir, 'images', `${hash}.json`), { force: true });
  await removeFeatures(dir, hash);
}
