/**
 * One answer per chat at a time. The chat service takes a session's lock while it writes a turn and generates,
 * and asks whether it is held before it marks a turn left "streaming" as interrupted. The page uses Web Locks
 * (one holder across all its tabs); Node 20 has no `navigator.locks`, so the REST API uses a lock in its
 * process (one server per data folder, so that is every writer).
 */

import { GenerationAbortedError } from '../errors';

export interface SessionLocks {
  /**
   * Runs `fn` holding the session's lock, after every earlier holder. When `signal` aborts while it waits,
   * it stops waiting at once and rejects with GenerationAbortedError (`fn` never runs).
   */
  run<T>(sessionId: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Whether someone holds (or waits for) the session's lock now. */
  held(sessionId: string): Promise<boolean>;
}

const lockName = (sessionId: string) => `glimpse-session:${sessionId}`;

/** The error of a wait for a session's lock cut short (the request was cancelled). */
export function lockWaitAborted(): GenerationAbortedError {
  return new GenerationAbortedError('The request was cancelled while it waited for this chat.', { partial: '' });
}

/** `promise`, or a rejection with lockWaitAborted() as soon as `signal` aborts. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(lockWaitAborted());
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Web Locks: every tab of the app shares them. */
export class WebSessionLocks implements SessionLocks {
  constructor(private readonly locks: LockManager) {}

  async run<T>(sessionId: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return (await this.locks.request(lockName(sessionId), signal ? { signal } : {}, fn)) as T;
    } catch (err) {
      if (signal?.aborted && (err as Error | undefined)?.name === 'AbortError') throw lockWaitAborted();
      throw err;
    }
  }

  async held(sessionId: string): Promise<boolean> {
    const state = await this.locks.query();
    return (state.held ?? []).some((l) => l.name === lockName(sessionId));
  }
}

/** A lock per session in this process: a chain of holders; the entry goes when the last one is done. */
export class InProcessSessionLocks implements SessionLocks {
  private readonly chains = new Map<string, { tail: Promise<unknown>; holders: number }>();

  async run<T>(sessionId: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw lockWaitAborted();
    const chain = this.chains.get(sessionId) ?? { tail: Promise.resolve(), holders: 0 };
    chain.holders += 1;
    this.chains.set(sessionId, chain);
    let started = false;
    const turn = chain.tail.then(() => {
      if (signal?.aborted) throw lockWaitAborted(); // gave up waiting: its turn passes
      started = true;
      return fn();
    });
    chain.tail = turn.catch(() => undefined);
    try {
      // A caller that gives up stops waiting now; once `fn` runs, it is waited for like any holder.
      return await unlessAborted(turn, signal).catch((err: unknown) => (started ? turn : Promise.reject(err)));
    } finally {
      chain.holders -= 1;
      if (chain.holders === 0) this.chains.delete(sessionId);
    }
  }

  async held(sessionId: string): Promise<boolean> {
    return this.chains.has(sessionId);
  }
}

/** Web Locks where there are any (the page), else a lock in this process (Node). */
export function defaultSessionLocks(): SessionLocks {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  return locks ? new WebSessionLocks(locks) : new InProcessSessionLocks();
}
