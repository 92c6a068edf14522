/**
 * The OpenAI SDK's failures as Glimpse's named errors (src/errors.ts), for both SDK backends: the browser's
 * remote backend (to the proxy) and the REST API's inference-server engine. Which error a failure becomes is
 * decided here once; what it says, and the data it carries, is each backend's own (`FailureWords`). Every
 * error carries the partial answer in `data.partial`.
 */
import { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import {
  GenerationAbortedError,
  RemoteRateLimitedError,
  RemoteRequestError,
  RemoteUnavailableError,
  type GlimpseError,
} from '../errors';

/** A message and the data to go with it (`partial` is added). */
export interface Said {
  message: string;
  data?: Record<string, unknown>;
}

/** What a backend says for each kind of failure. */
export interface FailureWords {
  /** Nothing came back: a connection error, or a timeout (APIConnectionTimeoutError is one). */
  unreachable(err: APIConnectionError): Said;
  /** 429. */
  rateLimited(err: APIError, status: 429): Said;
  /** A 5xx, or no status: an error event in the middle of the stream (the server lost its model). */
  failed(err: APIError, status: number | null): Said;
  /** Any other status: the request itself was refused. */
  refused(err: APIError, status: number): Said;
  /** Anything that is not the SDK's. */
  other(err: unknown): Said;
}

/** The upstream's own message in an error body, when it sent one. */
export function bodyMessage(err: APIError): string | undefined {
  const body = (err.error ?? {}) as { message?: unknown };
  return typeof body.message === 'string' ? body.message : undefined;
}

/** A stop (the signal, or the SDK's abort) is GenerationAbortedError; the rest as the file comment says. */
export function toRemoteError(err: unknown, signal: AbortSignal, partial: string, words: FailureWords): GlimpseError {
  if (signal.aborted || err instanceof APIUserAbortError) return new GenerationAbortedError('Stopped.', { partial });
  const cause = { cause: err };
  const make = (Kind: typeof RemoteRequestError, said: Said) =>
    new Kind(said.message, { ...said.data, partial }, cause);
  if (err instanceof APIConnectionError) return make(RemoteUnavailableError, words.unreachable(err));
  if (!(err instanceof APIError)) return make(RemoteRequestError, words.other(err));
  const status = typeof err.status === 'number' ? err.status : null;
  if (status === 429) return make(RemoteRateLimitedError, words.rateLimited(err, status));
  if (status === null || status >= 500) return make(RemoteUnavailableError, words.failed(err, status));
  return make(RemoteRequestError, words.refused(err, status));
}
