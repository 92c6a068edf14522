/**
 * Headless Glimpse: the chat service as a REST API on node:http (`npm run api`). Builds the pieces (file
 * store, SmolVLM on onnxruntime-node, the one-at-a-time queue), puts the fetch handler on a port, logs one
 * line per request (never a body). See docs/rest-api.md.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { RawImage } from '@huggingface/transformers';
import { DEFAULT_GENERATION } from '../chat/backend';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../chat/images';
import { ChatService, DEFAULT_CHAT_SETTINGS, type ChatSettings } from '../chat/service';
import { ImageUnreadableError } from '../errors';
import { NodeBackend } from './backend';
import { ApiConfigError, loadApiConfig, type ApiConfig } from './config';
import { createApiHandler, type ApiHandler } from './handler';
import { GenerationQueue } from './queue';
import { DataDirInUseError, FileSessionStore } from './store';

export interface RunningApi {
  server: Server;
  /** e.g. http://127.0.0.1:8002 */
  url: string;
  store: FileSessionStore;
  backend: NodeBackend;
  queue: GenerationQueue;
  close(): Promise<void>;
}

export interface ApiStartOptions {
  log?: (line: string) => void;
  /** Replaces the engine backend (tests wrap the real one to watch it). */
  backend?: NodeBackend;
}

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal };
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, init);
}

/** Wraps a fetch handler in a node:http listener: aborts the request's signal when the client goes away. */
export function nodeListener(handler: ApiHandler, log: (line: string) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const path = (req.url ?? '/').split('?')[0];
    res.on('close', () => {
      const ms = Math.round(performance.now() - started);
      const status = res.writableFinished ? String(res.statusCode) : 'client closed';
      log(`${new Date().toISOString()} ${req.socket.remoteAddress ?? '-'} ${req.method} ${path} ${status} ${ms}ms`);
    });
    void (async () => {
      try {
        const response = await handler(toRequest(req, controller.signal));
        const headers: Record<string, string> = {};
        response.headers.forEach((value, name) => {
          headers[name] = value;
        });
        res.writeHead(response.status, headers);
        res.end(response.body ? Buffer.from(await response.arrayBuffer()) : undefined);
      } catch {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'The server failed unexpectedly.', type: 'internal_error', param: null, code: null } }));
      }
    })();
  };
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
  const store = await FileSessionStore.open(config.dataDir);
  for (const w of store.warnings) log(`warning: ${w}`);
  const backend = opts.backend ?? new NodeBackend({ model: config.model, source: config.source });
  const queue = new GenerationQueue(config.queueSize);
  const settings = apiChatSettings(config);
  const service = new ChatService({
    store,
    backend: () => backend,
    settings: () => settings,
    // Decode before anything is stored, with the decoder the engine uses (sharp, through transformers.js).
    decodeCheck: async (blob) => {
      try {
        await RawImage.fromBlob(blob);
      } catch {
        throw new ImageUnreadableError('This image could not be decoded; it may be damaged or cut short.');
      }
    },
    persistEveryMs: 1_000,
  });
  const handler = createApiHandler(config, { service, store, queue, model: backend, imageLimits: settings.imageLimits, log });
  const server = createServer(nodeListener(handler, log));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | null = null;
  return {
    server,
    url: `http://${host}:${port}`,
    store,
    backend,
    queue,
    close: () =>
      (closing ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await store.close();
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
    if (err instanceof DataDirInUseError || (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    }
    throw err;
  }
  const where = config.source.kind === 'local' ? `from ${config.source.localModelPath}` : 'from the hub (downloaded on the first request)';
  console.log(`Glimpse REST API on ${api.url}: ${config.model} ${where}, CPU; data in ${config.dataDir}`);
  const stop = () => void api.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
