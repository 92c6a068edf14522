import { createContext } from '@lit/context';
import type { ChatService } from '../chat/service';
import type { EngineController } from '../engine/api';
import type { ModelSource } from '../engine/protocol';
import type { SessionStore } from '../storage/sessions';
import type { GenerationTracker } from './services/generation';
import type { SettingsStore } from './services/settings';

/** The services the app runs on, built by the composition root (src/main.ts) or by a test. */
export interface AppServices {
  store: SessionStore;
  chat: ChatService;
  engine: EngineController;
  settings: SettingsStore;
  generation: GenerationTracker;
  /** Where the engine downloads model files from (fixed at start-up; a folder import writes under it). */
  modelSource?: ModelSource;
}

// One context per service, so an element asks only for what it uses.
export const storeContext = createContext<SessionStore>(Symbol('glimpse-store'));
export const chatContext = createContext<ChatService>(Symbol('glimpse-chat'));
export const engineContext = createContext<EngineController>(Symbol('glimpse-engine'));
export const settingsContext = createContext<SettingsStore>(Symbol('glimpse-settings'));
export const generationContext = createContext<GenerationTracker>(Symbol('glimpse-generation'));
export const modelSourceContext = createContext<ModelSource>(Symbol('glimpse-model-source'));
