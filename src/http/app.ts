/**
 * The HTTP layer both servers share, on Hono: the Host allowlist (DNS rebinding), the Origin check and CORS,
 * 404 and 405 with `Allow`, and one `onError` that turns every refusal into the JSON error shape. The proxy
 * and the REST API each add their routes to the app this makes; src/node/serve.ts puts `app.fetch` on
 * node:http, and the same `app.fetch` runs on edge runtimes. Portable: no Node APIs.
 */
import { Hono, type Context, type Handler } from 'hono';
import { cors } from 'hono/cors';
import { errorResponse, HttpError, type ErrorBody } from './errors';
import { hostAllowed, hostOfHeader, normalizeHost, type HostAllowlist } from './hosts';
import { metricsHandler, methodLabel, routeLabel, type MetricsEndpoint, type ServerObserver } from './metrics';

/** What the runtime passes with each request: the client's address, and on Node the raw IncomingMessage. */
export interface HttpBindings {
  address?: string;
  incoming?: unknown;
}

export type HttpEnv = { Bindings: HttpBindings };
export type HttpApp = Hono<HttpEnv>;

export interface HttpAppOptions {
  hosts: HostAllowlist;
  /** Browser origins allowed to call (CORS); `*` allows any. Requests without Origin (curl, scripts) pass. */
  origins: readonly string[];
  /** The setting that widens each list, named in the 403s (e.g. GLIMPSE_API_HOSTS). */
  hostsSetting: string;
  originsSetting: string;
  /** Methods a preflight may ask for. */
  corsMethods: string[];
  /** `Retry-After` etc. for the server's own named errors; null = not one of them (a 500). */
  mapError?: (err: unknown) => ErrorBody | null;
  /** The endpoint list the 404 names. */
  endpoints: readonly string[];
  /** Server-side detail of unexpected failures (never sent to the client). */
  log?: (line: string) => void;
  /** Told of every request (route pattern, method, status, time to headers). */
  observer?: ServerObserver;
  /** GET /metrics on this app; `token` non-null = a bearer token is required. Absent: /metrics is a 404. */
  metrics?: { endpoint: MetricsEndpoint; token: string | null };
}

const forbidden = (message: string, code: string, param: string): HttpError =>
  new HttpError({ status: 403, type: 'permission_error', message, code, param });

/** The effective host (the request target's, which wins for absolute-form) and the Host header must both be ours. */
function checkHost(c: Context<HttpEnv>, opts: HttpAppOptions): void {
  const header = c.req.header('host');
  const target = normalizeHost(new URL(c.req.url).hostname);
  for (const name of [target, header === undefined ? target : hostOfHeader(header)]) {
    if (!hostAllowed(opts.hosts, name)) {
      const shown = (header ?? target).slice(0, 100);
      throw forbidden(`This server does not answer to the host name "${shown}" (set ${opts.hostsSetting} to allow it).`,
        'HostNotAllowedError', 'host');
    }
  }
}

function originAllowed(opts: HttpAppOptions, origin: string): boolean {
  return opts.origins.includes('*') || opts.origins.includes(origin);
}

function internalError(err: unknown, c: Context<HttpEnv>, log?: (line: string) => void): Response {
  const what = err instanceof Error ? (err.stack ?? err.message) : String(err);
  log?.(`unexpected failure on ${c.req.method} ${new URL(c.req.url).pathname}: ${what}`);
  return errorResponse({ status: 500, type: 'internal_error', code: 'InternalError',
    message: 'The server failed unexpectedly; see its log.' });
}

/** A Hono app with the shared checks in front and the JSON errors behind; add routes with {@link route}. */
export function createHttpApp(opts: HttpAppOptions): HttpApp {
  // Not strict: /chat/ is /chat.
  const app = new Hono<HttpEnv>({ strict: false });
  const observer = opts.observer;
  if (observer) {
    app.use(async (c, next) => {
      const started = performance.now();
      await next();
      observer.request(routeLabel(c), methodLabel(c.req.method), c.res.status, (performance.now() - started) / 1000);
    });
  }
  app.use(async (c, next) => {
    checkHost(c, opts);
    const origin = c.req.header('origin');
    if (origin !== undefined && !originAllowed(opts, origin)) {
      throw forbidden(`Web pages from ${origin.slice(0, 100)} may not call this server (set ${opts.originsSetting} to allow them).`,
        'OriginNotAllowedError', 'origin');
    }
    await next();
  });
  app.use(cors({ origin: (o) => (o && originAllowed(opts, o) ? o : null), allowMethods: opts.corsMethods, maxAge: 600 }));
  app.notFound((c) => errorResponse({ status: 404, type: 'not_found_error', code: 'RouteNotFoundError', param: null,
    message: `There is no ${new URL(c.req.url).pathname.slice(0, 200)}. Endpoints: ${opts.endpoints.join(', ')}.` }));
  app.onError((err, c) => {
    if (err instanceof HttpError) return errorResponse(err.body);
    const known = opts.mapError?.(err);
    return known ? errorResponse(known) : internalError(err, c, opts.log);
  });
  if (opts.metrics) route(app, '/metrics', { GET: metricsHandler(opts.metrics.endpoint, opts.metrics.token) });
  return app;
}

type Method = 'GET' | 'POST' | 'DELETE';

/** Registers `path`'s handlers and a 405 naming the allowed methods for every other method on it. */
export function route(app: HttpApp, path: string, handlers: Partial<Record<Method, Handler<HttpEnv> | Handler<HttpEnv>[]>>): void {
  const allowed = Object.keys(handlers) as Method[];
  for (const m of allowed) {
    const chain = handlers[m]!;
    // Handlers registered in order on one path run as one chain (middleware first).
    for (const h of Array.isArray(chain) ? chain : [chain]) app.on(m, path, h);
  }
  // HEAD is answered wherever GET is (Hono), but Allow names what a client should send.
  const allow = allowed.join(', ');
  app.all(path, (c) => {
    throw new HttpError({ status: 405, type: 'invalid_request_error', code: 'MethodNotAllowedError', param: null,
      message: `${c.req.method.slice(0, 20)} is not allowed on ${new URL(c.req.url).pathname}; use ${allowed.join(' or ')}.`,
      headers: { allow } });
  });
}
