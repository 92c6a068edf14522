/**
 * The REST API's rate limits (docs/rest-api.md): requests per client address (every endpoint but /health,
 * / and /metrics) and POST /chat turns per session, each per window, on the limiter the proxy uses too
 * (src/http/rate-limit.ts). Both are checked before a body is read or a queue place taken: the client's on
 * arrival, the session's as soon as the form's session_id part has been read (before the image when the
 * client sends session_id first, as curl -F does in the order given).
 */
import type { Context, Next } from 'hono';
import type { HttpEnv } from '../http/app';
import { clientAddress, clientKey } from '../http/client';
import type { ServerObserver } from '../http/metrics';
import { createRateLimiter, tooManyRequests } from '../http/rate-limit';
import type { ApiConfig } from './config';

const per = (windowMs: number): string => (windowMs === 60_000 ? 'per minute' : `per ${windowMs / 1000} s`);

export function createApiLimits(config: Pick<ApiConfig, 'rateLimit' | 'trustedProxies'>, now: () => number = Date.now,
  observer?: ServerObserver) {
  const { perClient, perSession, windowMs } = config.rateLimit;
  const clients = createRateLimiter({ max: perClient, windowMs }, now);
  const sessions = createRateLimiter({ max: perSession, windowMs }, now);
  return {
    clients,
    sessions,
    /** Middleware: refuses a client over its limit with 429 before anything else is done. */
    async client(c: Context<HttpEnv>, next: Next): Promise<void> {
      const address = clientAddress(c.env?.address, c.req.header('x-forwarded-for'), config.trustedProxies);
      const wait = clients(clientKey(address));
      if (wait > 0) {
        observer?.rateLimited('client');
        throw tooManyRequests({ code: 'ClientRateLimitError', waitSec: wait,
          message: `Too many requests from this client: at most ${perClient} ${per(windowMs)} ` +
            `(GLIMPSE_RATE_PER_CLIENT). Try again in ${wait} s.` });
      }
      await next();
    },
    /** Counts a turn in `sessionId`; throws the 429 when the session is over its limit. */
    session(sessionId: string): void {
      const wait = sessions(sessionId);
      if (wait > 0) {
        observer?.rateLimited('session');
        throw tooManyRequests({ code: 'SessionRateLimitError', waitSec: wait, param: 'session_id',
          message: `Too many messages in this session: at most ${perSession} ${per(windowMs)} ` +
            `(GLIMPSE_RATE_PER_SESSION). Try again in ${wait} s.` });
      }
    },
  };
}
