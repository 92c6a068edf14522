/**
 * The one answer being generated right now (any session), shared by the conversation and the status bar.
 * It lives outside the elements so switching chats mid-answer keeps the stream and its Stop button.
 */
export interface LiveGeneration {
  sessionId: string;
  /** The assistant message being written (set once the service saved it). */
  messageId: string | null;
  text: string;
  tokens: number;
  startedAt: number;
  firstTokenAt: number | null;
  /** Live tokens per second (after the first token). */
  tokensPerSecond: number | null;
}

export class GenerationTracker extends EventTarget {
  #live: LiveGeneration | null = null;
  /** A token's change is told once per animation frame (see token()). */
  #tokenChangePending = false;
  #abort: AbortController | null = null;
  #lastError: unknown = null;

  get live(): LiveGeneration | null {
    return this.#live;
  }

  /** Why the last answer failed (null when it did not): the status line re-checks the remote proxy on one. */
  get lastError(): unknown {
    return this.#lastError;
  }

  get busy(): boolean {
    return this.#live !== null;
  }

  /** Starts tracking a generation; returns the signal to pass to the chat service. */
  start(sessionId: string): AbortSignal {
    this.#abort?.abort();
    this.#abort = new AbortController();
    this.#live = {
      sessionId,
      messageId: null,
      text: '',
      tokens: 0,
      startedAt: performance.now(),
      firstTokenAt: null,
      tokensPerSecond: null,
    };
    this.emit();
    return this.#abort.signal;
  }

  /** A new chat gets its id only once saved. */
  saved(sessionId: string, messageId: string): void {
    if (!this.#live) return;
    this.#live = { ...this.#live, sessionId, messageId };
    this.emit();
  }

  token(full: string, tokens: number): void {
    const live = this.#live;
    if (!live) return;
    const now = performance.now();
    const firstTokenAt = live.firstTokenAt ?? now;
    const seconds = (now - firstTokenAt) / 1000;
    this.#live = {
      ...live,
      text: full,
      tokens,
      firstTokenAt,
      tokensPerSecond: tokens > 1 && seconds > 0 ? (tokens - 1) / seconds : live.tokensPerSecond,
    };
    this.emitOncePerFrame();
  }

  stop(): void {
    this.#abort?.abort();
  }

  finish(error: unknown = null): void {
    this.#abort = null;
    this.#live = null;
    this.#lastError = error;
    this.emit();
  }

  private emit(): void {
    this.dispatchEvent(new Event('change'));
  }

  /**
   * Tokens can come faster than frames (hundreds a second): each change re-renders the answer's markdown, so
   * they are told at most once a frame, with the latest text (`live` is always current). A hidden page gets no
   * frames: a timer then, which the browser slows as it likes.
   */
  private emitOncePerFrame(): void {
    if (this.#tokenChangePending) return;
    this.#tokenChangePending = true;
    const run = () => {
      this.#tokenChangePending = false;
      this.emit();
    };
    const visible = typeof document === 'undefined' || document.visibilityState === 'visible';
    if (typeof requestAnimationFrame === 'function' && visible) requestAnimationFrame(run);
    else setTimeout(run, 16);
  }
}
