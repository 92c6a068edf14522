/**
 * PgSessionLocks on a real PostgreSQL server: two lock sets stand for two API instances on one database.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationAbortedError } from '../../../src/errors';
import { PgSessionLocks, SESSION_LOCK } from '../../../src/server/pg/locks';
import { createDatabase } from '../../fixtures/postgres';

let url = '';
const sets: PgSessionLocks[] = [];
const locks = () => {
  const l = new PgSessionLocks({ connectionString: url, poolSize: 4 });
  sets.push(l);
  return l;
};

beforeAll(async () => {
  url = await createDatabase('locks');
});
afterAll(async () => {
  await Promise.all(sets.splice(0).map((l) => l.close()));
});

/** A promise and the function that settles it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

/** Resolves when `check` is true, testing again on every turn of the event loop's timers (never a fixed wait). */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether some connection waits (not granted) for the session lock. */
async function waiting(admin: pg.Client): Promise<boolean> {
  const { rows } = await admin.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::bigint::oid AND NOT granted`, [SESSION_LOCK]);
  return rows.length > 0;
}

/** `body` with its own connection to read pg_locks (and end others' connections), closed after it. */
async function withAdmin(body: (admin: pg.Client) => Promise<void>): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await body(admin);
  } finally {
    await admin.end();
  }
}

/** Resolves once `set` holds `session`'s lock; it keeps it until `release()`, then `done` settles with 'held'. */
async function hold(set: PgSessionLocks, session: string): Promise<{ release: () => void; done: Promise<string> }> {
  const entered = gate();
  const finish = gate();
  const done = set.run(session, async () => {
    entered.open();
    await finish.promise;
    return 'held';
  });
  await entered.promise;
  return { release: finish.open, done };
}

describe('PgSessionLocks (PostgreSQL advisory locks)', () => {
  it('one holder per session across instances, in turn; other sessions run meanwhile', async () => {
    const a = locks();
    const b = locks();
    await withAdmin(async (admin) => {
      const events: string[] = [];
      const first = gate();
      const entered = gate();
      const one = a.run('chat-1', async () => {
        events.push('a in');
        entered.open();
        await first.promise;
        events.push('a out');
      });
      await entered.promise;
      expect(await b.held('chat-1')).toBe(true);
      expect(await b.held('chat-2')).toBe(false);
      const two = b.run('chat-1', async () => {
        events.push('b in');
      });
      await until(() => waiting(admin), 'b waits for the lock');
      // Another session is not held up by chat-1.
      await b.run('chat-2', async () => void events.push('other session'));
      expect(events).toEqual(['a in', 'other session']);
      first.open();
      await Promise.all([one, two]);
      expect(events).toEqual(['a in', 'other session', 'a out', 'b in']);
      await until(async () => !(await a.held('chat-1')), 'the lock is free');
    });
  });

  it('a holder that throws releases the lock; its error reaches the caller', async () => {
    const a = locks();
    await expect(a.run('chat-3', async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await a.held('chat-3')).toBe(false);
    expect(await a.run('chat-3', async () => 42)).toBe(42);
  });

  it('a lock dies with its connection: a killed holder frees the session for the next instance', async () => {
    const a = locks();
    const b = locks();
    await withAdmin(async (admin) => {
      const stuck = await hold(a, 'chat-4'); // an instance stuck mid-answer
      const next = b.run('chat-4', async () => 'b got it');
      await until(() => waiting(admin), 'b waits for the lock');
      // What a crash looks like to the server: the holder's connection goes away.
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::bigint::oid AND granted`,
        [SESSION_LOCK],
      );
      expect(await next).toBe('b got it');
      stuck.release();
      await stuck.done; // the stuck holder finishes without crashing its process
      expect(await a.run('chat-4', async () => 'a again')).toBe('a again');
    });
  });

  it('a wait cut short by its signal ends at once; the holder and the next waiter are unaffected', async () => {
    const a = locks();
    const b = locks();
    await withAdmin(async (admin) => {
      const holder = await hold(a, 'chat-5');
      const gone = new AbortController();
      let ran = false;
      const abandoned = b.run('chat-5', async () => void (ran = true), gone.signal).catch((err: unknown) => err);
      await until(() => waiting(admin), 'b waits for the lock');
      gone.abort();
      expect(await abandoned).toBeInstanceOf(GenerationAbortedError);
      await until(async () => !(await waiting(admin)), 'nobody waits for the lock any more');
      expect(await b.held('chat-5')).toBe(true); // a still holds it
      const next = b.run('chat-5', async () => 'next');
      await until(() => waiting(admin), 'the next turn waits for the lock');
      holder.release();
      expect(await holder.done).toBe('held');
      expect(await next).toBe('next');
      expect(ran).toBe(false);
      await expect(b.run('chat-5', async () => 'x', AbortSignal.abort())).rejects.toThrow(GenerationAbortedError);
    });
  });
});
