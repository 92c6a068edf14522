/**
 * Issue 15, item 4: the per-session lock is injected (Web Locks in the page, an in-process lock in Node; Node
 * 20 has no navigator.locks), so reading a history while that session is answering never rewrites the live
 * answer as "interrupted", and two requests on one session never interleave their turns.
 */
import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { InProcessSessionLocks } from '../../../src/chat/locks';
import { ChatService } from '../../../src/chat/service';
import { SessionStore } from '../../../src/storage/sessions';
import { EchoServerBackend } from '../../fixtures/servers/echo-server-backend';

describe('InProcessSessionLocks', () => {
  it('runs one holder per session at a time, in order; other sessions do not wait', async () => {
    const locks = new InProcessSessionLocks();
    const events: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a1 = locks.run('a', async () => { events.push('a1 start'); await gate; events.push('a1 end'); });
    const a2 = locks.run('a', async () => { events.push('a2'); });
    await locks.run('b', async () => { events.push('b'); });
    expect(await locks.held('a')).toBe(true);
    expect(await locks.held('b')).toBe(false);
    release();
    await Promise.all([a1, a2]);
    expect(events).toEqual(['a1 start', 'b', 'a1 end', 'a2']);
    expect(await locks.held('a')).toBe(false);
  });

  it('a holder that fails releases the lock', async () => {
    const locks = new InProcessSessionLocks();
    await expect(locks.run('a', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await locks.held('a')).toBe(false);
    expect(await locks.run('a', async () => 7)).toBe(7);
  });
});

describe('ChatService in Node (no navigator.locks)', () => {
  let store: SessionStore;
  let backend: EchoServerBackend;
  let service: ChatService;
  beforeEach(async () => {
    expect(typeof navigator === 'undefined' || !('locks' in navigator)).toBe(true);
    store = await SessionStore.open(`locks-${Math.random()}`);
    backend = new EchoServerBackend();
    service = new ChatService({ store, backend: () => backend, persistEveryMs: 0 });
  });

  it('reading the history during an answer leaves the live answer alone', async () => {
    const hold = backend.holdNext();
    const answering = service.chat({ message: 'a long answer please' });
    await hold.entered;
    const [s] = (await service.sessions()).sessions;
    const during = await service.transcript(s!.id);
    expect(during.map((m) => m.status)).toEqual(['complete', 'streaming']);
    expect((await store.messages(s!.id)).map((m) => m.status)).toEqual(['complete', 'streaming']);
    hold.release();
    await answering;
    expect((await store.messages(s!.id)).map((m) => m.status)).toEqual(['complete', 'complete']);
  });

  it('two questions on one session take turns', async () => {
    const { session_id } = await service.chat({ message: 'first' });
    const hold = backend.holdNext();
    const second = service.chat({ message: 'second', session_id });
    await hold.entered;
    const third = service.chat({ message: 'third', session_id });
    await new Promise((r) => setTimeout(r, 20)); // the third had every chance to write its turn
    hold.release();
    await Promise.all([second, third]);
    const roles = (await store.messages(session_id)).map((m) => `${m.role}:${m.status}`);
    expect(roles).toEqual(['user:complete', 'assistant:complete', 'user:complete', 'assistant:complete', 'user:complete', 'assistant:complete']);
  });
});
