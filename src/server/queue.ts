/**
 * One generation at a time, the rest wait in order, and a bounded wait: when `maxWaiting` requests are
 * already queued a new one is refused at once (the handler answers 503 with Retry-After) instead of piling
 * up behind a CPU-bound model. A waiting request whose client goes away leaves the queue.
 *
 * A request takes its place with admit() before its body is read: places are counted whether their request is
 * still uploading or already waiting, so at most `maxWaiting + 1` bodies are ever held in memory, and a
 * request that would not fit is refused before a byte of its body is read. The handler takes the session's
 * lock before it runs (with PostgreSQL another instance may be answering that session): meanwhile the place
 * still counts as waiting, and the model runs other sessions' turns.
 */
import { GlimpseError } from '../errors';

export class QueueFullError extends GlimpseError {
  static override readonly errorName = 'QueueFullError';
  constructor(readonly waiting: number, readonly retryAfterSec: number) {
    super(`The server is busy: ${waiting} requests are already waiting for the model. Try again in about ${retryAfterSec} s.`, { waiting, retryAfterSec });
  }
}

export class QueueAbortedError extends GlimpseError {
  static override readonly errorName = 'QueueAbortedError';
  constructor() {
    super('The request was cancelled while it waited for the model.');
  }
}

/** A place in the queue taken before the body is read; run() uses it, release() gives it back. */
export class Place {
  private open = true;
  constructor(private readonly onRelease: () => void) {}

  /** Gives the place back if run() did not use it (a refused or cancelled request). Idempotent. */
  release(): void {
    if (!this.open) return;
    this.open = false;
    this.onRelease();
  }
}

interface Waiter {
  start: () => void;
  cancel: () => void;
}

export class GenerationQueue {
  private running = false;
  private readonly waiters: Waiter[] = [];
  /** Moving average of a run's duration, for Retry-After. */
  private averageMs = 0;
  /** Places taken by requests that are not running or waiting yet (reading their body). */
  private admitted = 0;

  constructor(readonly maxWaiting: number) {}

  get busy(): boolean {
    return this.running;
  }

  /** Requests waiting for the model, with those still sending their body. */
  get waiting(): number {
    return this.waiters.length + this.admitted;
  }

  /** Seconds a client refused now should wait: the expected time for the queue ahead of it to drain. */
  retryAfterSec(): number {
    const each = this.averageMs || 5_000;
    return Math.min(600, Math.max(1, Math.ceil((each * (this.waiting + 1)) / 1000)));
  }

  /** Takes a place for a request about to send its body; QueueFullError at once when there is none. */
  admit(): Place {
    if ((this.running ? 1 : 0) + this.waiting >= this.maxWaiting + 1) throw new QueueFullError(this.waiting, this.retryAfterSec());
    this.admitted += 1;
    return new Place(() => (this.admitted -= 1));
  }

  /**
   * Runs `fn` when every earlier call has finished. Rejects at once with QueueFullError when the queue is
   * full (unless `place` was admitted earlier), and with QueueAbortedError when `signal` aborts before `fn`
   * started.
   */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal, place?: Place): Promise<T> {
    place?.release(); // from here on the request counts as waiting or running
    if (signal?.aborted) throw new QueueAbortedError();
    if (this.running) {
      if (!place && this.waiting >= this.maxWaiting) throw new QueueFullError(this.waiting, this.retryAfterSec());
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          start: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          cancel: () => reject(new QueueAbortedError()),
        };
        const onAbort = () => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          waiter.cancel();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(waiter);
      });
    }
    // Here the slot is ours: either it was free, or the previous holder handed it over (running stays true).
    this.running = true;
    const started = performance.now();
    try {
      return await fn();
    } finally {
      const ms = performance.now() - started;
      this.averageMs = this.averageMs ? this.averageMs * 0.7 + ms * 0.3 : ms;
      const next = this.waiters.shift();
      if (next) next.start();
      else this.running = false;
    }
  }
}
