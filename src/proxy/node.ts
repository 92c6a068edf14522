/**
 * Thin Node entry for the fetch handler: node:http ↔ Request/Response, streaming with backpressure, an
 * abort of the upstream call when the client disconnects, and one log line per request (never a header,
 * a body or the key). Run with `npm run proxy`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { loadConfig, ProxyConfigError, type ProxyConfig } from './config';
import { createProxyHandler, type ProxyDeps, type ProxyHandler } from './handler';

export interface RunningProxy {
  server: Server;
  /** e.g. http://127.0.0.1:8787 */
  url: string;
  close(): Promise<void>;
}

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal };
  if (hasBody) {
    init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, init);
}

async function writeResponse(response: Response, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => { headers[name] = value; });
  res.writeHead(response.status, headers);
  if (response.body === null) return void res.end();
  const reader = response.body.getReader();
  const onAbort = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || signal.aborted) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          res.once('drain', resolve);
          res.once('close', resolve);
        });
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    res.end();
  }
}

/** Wraps a fetch handler in a node:http listener. */
export function nodeListener(handler: ProxyHandler, log: (line: string) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const controller = new AbortController();
    // 'close' before the response finished = the client went away: abort, which aborts the upstream call.
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const path = (req.url ?? '/').split('?')[0];
    const client = { address: req.socket.remoteAddress ?? 'unknown' };
    res.on('finish', () => {
      log(`${new Date().toISOString()} ${client.address} ${req.method} ${path} ${res.statusCode} ` +
        `${Math.round(performance.now() - started)}ms`);
    });
    void handler(toRequest(req, controller.signal), client)
      .then((response) => writeResponse(response, res, controller.signal))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'The proxy failed unexpectedly.', type: 'internal_error' } }));
      })
      .finally(() => {
        if (controller.signal.aborted) log(`${new Date().toISOString()} ${client.address} ${req.method} ${path} ` +
          `client closed after ${Math.round(performance.now() - started)}ms`);
      });
  };
}

/** Starts the proxy on config.host:config.port (port 0 = any free port). */
export async function startProxy(
  config: ProxyConfig,
  deps: ProxyDeps & { log?: (line: string) => void } = {},
): Promise<RunningProxy> {
  const log = deps.log ?? ((line: string) => console.log(line));
  const handler = createProxyHandler(config, { ...deps, log });
  const server = createServer(nodeListener(handler, log));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    server,
    url: `http://${host}:${port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function main(): Promise<void> {
  let config: ProxyConfig;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ProxyConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const proxy = await startProxy(config);
  console.log(`Glimpse proxy listening on ${proxy.url} → ${config.baseURL ?? 'https://api.openai.com/v1'} ` +
    `(default model ${config.defaultModel}; ${config.allowedModels.length} allowed)`);
  const stop = () => void proxy.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
