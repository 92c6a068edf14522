/**
 * Thin Node entry for the proxy's Hono app (src/node/serve.ts: node:http ↔ Request/Response, streaming with
 * backpressure, an abort of the upstream call when the client disconnects, one log line per request, never a
 * header, a body or the key). Run with `npm run proxy`.
 */
import { pathToFileURL } from 'node:url';
import { loadConfig, ProxyConfigError, type ProxyConfig } from './config';
import { machineNames } from '../node/hosts';
import { serveFetch, type Served } from '../node/serve';
import { createProxyApp, type ProxyDeps } from './handler';

export type RunningProxy = Served;

/** Starts the proxy on config.host:config.port (port 0 = any free port). */
export async function startProxy(
  config: ProxyConfig,
  deps: ProxyDeps & { log?: (line: string) => void } = {},
): Promise<RunningProxy> {
  const log = deps.log ?? ((line: string) => console.log(line));
  const app = createProxyApp(config, { ...deps, log, extraHosts: machineNames(config.host) });
  return serveFetch(app.fetch, { host: config.host, port: config.port, log });
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
