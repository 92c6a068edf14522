/**
 * What Settings → Storage & models needs from the device: the model files kept for offline use (list,
 * delete, load a folder) and the site's storage figures. The elements get these interfaces through
 * contexts (src/ui/contexts.ts); {@link browserModelFiles} and {@link browserStorageSpace} are the real ones,
 * over the Cache API (src/engine/model-files.ts) and navigator.storage.
 */
import type { DeviceChoice, ModelSource } from '../../engine/protocol';
import {
  deleteCachedModel,
  importModelFolder,
  listCachedModels,
  requestPersistence,
  storageInfo,
  type CachedModel,
  type StorageInfo,
} from '../../engine/model-files';

export type { CachedModel, StorageInfo } from '../../engine/model-files';

export interface ModelFiles {
  /** Models with files on this device, largest first. */
  list(): Promise<CachedModel[]>;
  /** Deletes every file of a model; resolves with the bytes freed. */
  delete(model: string): Promise<number>;
  /**
   * Loads a picked model folder (the hub's layout) so the engine finds it with no network, and resolves with
   * the model id to load. Rejects with ModelFilesMissingError naming what the folder lacks for this device.
   */
  importFolder(files: File[], source: ModelSource, choice: Pick<DeviceChoice, 'device' | 'shaderF16'>): Promise<{ model: string; bytes: number }>;
}

export interface StorageSpace {
  /** Bytes used and available, and whether the browser keeps the data under storage pressure. */
  info(): Promise<StorageInfo>;
  /** Asks the browser to keep the data under storage pressure; resolves with its answer. */
  persist(): Promise<boolean>;
}

export const browserModelFiles: ModelFiles = {
  list: listCachedModels,
  delete: deleteCachedModel,
  importFolder: importModelFolder,
};

export const browserStorageSpace: StorageSpace = {
  info: storageInfo,
  persist: requestPersistence,
};
