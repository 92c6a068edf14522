/**
 * Thin Node entry for the proxy's Hono app (src/node/serve.ts: node:http ↔ Request/Response, streaming with
 * backpressure, an abort of the upstream call when the client disconnects, one log line per request, never a
 * header, a body or the key). Run with `npm run proxy`.
 *
 * Metrics live here, not in the portable handler: prom-client is Node-only, so this entry makes the registry
 * (src/node/metrics.ts) and injects it as the handler's optional observer and /metrics endpoint.
 */
import { pathToFileURL } from 'node:url';
import { GlimpseError } from '../errors';
import { loadConfig, type ProxyConfig } from './config';
import { machineNames } from '../node/hosts';
import { createServerMetrics, type ServerMetrics } from '../node/metrics';
import { planMetrics } from '../node/metrics-listener';
import { serveFetch, type Served } from '../node/serve';
import { exitOnSignals } from '../node/signals';
import { createProxyApp, type ProxyDeps } from './handler';

export interface RunningProxy extends Served {
  metrics: ServerMetrics;
  /** The loopback-only metrics listener (GLIMPSE_METRICS_PORT), when there is one. */
  metricsUrl: string | null;
}

/** Starts the proxy on config.host:config.port (port 0 = any free port). */
export async function startProxy(
  config: ProxyConfig,
  deps: ProxyDeps & { log?: (line: string) => void } = {},
): Promise<RunningProxy> {
  const log = deps.log ?? ((line: string) => console.log(line));
  const metrics = createServerMetrics();
  const plan = planMetrics(config.host, config.metrics, metrics.endpoint);
  const app = createProxyApp(config, {
    ...deps, log, extraHosts: machineNames(config.host), observer: metrics.observer, ...(plan.main ? { metrics: plan.main } : {}),
  });
  const served = await serveFetch(app.fetch, { host: config.host, port: config.port, log });
  const separate = await plan.startSeparate(log).catch(async (err: unknown) => {
    await served.close();
    throw err;
  });
  log(plan.line(served.url, separate));
  return {
    ...served, metrics, metricsUrl: separate?.url ?? null,
    close: async () => {
      await served.close();
      await separate?.close();
    },
  };
}

async function main(): Promise<void> {
  let config: ProxyConfig;
  let proxy: RunningProxy;
  try {
    config = loadConfig(process.env);
    proxy = await startProxy(config);
  } catch (err) {
    // The settings (ProxyConfigError), or the port in use (PortInUseError, naming it and PORT): one line, exit 1.
    if (err instanceof GlimpseError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  console.log(`Glimpse proxy listening on ${proxy.url} → ${config.baseURL ?? 'https://api.openai.com/v1'} ` +
    `(default model ${config.defaultModel}; ${config.allowedModels.length} allowed)`);
  exitOnSignals(proxy, (line) => console.log(line));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
