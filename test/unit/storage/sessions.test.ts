import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, it } from 'vitest';
import { hashBlob } from '../../../src/chat/images';
import { makeContent, nowIso } from '../../../src/chat/messages';
import { InvalidSessionIdError, SessionNotFoundError, StorageQuotaError } from '../../../src/errors';
import { DB_VERSION } from '../../../src/storage/schema';
import { SessionStore, type StoreChange } from '../../../src/storage/sessions';
import { makeImage } from '../../fixtures/images';

let n = 0;
const open = () => SessionStore.open(`test-${n++}-${Math.random()}`);
const user = (text: string, image = false) => ({ role: 'user' as const, content: makeContent(text, image), timestamp: nowIso() });

async function withImage(seed: number) {
  const blob = await makeImage('png', 16, 16, seed);
  return { blob, hash: await hashBlob(blob) };
}

describe('SessionStore', () => {
  it('creates sessions with a random UUID, or the id given', async () => {
    const store = await open();
    const a = await store.create();
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    const b = await store.create({ id: 'my-session_1' });
    expect(b.id).toBe('my-session_1');
    await expect(store.create({ id: 'my-session_1' })).rejects.toThrow(/already exists/);
    await expect(store.create({ id: '../etc/passwd' })).rejects.toThrow(InvalidSessionIdError);
  });

  it('lists newest first with title, time, count and image flag', async () => {
    const store = await open();
    const a = await store.create();
    const b = await store.create();
    await store.append(a.id, user('What is in this photo of a harbour at dawn?', true), await withImage(1));
    await store.append(b.id, user('hello'));
    await new Promise((r) => setTimeout(r, 5));
    await store.append(a.id, { role: 'assistant', content: makeContent('Boats.', false), timestamp: nowIso() });
    const list = await store.list();
    expect(list.map((s) => s.id)).toEqual([a.id, b.id]);
    expect(list[0]).toMatchObject({ title: 'What is in this photo of a harbour at dawn?', message_count: 2, has_image: true, preview: 'Boats.' });
    expect(list[1]).toMatchObject({ title: 'hello', message_count: 1, has_image: false });
  });

  it('renames, and a custom title is not overwritten by later messages', async () => {
    const store = await open();
    const s = await store.create();
    await store.rename(s.id, '  Poster ideas ');
    await store.append(s.id, user('first message'));
    expect((await store.require(s.id)).title).toBe('Poster ideas');
    await expect(store.rename('nope', 'x')).rejects.toThrow(SessionNotFoundError);
  });

  it('keeps images as Blobs, deduplicated by hash, removed with their last session', async () => {
    const store = await open();
    const img = await withImage(7);
    const a = await store.create();
    const b = await store.create();
    await store.append(a.id, user('a', true), img);
    await store.append(b.id, user('b', true), img);
    const rec = await store.getImage(img.hash);
    expect(rec?.blob).toBeInstanceOf(Blob);
    expect(rec?.blob.size).toBe(img.blob.size);
    await store.delete(a.id);
    expect(await store.getImage(img.hash)).toBeDefined(); // b still uses it
    await store.delete(b.id);
    expect(await store.getImage(img.hash)).toBeUndefined();
    await expect(store.messages(a.id)).resolves.toEqual([]);
    expect(await store.get(a.id)).toBeUndefined();
  });

  it('clear removes the history and the image in context, keeps the session', async () => {
    const store = await open();
    const s = await store.create();
    const img = await withImage(3);
    await store.append(s.id, user('look', true), img);
    expect(await store.clear(s.id)).toBe(1);
    const after = await store.require(s.id);
    expect(after).toMatchObject({ messageCount: 0, imageHash: null });
    expect(await store.getImage(img.hash)).toBeUndefined();
  });

  it('truncate drops trailing turns and restores the previous image in context', async () => {
    const store = await open();
    const s = await store.create();
    const one = await withImage(1);
    const two = await withImage(2);
    await store.append(s.id, user('one', true), one);
    await store.append(s.id, user('two', true), two);
    expect((await store.require(s.id)).imageHash).toBe(two.hash);
    await store.truncate(s.id, 1);
    expect((await store.require(s.id)).imageHash).toBe(one.hash);
    expect(await store.messages(s.id)).toHaveLength(1);
    const next = await store.append(s.id, user('three'));
    expect(next.seq).toBe(1);
  });

  it('announces changes', async () => {
    const store = await open();
    const seen: StoreChange['kind'][] = [];
    store.addEventListener('change', (e) => seen.push((e as CustomEvent<StoreChange>).detail.kind));
    const s = await store.create();
    await store.append(s.id, user('x'));
    await store.rename(s.id, 'y');
    await store.delete(s.id);
    expect(seen).toEqual(['created', 'messages', 'renamed', 'deleted']);
  });

  it('a quota failure is a named error and changes nothing', async () => {
    const store = await open();
    const s = await store.create();
    await store.append(s.id, user('kept'));
    const realAdd = IDBObjectStore.prototype.add;
    IDBObjectStore.prototype.add = function () {
      throw new DOMException('Quota exceeded', 'QuotaExceededError');
    };
    const img = await withImage(9);
    try {
      await expect(store.append(s.id, user('lost?', true), img)).rejects.toThrow(StorageQuotaError);
    } finally {
      IDBObjectStore.prototype.add = realAdd;
    }
    const msgs = await store.messages(s.id);
    expect(msgs).toHaveLength(1);
    expect((await store.require(s.id)).messageCount).toBe(1);
    // The image written earlier in the same transaction was rolled back too.
    expect(await store.getImage(img.hash)).toBeUndefined();
  });
});

describe('schema upgrades', () => {
  it('opens a version-1 database and keeps its data', async () => {
    const name = `upgrade-${Math.random()}`;
    // A database exactly as release 1 wrote it.
    const v1 = await openDB(name, 1, {
      upgrade(db) {
        const s = db.createObjectStore('sessions', { keyPath: 'id' });
        s.createIndex('by-updated', 'updatedAt');
        const m = db.createObjectStore('messages', { keyPath: ['sessionId', 'seq'] });
        m.createIndex('by-image', 'imageHash');
        m.createIndex('by-id', 'id', { unique: true });
        db.createObjectStore('images', { keyPath: 'hash' });
      },
    });
    await v1.put('sessions', {
      id: 'old', title: 'From v1', customTitle: false, createdAt: nowIso(), updatedAt: nowIso(),
      messageCount: 1, nextSeq: 1, imageHash: null, preview: 'hi',
    });
    await v1.put('messages', { id: 'm0', sessionId: 'old', seq: 0, role: 'user', content: makeContent('hi', false), timestamp: nowIso() });
    v1.close();

    const store = await SessionStore.open(name);
    expect(DB_VERSION).toBeGreaterThan(1);
    expect((await store.list()).map((s) => s.title)).toEqual(['From v1']);
    expect(await store.messages('old')).toHaveLength(1);
    await store.setMeta('last-session', 'old');
    expect(await store.getMeta('last-session')).toBe('old');
  });
});
