/**
 * One answer per chat at a time. The chat service takes a session's lock while it writes a turn and generates,
 * and asks whether it is held before it marks a turn left "streaming" as interrupted. The page uses Web Locks
 * (one holder across all its tabs); Node 20 has no `navigator.locks`, so the REST API uses a lock in its
 * process (one server per data folder, so that is every writer).
 */

export interface SessionLocks {
  /** Runs `fn` holding the session's lock, after every earlier holder. */
  run<T>(sessionId: string, fn: () => Promise<T>): Promise<T>;
  /** Whether someone holds (or waits for) the session's lock now. */
  held(sessionId: string): Promise<boolean>;
}

const lockName = (sessionId: string) => `glimpse-session:${sessionId}`;

/** Web Locks: every tab of the app shares them. */
export class WebSessionLocks implements SessionLocks {
  constructor(private readonly locks: LockManager) {}

  run<T>(sessionId: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.request(lockName(sessionId), fn) as Promise<T>;
  }

  async held(sessionId: string): Promise<boolean> {
    const state = await this.locks.query();
    return (state.held ?? []).some((l) => l.name === lockName(sessionId));
  }
}

/** A lock per session in this process: a chain of holders; the entry goes when the last one is done. */
export class InProcessSessionLocks implements SessionLocks {
  private readonly chains = new Map<string, { tail: Promise<unknown>; holders: number }>();

  async run<T>(sessionId: string, fn: () => Promise<T>): Promise<T> {
    const chain = this.chains.get(sessionId) ?? { tail: Promise.resolve(), holders: 0 };
    chain.holders += 1;
    this.chains.set(sessionId, chain);
    const turn = chain.tail.then(fn);
    chain.tail = turn.catch(() => undefined);
    try {
      return await turn;
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
