/**
 * Retries of calls to an OpenAI-compatible server, shared by the proxy (src/proxy/upstream.ts) and the REST
 * API's inference-server engine (src/server/openai-engine.ts): which errors are worth another attempt, how
 * long to wait (exponential backoff with jitter, or what the server asked for in retry-after / retry-after-ms),
 * and the loop itself. Portable: no Node APIs (the proxy also runs on edge runtimes).
 */
import { APIConnectionError, APIError, APIUserAbortError } from 'openai';

export interface RetryPolicy {
  /** Attempts after the first. */
  maxRetries: number;
  /** First backoff delay; doubles each retry, with up to 25% jitter taken off. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A retry-after longer than this is not waited for: the 429 goes back to the caller with it. */
  maxRetryAfterMs: number;
}

/** What the server asked for in `retry-after-ms` or `retry-after` (seconds or an HTTP date), in ms. */
export function retryAfterMs(err: unknown): number | undefined {
  if (!(err instanceof APIError) || !err.headers) return undefined;
  const ms = parseFloat(err.headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const header = err.headers.get('retry-after');
  if (header === null) return undefined;
  const sec = parseFloat(header);
  if (Number.isFinite(sec)) return Math.max(0, sec * 1000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** Timeouts, connection errors and 408/409/429/5xx are worth another attempt; an abort or a 4xx is not. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof APIUserAbortError) return false;
  if (err instanceof APIConnectionError) return true; // includes timeouts
  if (err instanceof APIError && typeof err.status === 'number') {
    return err.status === 408 || err.status === 409 || err.status === 429 || err.status >= 500;
  }
  return false;
}

/** The wait before retry number `attempt` (0-based), or null when the server asks for more than we wait. */
export function retryDelay(err: unknown, attempt: number, retry: RetryPolicy): number | null {
  const asked = retryAfterMs(err);
  if (asked !== undefined) return asked <= retry.maxRetryAfterMs ? asked : null;
  const backoff = Math.min(retry.baseDelayMs * 2 ** attempt, retry.maxDelayMs);
  return backoff * (1 - Math.random() * 0.25); // jitter: spreads clients that failed together
}

/** Resolves after `ms`, or rejects with the SDK's APIUserAbortError as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new APIUserAbortError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new APIUserAbortError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryHooks {
  /** Turns the last error into the one thrown (attempts = how many calls were made). */
  fail(err: unknown, attempts: number): Error;
  /** Called before waiting for retry number `attempt` (1-based). */
  onRetry?(attempt: number, err: unknown, waitMs: number): void;
  /** Whether this error is worth another attempt (default {@link isRetryable}). */
  retryable?(err: unknown): boolean;
}

/**
 * Runs `call` until it succeeds, retrying what {@link isRetryable} allows with {@link retryDelay}'s waits; an
 * abort of `signal` ends it at once. Every failure leaves through `hooks.fail`.
 */
export async function withRetries<T>(call: () => Promise<T>, policy: RetryPolicy, signal: AbortSignal,
  hooks: RetryHooks): Promise<T> {
  const retryable = hooks.retryable ?? isRetryable;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (signal.aborted) throw hooks.fail(new APIUserAbortError(), attempt + 1);
      if (!retryable(err) || attempt >= policy.maxRetries) throw hooks.fail(err, attempt + 1);
      const wait = retryDelay(err, attempt, policy);
      if (wait === null) throw hooks.fail(err, attempt + 1);
      hooks.onRetry?.(attempt + 1, err, wait);
      try {
        await sleep(wait, signal);
      } catch (abort) {
        throw hooks.fail(abort, attempt + 1);
      }
    }
  }
}
