/**
 * The REST API's Hono app with an echo backend and a file store in the config's DATA_DIR, called without a
 * socket: for tests of the HTTP rules that need no model.
 */
import { InProcessSessionLocks } from '../../../src/chat/locks';
import { ChatService } from '../../../src/chat/service';
import type { ApiConfig } from '../../../src/server/config';
import { createApiApp } from '../../../src/server/handler';
import { apiChatSettings } from '../../../src/server/node';
import { GenerationQueue } from '../../../src/server/queue';
import { FileSessionStore } from '../../../src/server/store';
import { EchoServerBackend } from '../../fixtures/servers/echo-server-backend';

export type ApiFetch = ((req: Request) => Promise<Response>) & { close(): Promise<void>; store: FileSessionStore };

export async function apiFetch(config: ApiConfig): Promise<ApiFetch> {
  const store = await FileSessionStore.open(config.dataDir);
  const backend = new EchoServerBackend();
  const settings = apiChatSettings(config);
  const service = new ChatService({ store, backend: () => backend, settings: () => settings, persistEveryMs: 0, locks: new InProcessSessionLocks() });
  const app = createApiApp(config, {
    service, store, queue: new GenerationQueue(config.queueSize), model: backend,
    imageLimits: settings.imageLimits, maxMessageChars: settings.maxMessageChars,
  });
  return Object.assign(async (req: Request) => app.fetch(req), { close: () => store.close(), store });
}
