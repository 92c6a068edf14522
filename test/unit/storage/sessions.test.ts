import 'fake-indexeddb/auto';
import { openDB, type IDBPDatabase } from 'idb';
import { describe, expect, it } from 'vitest';
import { makeContent, nowIso } from '../../../src/chat/messages';
import { StorageQuotaError } from '../../../src/errors';
import { DB_VERSION } from '../../../src/storage/schema';
import { withNewVersion } from '../../../src/chat/versions';
import { SessionStore, type StoreChange } from '../../../src/storage/sessions';
import { repositoryContract, user, withImage } from './repository-contract';

let n = 0;
const open = () => SessionStore.open(`test-${n++}-${Math.random()}`);

repositoryContract('SessionStore (fake-indexeddb)', open);

describe('SessionStore', () => {
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

describe('searchMessages', () => {
  it('finds the first matching message of each session in one pass, case-insensitively', async () => {
    const store = await open();
    const a = await store.create();
    const b = await store.create();
    const c = await store.create();
    const say = (id: string, text: string) => store.append(id, { role: 'user', content: makeContent(text, false), timestamp: nowIso() });
    await say(a.id, 'nothing here');
    await say(a.id, 'The HARBOUR at dawn');
    await say(a.id, 'harbour again');
    await say(b.id, 'a mountain');
    await say(c.id, 'harbour lights');
    const hits = await store.searchMessages('harbour');
    expect([...hits.keys()].sort()).toEqual([a.id, c.id].sort());
    expect(hits.get(a.id)).toBe('The HARBOUR at dawn');
    expect((await store.searchMessages('')).size).toBe(0);
  });
});

/** The stores and indexes exactly as release 1 created them (version 2 added 'meta'). */
function createVersion1(db: IDBPDatabase): void {
  const s = db.createObjectStore('sessions', { keyPath: 'id' });
  s.createIndex('by-updated', 'updatedAt');
  const m = db.createObjectStore('messages', { keyPath: ['sessionId', 'seq'] });
  m.createIndex('by-image', 'imageHash');
  m.createIndex('by-id', 'id', { unique: true });
  db.createObjectStore('images', { keyPath: 'hash' });
}

describe('schema upgrades', () => {
  it('opens a version-1 database and keeps its data', async () => {
    const name = `upgrade-${Math.random()}`;
    // A database exactly as release 1 wrote it.
    const v1 = await openDB(name, 1, {
      upgrade: createVersion1,
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

  it('opens a version-2 database: its messages get versions, and a picture only a version refers to is kept', async () => {
    const name = `upgrade-v2-${Math.random()}`;
    const v2 = await openDB(name, 2, {
      upgrade(db) {
        createVersion1(db);
        db.createObjectStore('meta'); // version 2
      },
    });
    const img = await withImage(5);
    await v2.put('sessions', {
      id: 'two', title: 'From v2', customTitle: false, createdAt: nowIso(), updatedAt: nowIso(),
      messageCount: 3, nextSeq: 3, imageHash: img.hash, preview: 'A',
    });
    await v2.put('images', { hash: img.hash, blob: img.blob, type: 'image/png', size: img.blob.size, createdAt: nowIso() });
    const at = (seq: number, role: 'user' | 'assistant', text: string, image?: string) =>
      v2.put('messages', { id: `m${seq}`, sessionId: 'two', seq, role, content: makeContent(text, !!image), timestamp: nowIso(), ...(image ? { imageHash: image } : {}) });
    await at(0, 'user', 'hi');
    await at(1, 'assistant', 'hello');
    await at(2, 'user', 'look', img.hash);
    v2.close();

    const store = await SessionStore.open(name);
    expect(DB_VERSION).toBe(3);
    const old = await store.messages('two');
    expect(old).toHaveLength(3);
    // Edit the first question: the photo's turn moves into the branch, and the photo is kept for it.
    await store.replaceFrom('two', 0, [withNewVersion(old[0]!, old.slice(1), { content: makeContent('hi again', false) })]);
    expect(await store.messages('two')).toHaveLength(1);
    expect(await store.getImage(img.hash)).toBeDefined();
    store.close();
  });
});
