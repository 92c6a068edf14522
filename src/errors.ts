/**
 * Named errors shared by every room of Glimpse (chat, storage, engine, remote).
 *
 * Each error has a stable `name` (never derived from `constructor.name`: production builds minify class
 * names) and a message written for a person: what happened and what to do next. Errors cross the worker
 * boundary as {@link SerializedError} and are rebuilt into the same class by {@link deserializeError}.
 */
export class GlimpseError extends Error {
  /** Stable, unminified name; also the key used to rebuild the class across a worker boundary. */
  static readonly errorName: string = 'GlimpseError';
  /** Extra data a UI can use (e.g. the offending field or limit). */
  readonly data: Record<string, unknown>;

  constructor(message: string, data: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = (this.constructor as typeof GlimpseError).errorName;
    this.data = data;
  }
}

function named(errorName: string) {
  return class extends GlimpseError {
    static override readonly errorName = errorName;
  };
}

// --- input -------------------------------------------------------------------------------------------
export class EmptyMessageError extends named('EmptyMessageError') {}
export class MessageTooLongError extends named('MessageTooLongError') {}
export class SessionNotFoundError extends named('SessionNotFoundError') {}
export class InvalidSessionIdError extends named('InvalidSessionIdError') {}
export class UnsupportedImageError extends named('UnsupportedImageError') {}
export class ImageUnreadableError extends named('ImageUnreadableError') {}
export class ImageTooLargeError extends named('ImageTooLargeError') {}
/** A picture the model's memory on this device cannot read at this detail (refused before it is decoded). */
export class ImageTooBigForMemoryError extends named('ImageTooBigForMemoryError') {}
export class InvalidImportError extends named('InvalidImportError') {}
/** An answer version asked for that the turn does not have. */
export class VersionNotFoundError extends named('VersionNotFoundError') {}
/** Continue asked of a chat whose last answer was not cut off, or of a backend that cannot extend an answer. */
export class CannotContinueError extends named('CannotContinueError') {}
// --- storage -----------------------------------------------------------------------------------------
export class StorageQuotaError extends named('StorageQuotaError') {}
export class StorageUnavailableError extends named('StorageUnavailableError') {}
/** A stored record that cannot be read as what it claims to be (set aside, never used). */
export class DamagedRecordError extends named('DamagedRecordError') {}
/** An update built on an old read of a message that has been rewritten since (it would undo the newer write). */
export class StaleWriteError extends named('StaleWriteError') {}
// --- generation / engine -----------------------------------------------------------------------------
export class GenerationAbortedError extends named('GenerationAbortedError') {}
export class NoAdapterError extends named('NoAdapterError') {}
export class OutOfMemoryError extends named('OutOfMemoryError') {}
export class DeviceLostError extends named('DeviceLostError') {}
export class ModelFilesMissingError extends named('ModelFilesMissingError') {}
export class ModelLoadError extends named('ModelLoadError') {}
/** The model host cannot be reached at all (offline, blocked, wrong host): `data.host` names it. */
export class ModelHostUnreachableError extends named('ModelHostUnreachableError') {}
export class UnknownModelError extends named('UnknownModelError') {}
export class PromptTooLongError extends named('PromptTooLongError') {}
export class WorkerCrashedError extends named('WorkerCrashedError') {}
export class EngineError extends named('EngineError') {}
// --- remote ------------------------------------------------------------------------------------------
export class RemoteUnavailableError extends named('RemoteUnavailableError') {}
export class RemoteRateLimitedError extends named('RemoteRateLimitedError') {}
export class RemoteRequestError extends named('RemoteRequestError') {}

const registry = new Map<string, typeof GlimpseError>();
for (const cls of [
  GlimpseError, EmptyMessageError, MessageTooLongError, SessionNotFoundError, InvalidSessionIdError,
  UnsupportedImageError, ImageUnreadableError, ImageTooLargeError, ImageTooBigForMemoryError, InvalidImportError, VersionNotFoundError, DamagedRecordError, StorageQuotaError,
  StorageUnavailableError, StaleWriteError, GenerationAbortedError, NoAdapterError, OutOfMemoryError, DeviceLostError,
  ModelFilesMissingError, ModelLoadError, ModelHostUnreachableError, UnknownModelError, PromptTooLongError, WorkerCrashedError,
  EngineError, RemoteUnavailableError, RemoteRateLimitedError, RemoteRequestError,
]) {
  registry.set(cls.errorName, cls);
}

/** The structured-clone-safe form of an error, for postMessage. */
export interface SerializedError {
  name: string;
  message: string;
  data?: Record<string, unknown>;
  stack?: string;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof GlimpseError) {
    return { name: err.name, message: err.message, data: err.data, stack: err.stack };
  }
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: 'Error', message: String(err) };
}

/** Rebuilds the named class on this side of a boundary; unknown names become a plain {@link GlimpseError}. */
export function deserializeError(s: SerializedError): GlimpseError {
  const Cls = registry.get(s.name) ?? GlimpseError;
  const err = new Cls(s.message, s.data ?? {});
  if (!registry.has(s.name)) err.data.originalName = s.name;
  if (s.stack) err.stack = s.stack;
  return err;
}

/** `err` itself when it is one of ours, else a {@link GlimpseError} carrying its message (and it as the cause). */
export function asGlimpseError(err: unknown): GlimpseError {
  if (err instanceof GlimpseError) return err;
  const data = err instanceof Error ? { originalName: err.name } : {};
  return new GlimpseError(err instanceof Error ? err.message : String(err), data, { cause: err });
}

/** True for an error of the given named class, across realms and worker boundaries. */
export function isError(err: unknown, cls: { readonly errorName: string }): boolean {
  return err instanceof Error && err.name === cls.errorName;
}
