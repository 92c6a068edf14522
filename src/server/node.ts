/**
 * Headless Glimpse: the chat service as a REST API on node:http (`npm run api`). Builds the pieces (file
 * store, SmolVLM on onnxruntime-node, the one-at-a-time queue), puts the Hono app on a port
 * (src/node/serve.ts), logs one line per request (never a body). See docs/rest-api.md.
 */
import { pathToFileURL } from 'node:url';
import { DEFAULT_GENERATION } from '../chat/backend';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../chat/images';
import { InProcessSessionLocks } from '../chat/locks';
import { ChatService, DEFAULT_CHAT_SETTINGS, type ChatSettings } from '../chat/service';
import type { ServerObserver } from '../http/metrics';
import { machineNames } from '../node/hosts';
import { createServerMetrics, type ServerMetrics } from '../node/metrics';
import { planMetrics } from '../node/metrics-listener';
import { serveFetch, type Served } from '../node/serve';
import { exitOnSignals } from '../node/signals';
import { API_IMAGE_TYPES, API_READER, createEngine, decodeCheckFor, type ApiBackend, type EngineHooks } from './engines';
import { GlimpseError } from '../errors';
import { loadApiConfig, type ApiConfig } from './config';
import { createApiApp } from './handler';
import { PgSessionLocks } from './pg/locks';
import { PgSessionStore } from './pg/store';
import { GenerationQueue } from './queue';
import { FileSessionStore } from './store';

export type { ApiBackend } from './engines';

export interface RunningApi {
  server: import('node:http').Server;
  /** e.g. http://127.0.0.1:8002 */
  url: string;
  store: FileSessionStore | PgSessionStore;
  backend: ApiBackend;
  queue: GenerationQueue;
  /** The registry behind GET /metrics, and the loopback-only metrics listener's URL when there is one. */
  metrics: ServerMetrics;
  metricsUrl: string | null;
  close(): Promise<void>;
}

export interface ApiStartOptions {
  log?: (line: string) => void;
  /** Replaces the engine backend (tests wrap the real one to watch it, or answer without a model). */
  backend?: ApiBackend;
  /** For GLIMPSE_ENGINE=openai: onRetry / onUpstreamError callbacks (metrics) and the retry backoff (tests). */
  engineHooks?: EngineHooks;
  /** The rate limits' clock (tests move it instead of waiting). */
  now?: () => number;
}

/** Chat settings for the server: the browser's rules, with the generation options of the config. */
export function apiChatSettings(config: ApiConfig): ChatSettings {
  const imageLimits: ImageLimits = { ...DEFAULT_IMAGE_LIMITS, maxBytes: config.maxUploadBytes, types: API_IMAGE_TYPES, reader: API_READER };
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

/** The inference-server engine's retries and failed attempts go to the metrics, and to the caller's hooks. */
function observedEngine(hooks: EngineHooks = {}, observer: ServerObserver): EngineHooks {
  return {
    ...hooks,
    onRetry: (attempt, reason) => {
      observer.upstreamRetry(reason);
      hooks.onRetry?.(attempt, reason);
    },
    onUpstreamError: (status) => {
      observer.upstreamError(status);
      hooks.onUpstreamError?.(status);
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
  const queue = new GenerationQueue(config.queueSize);
  const metrics = createServerMetrics({ gauges: {
    queue: () => ({ running: queue.busy ? 1 : 0, waiting: queue.waiting }),
    sessions: () => store.count(),
  } });
  const backend = opts.backend ?? await createEngine(config, { log: (line) => log(line), ...observedEngine(opts.engineHooks, metrics.observer) });
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
  const plan = planMetrics(config.host, config.metrics, metrics.endpoint);
  const app = createApiApp(config, {
    service, store, queue, model: backend, imageLimits: settings.imageLimits, maxMessageChars: settings.maxMessageChars,
    log, extraHosts: machineNames(config.host), observer: metrics.observer,
    ...(plan.main ? { metrics: plan.main } : {}), ...(opts.now ? { now: opts.now } : {}),
  });
  // Requests being answered, so a close waits for their turns to be saved (stopped, the partial text kept).
  const inFlight = new Set<Promise<Response>>();
  const fetch: typeof app.fetch = (req, env) => {
    const answer = Promise.resolve(app.fetch(req, env));
    inFlight.add(answer);
    answer.then(() => inFlight.delete(answer), () => inFlight.delete(answer));
    return answer;
  };
  let served: Served;
  let metricsServed: Served | null = null;
  try {
    served = await serveFetch(fetch, { host: config.host, port: config.port, log });
    metricsServed = await plan.startSeparate(log).catch(async (err: unknown) => {
      await served.close();
      throw err;
    });
  } catch (err) {
    await store.close();
    await pgLocks?.close();
    throw err;
  }
  log(plan.line(served.url, metricsServed));
  let closing: Promise<void> | null = null;
  return {
    server: served.server,
    url: served.url,
    store,
    backend,
    queue,
    metrics,
    metricsUrl: metricsServed?.url ?? null,
    close: () =>
      (closing ??= (async () => {
        // Closing the sockets aborts every request's signal: answers stop (their text kept, marked stopped),
        // waiting turns leave the queue. Their last writes finish before the stores close.
        await served.close();
        await metricsServed?.close();
        await settled([...inFlight], CLOSE_WAIT_MS);
        await store.close();
        await pgLocks?.close();
        await backend.close();
      })()),
  };
}

/** How long a close waits for the answers it stopped to be saved. */
const CLOSE_WAIT_MS = 5_000;

async function settled(pending: Promise<unknown>[], ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([Promise.allSettled(pending), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/**
 * A failure at start that a person can act on (one of our named errors: the settings, the data folder in
 * use, the database, the port in use: PortInUseError names it and PORT) is its message and exit code 1;
 * anything else is a bug, thrown.
 */
function exitOnStartError(err: unknown): never {
  if (err instanceof GlimpseError) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
  throw err;
}

async function main(): Promise<void> {
  let config: ApiConfig;
  let api: RunningApi;
  try {
    config = loadApiConfig(process.env);
    api = await startApiServer(config);
  } catch (err) {
    return exitOnStartError(err);
  }
  const where = config.engine.kind === 'openai' ? `from the inference server at ${new URL(config.engine.baseURL).host}`
    : config.source.kind === 'local' ? `from ${config.source.localModelPath}, CPU` : 'from the hub (downloaded on the first request), CPU';
  console.log(`Glimpse REST API on ${api.url}: ${config.model} ${where}; ${config.databaseUrl ? 'sessions in PostgreSQL' : `data in ${config.dataDir}`}`);
  exitOnSignals(api, (line) => console.log(line));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
