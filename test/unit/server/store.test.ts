import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeContent, nowIso } from '../../../src/chat/messages';
import { withNewVersion } from '../../../src/chat/versions';
import { SessionNotFoundError, StorageUnavailableError } from '../../../src/errors';
import { DataDirInUseError, FileSessionStore } from '../../../src/server/store';
import { repositoryContract, user, withImage } from '../storage/repository-contract';

const root = mkdtempSync(join(tmpdir(), 'glimpse-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `d${n++}`);
const open = () => FileSessionStore.open(freshDir());

repositoryContract('FileSessionStore (temp folder)', open);

describe('FileSessionStore on disk', () => {
  it('keeps sessions, transcripts and images across a close and reopen', async () => {
    const dir = freshDir();
    const a = await FileSessionStore.open(dir);
    const s = await a.create({ id: 'chat:1' });
    const img = await withImage(4);
    await a.append(s.id, user('look', true), img);
    await a.append(s.id, { role: 'assistant', content: makeContent('A square.', false), timestamp: nowIso(), status: 'complete' });
    await a.close();

    const b = await FileSessionStore.open(dir);
    expect(await b.list()).toMatchObject([{ id: 'chat:1', title: 'look', message_count: 2, has_image: true, preview: 'A square.' }]);
    expect((await b.messages(s.id)).map((m) => m.seq)).toEqual([0, 1]);
    expect((await b.getImage(img.hash))?.blob.size).toBe(img.blob.size);
    expect(readdirSync(join(dir, 'sessions'))).toEqual(['chat%3A1.json']); // ':' is not a file-name character everywhere
    await b.close();
  });

  it('stores each image once, named by its SHA-256, and deletes it with its last message', async () => {
    const dir = freshDir();
    const store = await FileSessionStore.open(dir);
    const img = await withImage(5);
    const a = await store.create();
    const b = await store.create();
    await store.append(a.id, user('a', true), img);
    await store.append(b.id, user('b', true), img);
    expect(readdirSync(join(dir, 'images')).sort()).toEqual([img.hash, `${img.hash}.json`]);
    await store.clear(a.id);
    expect(readdirSync(join(dir, 'images'))).toHaveLength(2);
    await store.clear(b.id);
    expect(readdirSync(join(dir, 'images'))).toEqual([]);
    await store.close();
  });

  it('a picture only a version referred to is deleted when an update drops the versions', async () => {
    const dir = freshDir();
    const store = await FileSessionStore.open(dir);
    const img = await withImage(6);
    const s = await store.create();
    await store.append(s.id, user('first'));
    await store.append(s.id, user('look', true), img);
    const before = await store.messages(s.id);
    const [turn] = await store.replaceFrom(s.id, 0, [withNewVersion(before[0]!, before.slice(1), { content: makeContent('again', false) })]);
    expect(readdirSync(join(dir, 'images'))).toHaveLength(2);
    await store.update({ ...turn!, versions: [], version: 0 });
    expect(await store.getImage(img.hash)).toBeUndefined();
    expect(readdirSync(join(dir, 'images'))).toEqual([]);
    await store.close();
  });

  it('a second server on the same folder is refused; a stale lock is taken over', async () => {
    const dir = freshDir();
    const first = await FileSessionStore.open(dir);
    await expect(FileSessionStore.open(dir)).rejects.toThrow(DataDirInUseError);
    await first.close();
    writeFileSync(join(dir, '.lock'), '999999999'); // a pid that does not exist
    const second = await FileSessionStore.open(dir);
    expect(readFileSync(join(dir, '.lock'), 'utf8')).toBe(String(process.pid));
    await second.close();
    await expect(second.create()).rejects.toThrow(StorageUnavailableError);
  });

  it('at open: removes unfinished temp files and unreferenced images, moves unreadable sessions aside', async () => {
    const dir = freshDir();
    const a = await FileSessionStore.open(dir);
    const s = await a.create();
    await a.append(s.id, user('kept'));
    await a.close();
    const stray = 'f'.repeat(64);
    writeFileSync(join(dir, 'images', stray), 'x'); // a crash after the image, before its session
    writeFileSync(join(dir, 'sessions', `${s.id}.json.tmp-1-abcd`), '{"half');
    writeFileSync(join(dir, 'sessions', 'broken.json'), '{not json');

    const b = await FileSessionStore.open(dir);
    expect((await b.messages(s.id)).map((m) => m.content)).toEqual([makeContent('kept', false)]);
    expect(readdirSync(join(dir, 'images'))).toEqual([]);
    const names = readdirSync(join(dir, 'sessions'));
    expect(names.filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(names.some((f) => f.startsWith('broken.json.corrupt-'))).toBe(true);
    expect(b.warnings.join('\n')).toMatch(/broken\.json could not be read/);
    await b.close();
  });

  it('a failed write changes nothing, in memory or on disk', async () => {
    const dir = freshDir();
    const store = await FileSessionStore.open(dir);
    const s = await store.create();
    await store.append(s.id, user('first'));
    rmSync(join(dir, 'sessions'), { recursive: true, force: true }); // the next rename fails (ENOENT)
    const img = await withImage(6);
    await expect(store.append(s.id, user('second', true), img)).rejects.toThrow(StorageUnavailableError);
    expect(await store.messages(s.id)).toHaveLength(1);
    expect((await store.require(s.id)).messageCount).toBe(1);
    expect(await store.getImage(img.hash)).toBeUndefined(); // the image written first was removed again
    await expect(store.clear('nope')).rejects.toThrow(SessionNotFoundError);
    await store.close();
  });

  it('writes are serialised: concurrent appends get dense seqs', async () => {
    const store = await open();
    const s = await store.create();
    const saved = await Promise.all(Array.from({ length: 20 }, (_, i) => store.append(s.id, user(`m${i}`))));
    expect(saved.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect((await store.require(s.id)).messageCount).toBe(20);
    await store.close();
  });
});
