/**
 * Where a Node server answers GET /metrics (src/http/metrics.ts has the rules): on its main port, or on a
 * listener of its own bound to 127.0.0.1 (GLIMPSE_METRICS_PORT) that answers nothing else.
 */
import { createHttpApp } from '../http/app';
import { hostAllowlist } from '../http/hosts';
import { metricsAccess, metricsStartLine, type MetricsEndpoint, type MetricsSettings } from '../http/metrics';
import { serveFetch, type Served } from './serve';

export interface MetricsPlan {
  /** For createHttpApp's `metrics` option on the main port; undefined = /metrics is a 404 there. */
  main: { endpoint: MetricsEndpoint; token: string | null } | undefined;
  /** Starts the loopback-only listener when one is configured; null otherwise. */
  startSeparate(log: (line: string) => void): Promise<Served | null>;
  /** The start log's line about /metrics. */
  line(mainUrl: string, separate: Served | null): string;
}

export function planMetrics(bindHost: string, settings: MetricsSettings, endpoint: MetricsEndpoint): MetricsPlan {
  const access = metricsAccess(bindHost, settings);
  return {
    main: access.main === 'off' ? undefined : { endpoint, token: access.main === 'token' ? settings.token : null },
    async startSeparate(log) {
      if (access.separatePort === null) return null;
      const app = createHttpApp({
        hosts: hostAllowlist([], '127.0.0.1'), origins: [], hostsSetting: 'GLIMPSE_METRICS_PORT',
        originsSetting: 'GLIMPSE_METRICS_PORT', corsMethods: ['GET'], endpoints: ['GET /metrics'], log,
        metrics: { endpoint, token: settings.token },
      });
      return serveFetch(app.fetch, { host: '127.0.0.1', port: access.separatePort, log, portSetting: 'GLIMPSE_METRICS_PORT' });
    },
    line: (mainUrl, separate) => metricsStartLine(access, mainUrl, separate?.url ?? null),
  };
}
