import { GlimpseError } from '../errors';

export interface ErrorView {
  name: string;
  title: string;
  message: string;
  /** What to do next, when the message itself does not say it. */
  hint: string;
}

/** Short titles and next steps for the named errors (the messages themselves come from where they were thrown). */
const TITLES: Record<string, { title: string; hint?: string }> = {
  EmptyMessageError: { title: 'Nothing to send' },
  MessageTooLongError: { title: 'Message too long' },
  SessionNotFoundError: { title: 'Chat not found', hint: 'Pick another chat from the list or start a new one.' },
  InvalidSessionIdError: { title: 'Invalid chat id' },
  UnsupportedImageError: { title: 'This file can’t be used' },
  ImageUnreadableError: { title: 'Image can’t be read' },
  ImageTooLargeError: { title: 'Image too large' },
  ImageTooBigForMemoryError: { title: 'Not enough memory for this picture' },
  StorageQuotaError: { title: 'Storage full' },
  StorageUnavailableError: { title: 'Saving failed', hint: 'Private browsing can block storage; try a normal window.' },
  NoAdapterError: { title: 'No GPU available', hint: 'Glimpse will use the slower WASM engine instead.' },
  OutOfMemoryError: { title: 'Out of memory', hint: 'Try “low” image detail or the smaller model in Settings, or close other tabs.' },
  DeviceLostError: { title: 'The GPU stopped responding', hint: 'Glimpse restarts the engine; send your message again.' },
  ModelFilesMissingError: { title: 'Model files missing' },
  ModelHostUnreachableError: { title: 'Can’t reach the model host' },
  ModelLoadError: { title: 'The model could not load', hint: 'Check your connection, then try again. Settings → model lets you pick another.' },
  UnknownModelError: { title: 'Unknown model', hint: 'Choose a model from the list in Settings.' },
  PromptTooLongError: { title: 'Too much for the model at once', hint: 'Shorten the context window in Settings or use “low” image detail.' },
  WorkerCrashedError: { title: 'The engine crashed', hint: 'It restarts by itself; send your message again.' },
  EngineError: { title: 'The engine failed', hint: 'Send your message again; if it keeps failing, reload the page.' },
  RemoteUnavailableError: { title: 'Remote model unavailable' },
  RemoteRateLimitedError: { title: 'Too many requests', hint: 'Wait a moment, then try again.' },
  RemoteRequestError: { title: 'The remote model refused the request' },
  GenerationAbortedError: { title: 'Stopped' },
  InvalidImportError: { title: 'This file can’t be imported' },
  /** Not an error: something the user should know (an engine notice, a chat deleted in another tab). */
  Notice: { title: 'Note' },
};

/** Errors about where model files come from: their card offers a folder and another host. */
export const MODEL_SOURCE_ERRORS: readonly string[] = ['ModelHostUnreachableError', 'ModelFilesMissingError'];

export function describeError(err: unknown): ErrorView {
  const name = err instanceof Error ? err.name : typeof err === 'object' && err && 'name' in err ? String(err.name) : 'Error';
  const message =
    err instanceof Error || (typeof err === 'object' && err && 'message' in err)
      ? String((err as { message: unknown }).message)
      : String(err);
  const known = TITLES[name];
  const host = (err as { data?: { host?: unknown } } | null)?.data?.host;
  if (name === 'ModelHostUnreachableError' && typeof host === 'string') return { name, title: `Can’t reach ${host}`, message, hint: '' };
  if (known) return { name, title: known.title, message, hint: known.hint ?? '' };
  return {
    name,
    title: err instanceof GlimpseError ? 'Something went wrong' : 'Unexpected error',
    message: message || 'Something failed without saying why.',
    hint: 'Try again. If it keeps happening, reload the page; your chats are saved.',
  };
}
