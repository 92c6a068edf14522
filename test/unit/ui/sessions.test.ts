import 'fake-indexeddb/auto';
import type { ReactiveControllerHost } from 'lit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { textOf } from '../../../src/chat/messages';
import type { SessionStore } from '../../../src/storage/sessions';
import { SessionsController } from '../../../src/ui/controllers/sessions';
import { answerOf, countingStore, everyTokenSaved } from '../../fixtures/streaming-store';

/** The session list shows the first 120 characters of the last message. */
const previewOf = (words: number) => answerOf(words).slice(0, 120);

/** The reads the session list can make (get: directly or through require), counted; and the partial saves. */
const READS = ['list', 'get', 'searchMessages'] as const;

const opened: SessionStore[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const s of opened.splice(0)) s.close();
});

async function openStore() {
  const counted = await countingStore('sessions-list', READS);
  opened.push(counted.store);
  return counted;
}

/** A session list following `store`, and the previews of the first row each time it asked to render. */
async function listOf(store: SessionStore) {
  const previews: string[] = [];
  const host: ReactiveControllerHost = {
    addController: () => undefined,
    removeController: () => undefined,
    requestUpdate: () => previews.push(list.sessions[0]?.preview ?? ''),
    updateComplete: Promise.resolve(true),
  };
  const list = new SessionsController(host, () => store);
  list.hostConnected();
  await vi.waitFor(() => expect(list.loaded).toBe(true));
  return { list, previews };
}

/** One question answered in `words` tokens, every token saved, with the session list open; resolves with the counts. */
async function streamAnswer(words: number) {
  const { store, counts } = await openStore();
  const chat = everyTokenSaved(store, words);
  const { list, previews } = await listOf(store);
  const res = await chat.chat({ message: 'Hello', image: null });
  expect(res.response).toBe(answerOf(words));
  // The row shows the whole answer, and the list has settled (nothing reads on after this).
  await vi.waitFor(() => expect(list.sessions[0]?.preview).toBe(previewOf(words)));
  await list.settled();
  list.hostDisconnected();
  return { counts, previews, sessions: list.sessions };
}

describe('SessionsController while an answer streams', () => {
  it('reads the store a fixed number of times however many partial saves the answer makes', async () => {
    const short = await streamAnswer(5);
    const long = await streamAnswer(60);
    // Each token was saved: the long answer made 55 more partial saves than the short one.
    expect(long.counts.updates - short.counts.updates).toBeGreaterThanOrEqual(55);
    // …and cost no more reads: a rewritten message updates its row; only structural changes re-read.
    expect(long.counts.reads).toBe(short.counts.reads);
    expect(long.sessions).toHaveLength(1);
    expect(long.sessions[0]!.title).toBe('Hello');
    // The partial saves did reach the row while it streamed.
    expect(long.previews.some((p) => p.length > 0 && p.split(' ').length < 60)).toBe(true);
  });

  it('moves a session whose message is rewritten to the top, with its new preview, without reading', async () => {
    const { store, counts } = await openStore();
    // Only the clock is set by hand (each write at its own minute), so the order does not hang on timing.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T10:00:00Z'));
    const older = await store.create({ title: 'Older' });
    const answer = await store.append(older.id, { role: 'assistant', content: [{ type: 'text', text: 'first' }], timestamp: '', status: 'streaming' });
    vi.setSystemTime(new Date('2026-01-01T10:01:00Z'));
    const newer = await store.create({ title: 'Newer' });
    vi.setSystemTime(new Date('2026-01-01T10:02:00Z'));
    const { list } = await listOf(store);
    await list.settled();
    expect(list.sessions.map((s) => s.title)).toEqual(['Newer', 'Older']);
    const before = counts.reads;

    const saved = await store.update({ ...answer, content: [{ type: 'text', text: 'first and more' }] });
    expect(list.sessions.map((s) => s.id)).toEqual([older.id, newer.id]);
    expect(list.sessions[0]!.preview).toBe('first and more');
    expect(counts.reads).toBe(before);
    // The row is exactly what the store now lists.
    const fresh = (await store.list()).find((s) => s.id === older.id);
    expect(list.sessions[0]).toEqual(fresh);
    expect(textOf(saved)).toBe('first and more');
    list.hostDisconnected();
  });

  it('keeps search results in step: a streamed answer that now mentions the query joins them, without reading', async () => {
    const { store, counts } = await openStore();
    const s = await store.create({ title: 'Cats' });
    const answer = await store.append(s.id, { role: 'assistant', content: [{ type: 'text', text: 'so far' }], timestamp: '', status: 'streaming' });
    const { list } = await listOf(store);
    await list.setQuery('giraffe');
    expect(list.visible).toEqual([]);
    const before = counts.reads;

    await store.update({ ...answer, content: [{ type: 'text', text: 'so far, a giraffe' }] });
    expect(list.visible.map((m) => [m.session.id, m.snippet])).toEqual([[s.id, 'so far, a giraffe']]);
    expect(counts.reads).toBe(before);
    list.hostDisconnected();
  });

  it('reads the list again once for a structural change (rename)', async () => {
    const { store, counts } = await openStore();
    const s = await store.create({ title: 'Before' });
    const { list } = await listOf(store);
    await list.settled();
    const before = counts.reads;
    await store.rename(s.id, 'After');
    await list.settled();
    expect(list.sessions[0]!.title).toBe('After');
    expect(counts.reads - before).toBe(1);
    list.hostDisconnected();
  });
});
