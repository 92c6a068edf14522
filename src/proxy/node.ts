/**
 * Thin Node entry for the fetch handler: node:http ↔ Request/Response, streaming with backpressure, an
 * abort of the upstream call when the client disconnects, and one log line per request (never a header,
 * a body or the key). Run with `npm run proxy`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { loadConfig, ProxyConfigError, type ProxyConfig } from './config';
import { nodeListener } from '../node/http';
import { createProxyHandler, type ProxyDeps } from './handler';

export interface RunningProxy {
  server: Server;
  /** e.g. http://127.0.0.1:8787 */
  url: string;
  close(): Promise<void>;
}

/** Starts the proxy on config.host:config.port (port 0 = any free port). */
export async function startProxy(
  config: ProxyConfig,
  deps: ProxyDeps & { log?: (line: string) => void } = {},
): Promise<RunningProxy> {
  const log = deps.log ?? ((line: string) => console.log(line));
  const handler = createProxyHandler(config, { ...deps, log });
  const server = createServer(nodeListener(handler, log, 'proxy'));
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
