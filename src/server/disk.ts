/**
 * The file-system side of FileSessionStore: writes that land whole or not at all, the errors a person can act
 * on (a full disk is StorageQuotaError, answered 507), the data folder's lock owner.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { GlimpseError, StorageQuotaError, StorageUnavailableError } from '../errors';

/** Thrown by open() when another live process holds the folder. */
export class DataDirInUseError extends GlimpseError {
  static override readonly errorName = 'DataDirInUseError';
  constructor(dir: string, pid: number) {
    super(`The data folder ${dir} is in use by another Glimpse server (pid ${pid}). Stop it or set another DATA_DIR.`, { dir, pid });
  }
}

export const isDiskFull = (err: unknown) => ['ENOSPC', 'EDQUOT'].includes((err as NodeJS.ErrnoException | undefined)?.code ?? '');

export function storageError(err: unknown): unknown {
  if (err instanceof GlimpseError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (isDiskFull(err)) {
    return new StorageQuotaError('The disk holding the data folder is full, so this was not saved; nothing already saved was lost.', { code }, { cause: err });
  }
  return new StorageUnavailableError(`Saving failed: ${err instanceof Error ? err.message : String(err)}`, { code }, { cause: err });
}

/** A session id as a file name: ids may hold ':' (not allowed in Windows file names). */
export const fileName = (id: string) => `${encodeURIComponent(id)}.json`;

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes a temp file, fsyncs it, renames it over `path`: a crash leaves the old file or the new, never half. */
export async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fh = await open(temp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
}

