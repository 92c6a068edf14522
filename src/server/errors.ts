/**
 * Status and type of each named error the chat service, the store, the engine and the queue throw, for the
 * REST API's JSON errors (src/http/app.ts answers with them once, in onError).
 */
import {
  EmptyMessageError,
  GenerationAbortedError,
  GlimpseError,
  ImageTooLargeError,
  ImageUnreadableError,
  InvalidSessionIdError,
  MessageTooLongError,
  ModelFilesMissingError,
  ModelLoadError,
  OutOfMemoryError,
  PromptTooLongError,
  SessionNotFoundError,
  StaleWriteError,
  StorageQuotaError,
  UnknownModelError,
  UnsupportedImageError,
} from '../errors';
import type { ErrorBody } from '../http/errors';
import { QueueAbortedError, QueueFullError } from './queue';

function queueError(err: unknown): ErrorBody | null {
  if (err instanceof QueueFullError) {
    return {
      status: 503, type: 'overloaded_error', message: err.message, code: 'QueueFullError',
      headers: { 'retry-after': String(err.retryAfterSec) },
    };
  }
  if (err instanceof QueueAbortedError || (err instanceof GlimpseError && err.name === GenerationAbortedError.errorName)) {
    // The client went away; nobody reads this.
    return { status: 499, type: 'cancelled', code: 'ClientClosedRequest', message: 'The client closed the request.' };
  }
  return null;
}

export function fromError(err: unknown): ErrorBody | null {
  const queued = queueError(err);
  if (queued || !(err instanceof GlimpseError)) return queued;
  const is = (...classes: (typeof GlimpseError)[]) => classes.some((c) => err.name === c.errorName);
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
  if (is(StorageQuotaError)) return { ...base, status: 507, type: 'storage_error' };
  if (is(ModelFilesMissingError, ModelLoadError, UnknownModelError, OutOfMemoryError)) {
    return { ...base, status: 503, type: 'model_unavailable_error' };
  }
  return null;
}
