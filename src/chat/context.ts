import {
  makeContent,
  textOf,
  type ChatMessage,
  type ContentPart,
  type StoredMessage,
} from './messages';

/**
 * The conversation rules: what the model sees of a transcript.
 *
 * - The context window holds at most the last `windowSize` messages (default 20 = 10 exchanges), starting on
 *   a user turn. Older messages leave the context, not the transcript. It slides in steps of half the
 *   window, the way llama.cpp's server drops half of its context when it fills: between two steps a new
 *   turn only appends to the prompt, so the engine extends its KV cache instead of rebuilding it.
 * - One image in context: the session's current image (the latest one sent, unless the user removed it).
 *   It stays in context after its own message has left the window: it is then attached to the first user
 *   message of the window, so follow-ups can still be answered about it. Every other image part is dropped.
 * - A question whose answer failed or was stopped before any text (nothing usable follows it before the next
 *   question) leaves the context: the model sees a conversation that alternates, never two questions in a row.
 * - A system prompt, when set, comes first.
 *
 * The output is deterministic for a given transcript, which lets the engine compare prompts turn to turn
 * and reuse its KV cache when only new messages were appended.
 */

export const DEFAULT_WINDOW = 20;

export interface ContextOptions {
  windowSize: number;
  systemPrompt: string;
  /** The session's image in context (content hash), or null. */
  imageHash: string | null;
}

export interface ModelContext {
  messages: ChatMessage[];
  /** The hash of the image carried by `messages`, or null. */
  imageHash: string | null;
  /** seq of the first transcript message inside the window (for the UI's "context starts here" marker). */
  windowStartSeq: number | null;
}

/** A message the model can use: it has text or is the carrier of an image. */
function usable(m: StoredMessage): boolean {
  if (m.role === 'system') return false;
  return textOf(m).trim().length > 0 || m.imageHash !== undefined;
}

/** How far the window moves when it slides: half the window, kept even so it still opens on a question. */
export function windowStep(windowSize: number): number {
  return Math.max(1, Math.min(windowSize, 2 * Math.floor(windowSize / 4)));
}

/**
 * Index of the first message in the window. It depends only on the count, so a reload, another tab or the
 * REST API on another instance all agree on it without storing anything.
 */
export function windowStart(count: number, windowSize: number): number {
  if (count <= windowSize) return 0;
  const step = windowStep(windowSize);
  return Math.ceil((count - windowSize) / step) * step;
}

export function buildContext(transcript: readonly StoredMessage[], opts: ContextOptions): ModelContext {
  const windowSize = Math.max(1, Math.floor(opts.windowSize));
  const usableOnes = transcript.filter(usable);
  const candidates = usableOnes.filter((m, i) => m.role !== 'user' || usableOnes[i + 1]?.role !== 'user');
  const window = candidates.slice(windowStart(candidates.length, windowSize));
  // A window that would open on an answer starts at the next question instead: a prompt reads as a
  // conversation the user began (so the window holds at most windowSize messages).
  while (window.length > 1 && window[0]!.role !== 'user') window.shift();

  const imageHash = opts.imageHash;
  let carrier = -1;
  if (imageHash) {
    // The latest in-window message that sent this image carries it; else the first user turn of the window.
    for (let i = window.length - 1; i >= 0; i--) {
      if (window[i]!.imageHash === imageHash && window[i]!.role === 'user') { carrier = i; break; }
    }
    if (carrier < 0) carrier = Math.max(0, window.findIndex((m) => m.role === 'user'));
    if (window.length === 0) carrier = -1;
  }

  const messages: ChatMessage[] = [];
  if (opts.systemPrompt.trim()) {
    messages.push({ role: 'system', content: [{ type: 'text', text: opts.systemPrompt.trim() }], timestamp: '' });
  }
  window.forEach((m, i) => {
    const text = textOf(m);
    const content: ContentPart[] = makeContent(text, i === carrier);
    messages.push({ role: m.role, content, timestamp: m.timestamp });
  });

  return {
    messages,
    imageHash: carrier >= 0 ? imageHash : null,
    windowStartSeq: window[0]?.seq ?? null,
  };
}
