/**
 * What both servers report for GET /metrics, and who may read it; portable (no Node APIs, no prom-client):
 * the proxy's fetch handler also runs on edge runtimes, so it only sees the {@link ServerObserver} interface
 * and an optional {@link MetricsEndpoint}. src/node/metrics.ts implements both with prom-client on Node.
 *
 * Access: GLIMPSE_METRICS_PORT moves /metrics to a listener of its own on 127.0.0.1 (the main port answers
 * 404); otherwise GLIMPSE_METRICS_TOKEN makes it ask for `Authorization: Bearer <token>`; otherwise it is
 * open on a loopback bind and off (404) on any other.
 */
import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Env } from './env';
import { HttpError } from './errors';
import { isWildcardBind, normalizeHost } from './hosts';

/** What a server observes; every method is cheap and never throws. Labels are bounded by construction. */
export interface ServerObserver {
  /** One answered request: its route pattern (never the raw path), method, status and time to headers. */
  request(route: string, method: string, status: number, seconds: number): void;
  /** A client refused by a rate limit. */
  rateLimited(limit: 'client' | 'session'): void;
  /** One answer generated (or relayed): its timings, tokens and conversation length, when known. */
  answer(a: AnswerFacts): void;
  /** An upstream attempt about to be retried, and why: rate_limited, server_error, timeout, connection, or a status. */
  upstreamRetry(reason: string): void;
  /** A failed upstream attempt: the upstream's HTTP status, or null when none came (timeout, connection, drop). */
  upstreamError(status: number | null): void;
}

export interface AnswerFacts {
  ttftSeconds?: number;
  totalSeconds?: number;
  promptTokens?: number;
  completionTokens?: number;
  /** Prompt tokens served from the KV cache. */
  cachedTokens?: number;
  /** How the image was read: by the encoder, from the KV cache, or from stored features; absent without image. */
  vision?: 'ran' | 'kv_cache' | 'stored_features';
  /** Messages in the conversation after this answer (REST API) or sent with the request (proxy). */
  messages?: number;
  /** A new session was created for it (REST API). */
  newSession?: boolean;
  sessionId?: string;
}

/** The text format, made at scrape time. */
export interface MetricsEndpoint {
  scrape(): Promise<{ contentType: string; body: string }>;
}

export interface MetricsSettings {
  /** GLIMPSE_METRICS_PORT: a loopback-only listener for /metrics (0 = any free port); null = none. */
  port: number | null;
  /** GLIMPSE_METRICS_TOKEN: the bearer token /metrics asks for; null = none. */
  token: string | null;
}

/** Reads GLIMPSE_METRICS_PORT and GLIMPSE_METRICS_TOKEN; bad values go to `problems`. */
export function readMetricsSettings(env: Env, problems: string[]): MetricsSettings {
  const rawPort = env.GLIMPSE_METRICS_PORT?.trim();
  let port: number | null = null;
  if (rawPort) {
    port = Number(rawPort);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      problems.push(`GLIMPSE_METRICS_PORT must be a whole number from 0 to 65535 (got "${rawPort}")`);
      port = null;
    }
  }
  const token = env.GLIMPSE_METRICS_TOKEN?.trim() || null;
  if (token !== null && (token.length < 16 || /[^\x21-\x7e]/.test(token))) {
    problems.push('GLIMPSE_METRICS_TOKEN must be at least 16 printable characters without spaces (e.g. `openssl rand -hex 24`)');
  }
  return { port, token };
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1)$/;
export const isLoopbackBind = (host: string): boolean => !isWildcardBind(host) && LOOPBACK.test(normalizeHost(host));

/** Where /metrics is answered: on the main port ('open', 'token' or 'off') and whether on a port of its own. */
export interface MetricsAccess {
  main: 'open' | 'token' | 'off';
  separatePort: number | null;
}

export function metricsAccess(bindHost: string, s: MetricsSettings): MetricsAccess {
  if (s.port !== null) return { main: 'off', separatePort: s.port };
  if (s.token !== null) return { main: 'token', separatePort: null };
  return { main: isLoopbackBind(bindHost) ? 'open' : 'off', separatePort: null };
}

/** The start log's line about /metrics, saying how to turn it on when it is off. */
export function metricsStartLine(access: MetricsAccess, mainUrl: string, separateUrl: string | null): string {
  if (separateUrl !== null) return `metrics: ${separateUrl}/metrics (loopback only); ${mainUrl}/metrics answers 404`;
  if (access.main === 'open') return `metrics: ${mainUrl}/metrics (open: loopback bind)`;
  if (access.main === 'token') return `metrics: ${mainUrl}/metrics with "Authorization: Bearer $GLIMPSE_METRICS_TOKEN"`;
  return 'metrics: off on this public bind (/metrics answers 404); set GLIMPSE_METRICS_PORT for a loopback-only ' +
    'listener, or GLIMPSE_METRICS_TOKEN to require a bearer token';
}

/** Compares in time independent of where the strings differ. */
function sameSecret(given: string, expected: string): boolean {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) diff |= (given.charCodeAt(i) || 0) ^ expected.charCodeAt(i);
  return diff === 0;
}

/** The GET /metrics handler; `token` non-null = a bearer token is required. */
export function metricsHandler(endpoint: MetricsEndpoint, token: string | null) {
  return async (c: Context): Promise<Response> => {
    if (token !== null) {
      const given = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
      if (!sameSecret(given, token)) {
        throw new HttpError({ status: 401, type: 'authentication_error', code: 'MetricsUnauthorizedError', param: null,
          message: '/metrics needs "Authorization: Bearer <GLIMPSE_METRICS_TOKEN>".',
          headers: { 'www-authenticate': 'Bearer realm="metrics"' } });
      }
    }
    const { contentType, body } = await endpoint.scrape();
    return new Response(body, { status: 200, headers: { 'content-type': contentType, 'cache-control': 'no-store' } });
  };
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The route label: the pattern the request matched (`/chat/history/:id`), or `unmatched` for a 404. */
export function routeLabel(c: Context): string {
  const paths = matchedRoutes(c).map((r) => r.path).filter((p) => p !== '/*' && p !== '*');
  return paths[paths.length - 1] ?? 'unmatched';
}

export const methodLabel = (method: string): string => (METHODS.has(method) ? method : 'OTHER');
