import { describe, expect, it } from 'vitest';
import { GenerationQueue, QueueAbortedError, QueueFullError } from '../../../src/server/queue';

const tick = () => new Promise((r) => setTimeout(r, 0));

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('GenerationQueue', () => {
  it('runs one at a time, in arrival order', async () => {
    const q = new GenerationQueue(5);
    const order: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    const runs = gates.map((g, i) =>
      q.run(async () => {
        order.push(`start ${i}`);
        await g.promise;
        order.push(`end ${i}`);
        return i;
      }),
    );
    await tick();
    expect(q.busy).toBe(true);
    expect(q.waiting).toBe(2);
    gates[2]!.resolve(); // finishing out of order changes nothing: 2 has not started
    gates[0]!.resolve();
    await tick();
    gates[1]!.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(order).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    expect(q.busy).toBe(false);
  });

  it('refuses at once when maxWaiting are waiting, with a retry-after estimate', async () => {
    const q = new GenerationQueue(1);
    const gate = deferred();
    const a = q.run(() => gate.promise);
    const b = q.run(async () => 'b');
    await tick();
    const refused = q.run(async () => 'c').catch((e: unknown) => e);
    const err = (await refused) as QueueFullError;
    expect(err).toBeInstanceOf(QueueFullError);
    expect(err.retryAfterSec).toBeGreaterThanOrEqual(1);
    gate.resolve();
    await a;
    expect(await b).toBe('b');
  });

  it('a queue of 0 allows only the running request', async () => {
    const q = new GenerationQueue(0);
    const gate = deferred();
    const a = q.run(() => gate.promise);
    await expect(q.run(async () => 1)).rejects.toThrow(QueueFullError);
    gate.resolve();
    await a;
    expect(await q.run(async () => 2)).toBe(2);
  });

  it('a waiting request whose client went away leaves the queue and never runs', async () => {
    const q = new GenerationQueue(3);
    const gate = deferred();
    const ran: string[] = [];
    const a = q.run(() => gate.promise);
    const controller = new AbortController();
    const b = q.run(async () => void ran.push('b'), controller.signal);
    const c = q.run(async () => void ran.push('c'));
    await tick();
    expect(q.waiting).toBe(2);
    controller.abort();
    await expect(b).rejects.toThrow(QueueAbortedError);
    expect(q.waiting).toBe(1);
    gate.resolve();
    await Promise.all([a, c]);
    expect(ran).toEqual(['c']);
    await expect(q.run(async () => 1, AbortSignal.abort())).rejects.toThrow(QueueAbortedError);
  });

  it('a failing run releases the slot', async () => {
    const q = new GenerationQueue(2);
    const a = q.run(async () => {
      throw new Error('boom');
    });
    const b = q.run(async () => 'after');
    await expect(a).rejects.toThrow('boom');
    expect(await b).toBe('after');
    expect(q.busy).toBe(false);
  });

  it('places are taken before a body is read: at most maxWaiting + 1 requests hold one, running or not', async () => {
    const q = new GenerationQueue(1);
    const first = q.admit();
    const second = q.admit();
    expect(() => q.admit()).toThrow(QueueFullError); // two bodies may be in memory, not three
    expect(q.waiting).toBe(2);
    second.release();
    second.release(); // twice changes nothing
    expect(q.waiting).toBe(1);
    const gate = deferred();
    const running = q.run(() => gate.promise, undefined, first);
    await tick();
    expect([q.busy, q.waiting]).toEqual([true, 0]);
    const third = q.admit();
    expect(() => q.admit()).toThrow(QueueFullError);
    const queued = q.run(async () => 'third', undefined, third); // its place was taken: it may wait
    await tick();
    expect(q.waiting).toBe(1);
    gate.resolve();
    await running;
    expect(await queued).toBe('third');
    expect([q.busy, q.waiting]).toEqual([false, 0]);
  });
});
