/**
 * Status and type of each named error the chat service, the store, the engine and the queue throw, for the
 * REST API's JSON errors (src/http/app.ts answers with them once, in onError).
 */
import {
  CannotContinueError,
  EmptyMessageError,
  GenerationAbortedError,
  GlimpseError,
  ImageTooLargeError,
  ImageUnreadableError,
  InvalidSessionIdError,
  MessageTooLongError,
  ModelFilesMissingError,
  ModelHostUnreachableError,
  ModelLoadError,
  OutOfMemoryError,
  PromptTooLongError,
  RemoteRateLimitedError,
  RemoteRequestError,
  RemoteUnavailableError,
  SessionNotFoundError,
  StaleWriteError,
  StorageQuotaError,
  UnknownModelError,
  UnsupportedImageError,
} from '../errors';
import type { ErrorBody } from '../http/errors';
import { QueueAbortedError, QueueFullError } from './queue';

/**
 * The inference server's failures (GLIMPSE_ENGINE=openai, src/server/openai-errors.ts): this server is its
 * gateway, so 502 (it failed or refused what we sent), 504 (it did not answer in time), 503 (it is loading or
 * overloaded: llama-server answers 503 while it loads the model) and 429 (it is refusing more for now).
 */
function remoteError(err: GlimpseError): ErrorBody | null {
  const is = (cls: typeof GlimpseError) => err.name === cls.errorName;
  const base = { message: err.message, code: err.name, type: 'upstream_error' };
  const seconds = typeof err.data.retryAfterSec === 'number' ? { headers: { 'retry-after': String(err.data.retryAfterSec) } } : {};
  if (is(RemoteRateLimitedError)) return { ...base, status: 429, type: 'rate_limit_error', ...seconds };
  if (is(RemoteUnavailableError)) {
    if (err.data.timeout === true) return { ...base, status: 504 };
    if (err.data.status === 503) return { ...base, status: 503, type: 'model_unavailable_error', ...seconds };
    return { ...base, status: 502 };
  }
  if (is(RemoteRequestError)) return { ...base, status: 502 };
  return null;
}

/** The queue's refusals, and a request whose client went away while it waited or was answered. */
function queueError(err: GlimpseError, is: (...classes: { readonly errorName: string }[]) => boolean): ErrorBody | null {
  if (is(QueueFullError)) {
    return {
      status: 503, type: 'overloaded_error', message: err.message, code: err.name,
      headers: { 'retry-after': String(err.data.retryAfterSec) },
    };
  }
  if (is(QueueAbortedError, GenerationAbortedError)) {
    // The client went away; nobody reads this.
    return { status: 499, type: 'cancelled', code: 'ClientClosedRequest', message: 'The client closed the request.' };
  }
  return null;
}

export function fromError(err: unknown): ErrorBody | null {
  if (!(err instanceof GlimpseError)) return null;
  const is = (...classes: { readonly errorName: string }[]) => classes.some((c) => err.name === c.errorName);
  const queued = queueError(err, is);
  if (queued) return queued;
  const param = typeof err.data.field === 'string' ? err.data.field : null;
  const base = { message: err.message, code: err.name };
  const invalid = { ...base, type: 'invalid_request_error' };
  if (is(EmptyMessageError, MessageTooLongError)) return { ...invalid, status: 400, param: param ?? 'message' };
  if (is(InvalidSessionIdError)) return { ...invalid, status: 400, param: 'session_id' };
  if (is(SessionNotFoundError)) return { ...base, status: 404, type: 'not_found_error', param: 'session_id' };
  if (is(UnsupportedImageError)) return { ...invalid, status: 415, param: 'image' };
  if (is(ImageTooLargeError)) return { ...invalid, status: 413, param: 'image' };
  if (is(ImageUnreadableError)) return { ...invalid, status: 422, param: 'image' };
  if (is(PromptTooLongError)) return { ...invalid, status: 422, param: 'message' };
  if (is(StaleWriteError)) return { ...base, status: 409, type: 'conflict_error' };
  if (is(CannotContinueError)) return { ...base, status: 409, type: 'conflict_error', param: 'session_id' };
  if (is(StorageQuotaError)) return { ...base, status: 507, type: 'storage_error' };
  if (is(ModelFilesMissingError, ModelHostUnreachableError, ModelLoadError, UnknownModelError, OutOfMemoryError)) {
    return { ...base, status: 503, type: 'model_unavailable_error' };
  }
  return remoteError(err);
}
