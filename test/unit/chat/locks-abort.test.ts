/**
 * A wait for a session's lock cut short by its signal (the REST API's client went away): it ends at once with
 * GenerationAbortedError, its turn never runs, and the holder and the waiters after it go on in order.
 */
import { describe, expect, it } from 'vitest';
import { InProcessSessionLocks } from '../../../src/chat/locks';
import { GenerationAbortedError } from '../../../src/errors';

describe('InProcessSessionLocks with a signal', () => {
  it('a waiter that gives up stops waiting at once; the others keep their order', async () => {
    const locks = new InProcessSessionLocks();
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const holder = locks.run('s', async () => { events.push('holder in'); await gate; events.push('holder out'); });
    const gone = new AbortController();
    const abandoned = locks.run('s', async () => void events.push('abandoned ran'), gone.signal).catch((err: unknown) => err);
    const next = locks.run('s', async () => void events.push('next'));
    gone.abort();
    expect(await abandoned).toBeInstanceOf(GenerationAbortedError); // while the holder still holds
    expect(events).toEqual(['holder in']);
    expect(await locks.held('s')).toBe(true);
    release();
    await Promise.all([holder, next]);
    expect(events).toEqual(['holder in', 'holder out', 'next']);
    expect(await locks.held('s')).toBe(false);
  });

  it('an aborted signal never waits; one that aborts after the turn started waits for it to finish', async () => {
    const locks = new InProcessSessionLocks();
    await expect(locks.run('s', async () => 'ran', AbortSignal.abort())).rejects.toThrow(GenerationAbortedError);
    const stop = new AbortController();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const inside = new Promise<void>((r) => (started = r));
    const turn = locks.run('s', async () => { started(); await gate; return 'finished'; }, stop.signal);
    await inside;
    stop.abort(); // the turn is running: stopping it is its own business (the generation's signal)
    release();
    expect(await turn).toBe('finished');
    expect(await locks.held('s')).toBe(false);
  });
});
