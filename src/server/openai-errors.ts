/**
 * The inference-server engine's failures as Glimpse's named errors (src/errors.ts): the REST API answers
 * RemoteRateLimitedError with 429, RemoteUnavailableError with 502/503/504 and RemoteRequestError with 502
 * (src/server/errors.ts). Each carries the partial answer in `data.partial`, like the other backends.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import {
  GenerationAbortedError,
  RemoteRateLimitedError,
  RemoteRequestError,
  RemoteUnavailableError,
  type GlimpseError,
} from '../errors';
import { retryAfterMs } from '../remote/retry';

/** What a message needs to say where and how far the answer got. */
export interface ErrorContext {
  /** host:port of the inference server. */
  host: string;
  timeoutMs: number;
  /** GLIMPSE_ENGINE_KEY: removed from any upstream text passed on. */
  secret: string;
  /** The text streamed so far, and how many chunks of it. */
  partial: string;
  tokens: number;
}

/** The upstream's HTTP status for a failed attempt; null for a connection error, a timeout, a drop or a stop. */
export function upstreamStatus(err: unknown, signal: AbortSignal): number | null {
  if (signal.aborted) return null;
  return err instanceof APIError && typeof err.status === 'number' ? err.status : null;
}

/** A short, fixed label for a retry (metrics): rate_limited, server_error, timeout or connection. */
export function retryReason(err: unknown): string {
  if (err instanceof APIConnectionTimeoutError) return 'timeout';
  if (err instanceof APIConnectionError) return 'connection';
  if (err instanceof APIError && err.status === 429) return 'rate_limited';
  return 'server_error';
}

/** The upstream's own words for a refused request: the operator's server, so worth showing; short, no key. */
function upstreamText(err: APIError, secret: string): string {
  const body = (err.error ?? {}) as { message?: unknown };
  let text = typeof body.message === 'string' ? body.message : typeof err.error === 'string' ? err.error : '';
  if (secret) text = text.split(secret).join('[redacted]');
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** Any failure of a turn on the inference server as a named Glimpse error; see the file comment. */
export function toEngineError(err: unknown, attempts: number, ctx: ErrorContext, signal: AbortSignal): GlimpseError {
  const partial = ctx.partial;
  if (signal.aborted || err instanceof APIUserAbortError) return new GenerationAbortedError('Stopped.', { partial });
  const at = `The inference server at ${ctx.host}`;
  const tries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
  const status = err instanceof APIError && typeof err.status === 'number' ? err.status : null;
  const wait = retryAfterMs(err);
  const retryAfterSec = wait === undefined ? null : Math.max(1, Math.ceil(wait / 1000));
  const data = { status, attempts, partial, host: ctx.host, retryAfterSec };
  const cause = { cause: err };
  if (ctx.tokens > 0) {
    const how = err instanceof APIConnectionTimeoutError ? `went silent for ${ctx.timeoutMs} ms` : 'stopped sending';
    return new RemoteUnavailableError(`${at} ${how} in the middle of the answer (after ${ctx.tokens} tokens); ` +
      'the text so far is kept. Ask again to get a whole answer.', { ...data, timeout: err instanceof APIConnectionTimeoutError }, cause);
  }
  if (err instanceof APIConnectionTimeoutError) {
    return new RemoteUnavailableError(`${at} did not answer within ${ctx.timeoutMs} ms${tries}.`, { ...data, timeout: true }, cause);
  }
  if (err instanceof APIConnectionError) {
    return new RemoteUnavailableError(`Could not reach the inference server at ${ctx.host}${tries}: is it running, ` +
      'and is GLIMPSE_ENGINE_URL right?', data, cause);
  }
  if (!(err instanceof APIError)) {
    return new RemoteRequestError(`${at} failed: ${err instanceof Error ? err.message : String(err)}`, data, cause);
  }
  if (status === 429) {
    return new RemoteRateLimitedError(`${at} is refusing more requests for now${tries}; try again` +
      `${retryAfterSec === null ? ' later' : ` in ${retryAfterSec} s`}.`, data, cause);
  }
  if (status === null || status >= 500) {
    const why = upstreamText(err, ctx.secret);
    return new RemoteUnavailableError(`${at} failed${status === null ? '' : ` with status ${status}`}${tries}` +
      `${why ? `: ${why}` : '.'}`, data, cause);
  }
  if (status === 401 || status === 403) {
    return new RemoteRequestError(`${at} refused the credentials (status ${status}): check GLIMPSE_ENGINE_KEY.`, data, cause);
  }
  const why = upstreamText(err, ctx.secret);
  return new RemoteRequestError(`${at} refused the request with status ${status}${why ? `: ${why}` : '.'}`, data, cause);
}
