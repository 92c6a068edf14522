/**
 * Headless Glimpse: the chat service as a REST API on node:http (`npm run api`). Builds the pieces (file
 * store, SmolVLM on onnxruntime-node, the one-at-a-time queue), puts the Hono app on a port
 * (src/node/serve.ts), logs one line per request (never a body). See docs/rest-api.md.
 */
import { pathToFileURL } from 'node:url';
import { DEFAULT_GENERATION, type ChatBackend } from '../chat/backend';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../chat/images';
import { InProcessSessionLocks } from '../chat/locks';
import { ChatService, DEFAULT_CHAT_SETTINGS, type ChatSettings } from '../chat/service';
import { machineNames } from '../node/hosts';
import { serveFetch } from '../node/serve';
import { createEngine, decodeCheckFor, type EngineHooks } from './engines';
import { ApiConfigError, loadApiConfig, type ApiConfig } from './config';
import { createApiApp, type ModelStatus } from './handler';
import { PgSessionLocks } from './pg/locks';
import { DatabaseOpenError, PgSessionStore } from './pg/store';
import { GenerationQueue } from './queue';
import { DataDirInUseError, FileSessionStore } from './store';

/**
 * What the server needs of its model: answers, a status for /health, and a close. NodeBackend (SmolVLM here),
 * or OpenAIEngine (an inference server, GLIMPSE_ENGINE=openai), see engines.ts.
 */
export interface ApiBackend extends ChatBackend, ModelStatus {
  close(): Promise<void>;
}

export interface RunningApi {
  server: import('node:http').Server;
  /** e.g. http://127.0.0.1:8002 */
  url: string;
  store: FileSessionStore | PgSessionStore;
  backend: ApiBackend;
  queue: GenerationQueue;
  close(): Promise<void>;
}

export interface ApiStartOptions {
  log?: (line: string) => void;
  /** Replaces the engine backend (tests wrap the real one to watch it, or answer without a model). */
  backend?: ApiBackend;
  /** For GLIMPSE_ENGINE=openai: onRetry / onUpstreamError callbacks (metrics) and the retry backoff (tests). */
  engineHooks?: EngineHooks;
}

/** Chat settings for the server: the browser's rules, with the generation options of the config. */
export function apiChatSettings(config: ApiConfig): ChatSettings {
  const imageLimits: ImageLimits = { ...DEFAULT_IMAGE_LIMITS, maxBytes: config.maxUploadBytes };
  return {
    ...DEFAULT_CHAT_SETTINGS,
    imageLimits,
    generation: {
      ...DEFAULT_GENERATION,
      model: config.model,
      maxNewTokens: config.maxNewTokens,
      imageDetail: config.imageDetail,
      systemPrompt: config.systemPrompt,
    },
  };
}

/** Opens the data folder and starts listening on config.host:config.port (port 0 = any free port). */
export async function startApiServer(config: ApiConfig, opts: ApiStartOptions = {}): Promise<RunningApi> {
  const log = opts.log ?? ((line: string) => console.log(line));
  // DATABASE_URL: sessions in PostgreSQL, shared with every instance on it, so the turn lock is the database's.
  const store = config.databaseUrl
    ? await PgSessionStore.open({ connectionString: config.databaseUrl })
    : await FileSessionStore.open(config.dataDir);
  const pgLocks = config.databaseUrl ? new PgSessionLocks({ connectionString: config.databaseUrl }) : null;
  for (const w of store.warnings) log(`warning: ${w}`);
  const backend = opts.backend ?? await createEngine(config, opts.engineHooks);
  const queue = new GenerationQueue(config.queueSize);
  const settings = apiChatSettings(config);
  const service = new ChatService({
    store,
    backend: () => backend,
    settings: () => settings,
    // Decode before anything is stored (sharp; through transformers.js for the local engine).
    decodeCheck: decodeCheckFor(config),
    persistEveryMs: 1_000,
    // Node has no Web Locks. PostgreSQL: its advisory locks, seen by every instance on the database. Files:
    // one server per data folder, so a lock in this process covers every writer.
    locks: pgLocks ?? new InProcessSessionLocks(),
    // Image features kept with the pictures: a restart never runs the vision encoder again for them.
    features: store,
    onWarning: (message) => log(`warning: ${message}`),
  });
  const app = createApiApp(config, {
    service, store, queue, model: backend, imageLimits: settings.imageLimits, maxMessageChars: settings.maxMessageChars,
    log, extraHosts: machineNames(config.host),
  });
  let served;
  try {
    served = await serveFetch(app.fetch, { host: config.host, port: config.port, log });
  } catch (err) {
    await store.close();
    await pgLocks?.close();
    throw err;
  }
  let closing: Promise<void> | null = null;
  return {
    server: served.server,
    url: served.url,
    store,
    backend,
    queue,
    close: () =>
      (closing ??= (async () => {
        await served.close();
        await store.close();
        await pgLocks?.close();
        await backend.close();
      })()),
  };
}

async function main(): Promise<void> {
  let config: ApiConfig;
  try {
    config = loadApiConfig(process.env);
  } catch (err) {
    if (err instanceof ApiConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  let api: RunningApi;
  try {
    api = await startApiServer(config);
  } catch (err) {
    if (err instanceof DataDirInUseError || err instanceof DatabaseOpenError || (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    }
    throw err;
  }
  const where = config.engine.kind === 'openai' ? `from the inference server at ${new URL(config.engine.baseURL).host}`
    : config.source.kind === 'local' ? `from ${config.source.localModelPath}, CPU` : 'from the hub (downloaded on the first request), CPU';
  console.log(`Glimpse REST API on ${api.url}: ${config.model} ${where}; ${config.databaseUrl ? 'sessions in PostgreSQL' : `data in ${config.dataDir}`}`);
  const stop = () => void api.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
