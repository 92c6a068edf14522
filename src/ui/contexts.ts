import { createContext } from '@lit/context';
import type { ChatApi } from '../chat/api';
import type { SessionLibrary } from '../chat/library';
import type { EngineController } from '../engine/api';
import type { ModelSource } from '../engine/protocol';
import type { ChatArchive } from '../storage/session-transfer';
import type { GenerationTracker } from './services/generation';
import type { ModelFiles, StorageSpace } from './services/model-files';
import type { SettingsStore } from './services/settings';

/** The stored chats as the elements manage them: the list, rename, delete, search, export and import. */
export type ChatStore = SessionLibrary & ChatArchive;

/** The services the app runs on, built by the composition root (src/main.ts) or by a test. */
export interface AppServices {
  /** SessionStore (IndexedDB) in the app. */
  store: ChatStore;
  /** ChatService in the app. */
  chat: ChatApi;
  engine: EngineController;
  settings: SettingsStore;
  generation: GenerationTracker;
  /** Where the engine downloads model files from (fixed at start-up; a folder import writes under it). */
  modelSource?: ModelSource;
  /** The model files on this device (default: the browser's Cache API). */
  modelFiles?: ModelFiles;
  /** The site's storage figures (default: navigator.storage). */
  storageSpace?: StorageSpace;
}

// One context per service, so an element asks only for what it uses. Each carries an interface, so an
// element depends on what it calls, not on the class (or the database) behind it.
export const storeContext = createContext<ChatStore>(Symbol('glimpse-store'));
export const chatContext = createContext<ChatApi>(Symbol('glimpse-chat'));
export const engineContext = createContext<EngineController>(Symbol('glimpse-engine'));
export const settingsContext = createContext<SettingsStore>(Symbol('glimpse-settings'));
export const generationContext = createContext<GenerationTracker>(Symbol('glimpse-generation'));
export const modelSourceContext = createContext<ModelSource>(Symbol('glimpse-model-source'));
export const modelFilesContext = createContext<ModelFiles>(Symbol('glimpse-model-files'));
export const storageSpaceContext = createContext<StorageSpace>(Symbol('glimpse-storage-space'));
