/**
 * The inference-server engine's failures as Glimpse's named errors (src/errors.ts): the REST API answers
 * RemoteRateLimitedError with 429, RemoteUnavailableError with 502/503/504 and RemoteRequestError with 502
 * (src/server/errors.ts). Each carries the partial answer in `data.partial`, like the other backends.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { RemoteUnavailableError, type GlimpseError } from '../errors';
import { retryAfterMs } from '../remote/retry';
import { bodyMessage, toRemoteError, type FailureWords } from '../remote/sdk-errors';

/** What a message needs to say where the failure happened. */
export interface ErrorContext {
  /** host:port of the inference server. */
  host: string;
  timeoutMs: number;
  /** GLIMPSE_ENGINE_KEY: removed from any upstream text passed on. */
  secret: string;
}

/** How far the answer got: the text streamed so far, and how many chunks of it. */
export interface SoFar {
  text: string;
  tokens: number;
}

/** What every engine error carries besides the partial answer. */
type EngineErrorData = { status: number | null; attempts: number; host: string; retryAfterSec: number | null };

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
  let text = bodyMessage(err) ?? (typeof err.error === 'string' ? err.error : '');
  if (secret) text = text.split(secret).join('[redacted]');
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/** Any failure of a turn on the inference server as a named Glimpse error; see the file comment. */
export function toEngineError(err: unknown, attempts: number, ctx: ErrorContext, soFar: SoFar,
  signal: AbortSignal): GlimpseError {
  const status = err instanceof APIError && typeof err.status === 'number' ? err.status : null;
  const wait = retryAfterMs(err);
  const retryAfterSec = wait === undefined ? null : Math.max(1, Math.ceil(wait / 1000));
  const data: EngineErrorData = { status, attempts, host: ctx.host, retryAfterSec };
  const stopped = signal.aborted || err instanceof APIUserAbortError;
  if (soFar.tokens > 0 && !stopped) {
    const timeout = err instanceof APIConnectionTimeoutError;
    // An error event is the server's own report (llama-server's 500 message): its words, not a guess.
    const reason = err instanceof APIError && !(err instanceof APIConnectionError) ? upstreamText(err, ctx.secret) : '';
    const how = timeout ? `went silent for ${ctx.timeoutMs} ms` : reason ? 'failed' : 'stopped sending';
    return new RemoteUnavailableError(`The inference server at ${ctx.host} ${how} in the middle of the answer ` +
      `(after ${soFar.tokens} tokens)${reason ? `: ${reason}` : ''}; the text so far is kept. Ask again to get a whole answer.`,
    { ...data, partial: soFar.text, timeout }, { cause: err });
  }
  return toRemoteError(err, signal, soFar.text, engineWords(ctx, attempts, data));
}

/** The inference server's failures, said for the operator: where, after how many attempts, and what to check. */
function engineWords(ctx: ErrorContext, attempts: number, data: EngineErrorData): FailureWords {
  const at = `The inference server at ${ctx.host}`;
  const tries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
  const why = (err: APIError) => {
    const text = upstreamText(err, ctx.secret);
    return text ? `: ${text}` : '.';
  };
  return {
    unreachable: (err) => err instanceof APIConnectionTimeoutError
      ? { message: `${at} did not answer within ${ctx.timeoutMs} ms${tries}.`, data: { ...data, timeout: true } }
      : { message: `Could not reach the inference server at ${ctx.host}${tries}: is it running, ` +
        'and is GLIMPSE_ENGINE_URL right?', data },
    other: (err) => ({ message: `${at} failed: ${err instanceof Error ? err.message : String(err)}`, data }),
    rateLimited: () => ({ message: `${at} is refusing more requests for now${tries}; try again` +
      `${data.retryAfterSec === null ? ' later' : ` in ${data.retryAfterSec} s`}.`, data }),
    failed: (err, status) => ({
      message: `${at} failed${status === null ? '' : ` with status ${status}`}${tries}${why(err)}`, data }),
    refused: (err, status) => status === 401 || status === 403
      ? { message: `${at} refused the credentials (status ${status}): check GLIMPSE_ENGINE_KEY.`, data }
      : { message: `${at} refused the request with status ${status}${why(err)}`, data },
  };
}
