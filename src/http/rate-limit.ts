/**
 * A fixed-window request counter, shared by the proxy (per client address) and the REST API (per client
 * address and per session). Portable: no Node APIs (the proxy also runs on edge runtimes).
 *
 * Memory is bounded whatever keys arrive: windows that have ended are dropped as time passes (amortised O(1)
 * a request), and at most `maxKeys` windows are kept; a new key beyond that evicts the window that started
 * first (which forgets that key's count: failing open for the oldest key rather than refusing every new client).
 * Per instance: on serverless, each isolate counts on its own (docs/proxy.md says to use the platform's limiter).
 */
import { HttpError } from './errors';

export interface RateLimit {
  /** Requests allowed per key per window; 0 = no limit (nothing is counted or kept). */
  max: number;
  windowMs: number;
  /** Most keys kept at once (default 100,000: about 10 MB). */
  maxKeys?: number;
}

/** Returns 0 when the request may go ahead, otherwise the seconds until the key's window resets (Retry-After). */
export interface RateLimiter {
  (key: string): number;
  /** Keys counted now (for tests and metrics). */
  readonly size: number;
}

export const DEFAULT_MAX_KEYS = 100_000;

export function createRateLimiter(limit: RateLimit, now: () => number): RateLimiter {
  const maxKeys = Math.max(1, limit.maxKeys ?? DEFAULT_MAX_KEYS);
  // Insertion order is window-start order, so also reset order (every window is as long): a window that
  // restarts is deleted and set again. Ended windows are therefore a prefix, dropped from the front.
  const windows = new Map<string, { count: number; resetAt: number }>();
  const sweep = (t: number) => {
    for (const [k, w] of windows) {
      if (w.resetAt > t) break;
      windows.delete(k);
    }
  };
  const check = (key: string): number => {
    if (limit.max <= 0) return 0;
    const t = now();
    sweep(t);
    let w = windows.get(key);
    if (w === undefined) {
      if (windows.size >= maxKeys) windows.delete(windows.keys().next().value!);
      w = { count: 0, resetAt: t + limit.windowMs };
      windows.set(key, w);
    }
    w.count += 1;
    return w.count <= limit.max ? 0 : Math.max(1, Math.ceil((w.resetAt - t) / 1000));
  };
  return Object.defineProperty(check, 'size', { get: () => windows.size }) as RateLimiter;
}

/** The 429 both servers answer with, naming the limit in `code` and `message`. */
export function tooManyRequests(opts: { code: string; message: string; waitSec: number; param?: string | null }): HttpError {
  return new HttpError({ status: 429, type: 'rate_limited', code: opts.code, param: opts.param ?? null,
    message: opts.message, headers: { 'retry-after': String(opts.waitSec) } });
}
