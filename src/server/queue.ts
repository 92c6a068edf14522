/**
 * One generation at a time, the rest wait in order, and a bounded wait: when `maxWaiting` requests are
 * already queued a new one is refused at once (the handler answers 503 with Retry-After) instead of piling
 * up behind a CPU-bound model. A waiting request whose client goes away leaves the queue.
 */

export class QueueFullError extends Error {
  constructor(readonly waiting: number, readonly retryAfterSec: number) {
    super(`The server is busy: ${waiting} requests are already waiting for the model. Try again in about ${retryAfterSec} s.`);
    this.name = 'QueueFullError';
  }
}

export class QueueAbortedError extends Error {
  constructor() {
    super('The request was cancelled while it waited for the model.');
    this.name = 'QueueAbortedError';
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

  constructor(readonly maxWaiting: number) {}

  get busy(): boolean {
    return this.running;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Seconds a client refused now should wait: the expected time for the queue ahead of it to drain. */
  retryAfterSec(): number {
    const each = this.averageMs || 5_000;
    return Math.min(600, Math.max(1, Math.ceil((each * (this.waiters.length + 1)) / 1000)));
  }

  /**
   * Runs `fn` when every earlier call has finished. Rejects at once with QueueFullError when the queue is
   * full, and with QueueAbortedError when `signal` aborts before `fn` started.
   */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw new QueueAbortedError();
    if (this.running) {
      if (this.waiters.length >= this.maxWaiting) throw new QueueFullError(this.waiters.length, this.retryAfterSec());
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
