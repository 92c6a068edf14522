/**
 * The behaviour every SessionRepository keeps, run against each store: SessionStore on fake-indexeddb
 * (sessions.test.ts), FileSessionStore on a temp folder (test/unit/server/store.test.ts) and PgSessionStore
 * on a real PostgreSQL (test/unit/server/pg-store.test.ts). Every one of them keeps versions (replaceFrom).
 */
import { describe, expect, it } from 'vitest';
import { hashBlob } from '../../../src/chat/images';
import { makeContent, nowIso, textOf } from '../../../src/chat/messages';
import { showVersion, withNewVersion } from '../../../src/chat/versions';
import { InvalidSessionIdError, SessionNotFoundError, StaleWriteError } from '../../../src/errors';
import type { SessionRecord, SessionRepository } from '../../../src/chat/repository';
import { makeImage } from '../../fixtures/images';

/** The repository with versions (replaceFrom), plus the two session-list operations every store has (rename, delete). */
export type ContractStore = SessionRepository & Required<Pick<SessionRepository, 'replaceFrom'>> & {
  delete(id: string): Promise<void>;
  rename(id: string, title: string): Promise<SessionRecord>;
};

export const user = (text: string, image = false) => ({ role: 'user' as const, content: makeContent(text, image), timestamp: nowIso() });

export async function withImage(seed: number) {
  const blob = await makeImage('png', 16, 16, seed);
  return { blob, hash: await hashBlob(blob) };
}

export function repositoryContract(name: string, open: () => Promise<ContractStore>): void {
  describe(`${name}: the SessionRepository contract`, () => {
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

    it('counts sessions, empty ones included, as list() does; a deleted one is no longer counted', async () => {
      const store = await open();
      expect(await store.count()).toBe((await store.list()).length);
      const before = await store.count();
      const a = await store.create();
      const b = await store.create();
      await store.append(a.id, user('hello'));
      await store.clear(a.id);
      expect(await store.count()).toBe(before + 2);
      await store.delete(b.id);
      expect(await store.count()).toBe(before + 1);
      expect(await store.count()).toBe((await store.list()).length);
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
      expect(rec?.type).toBe('image/png');
      expect(new Uint8Array(await rec!.blob.arrayBuffer())).toEqual(new Uint8Array(await img.blob.arrayBuffer()));
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
      expect(await store.getImage(two.hash)).toBeUndefined();
      expect(await store.messages(s.id)).toHaveLength(1);
      const next = await store.append(s.id, user('three'));
      expect(next.seq).toBe(1);
    });

    it('update rewrites a message in place; a message that is gone is a named error', async () => {
      const store = await open();
      const s = await store.create();
      const m = await store.append(s.id, { role: 'assistant', content: makeContent('', false), timestamp: nowIso(), status: 'streaming' });
      await store.update({ ...m, content: makeContent('Done.', false), status: 'complete' });
      const [saved] = await store.messages(s.id);
      expect(saved).toMatchObject({ id: m.id, seq: 0, status: 'complete', content: [{ type: 'text', text: 'Done.' }] });
      expect((await store.require(s.id)).preview).toBe('Done.');
      await store.clear(s.id);
      await expect(store.update({ ...m, status: 'complete' })).rejects.toThrow(SessionNotFoundError);
    });

    it('refuses a stale write: an update built on an old read never overwrites a newer one', async () => {
      const store = await open();
      const s = await store.create();
      const m = await store.append(s.id, { role: 'assistant', content: makeContent('', false), timestamp: nowIso(), status: 'streaming' });
      const [readEarlier] = await store.messages(s.id);
      const partial = await store.update({ ...m, content: makeContent('Half', false) });
      const final = await store.update({ ...partial, content: makeContent('Half and done.', false), status: 'complete' });
      expect(final).toMatchObject({ id: m.id, status: 'complete' });
      await expect(store.update({ ...readEarlier!, status: 'interrupted' })).rejects.toThrow(StaleWriteError);
      await expect(store.update({ ...partial, status: 'interrupted' })).rejects.toThrow(StaleWriteError);
      const [saved] = await store.messages(s.id);
      expect(saved).toMatchObject({ status: 'complete', content: [{ type: 'text', text: 'Half and done.' }] });
      // A write built on the latest read goes through.
      await store.update({ ...saved!, status: 'error' });
      expect((await store.messages(s.id))[0]!.status).toBe('error');
    });

    it('returns copies: changing a returned message changes nothing stored', async () => {
      const store = await open();
      const s = await store.create();
      await store.append(s.id, user('original'));
      const [m] = await store.messages(s.id);
      m!.content = makeContent('changed', false);
      expect((await store.messages(s.id))[0]!.content).toEqual(makeContent('original', false));
    });

    it('replaceFrom swaps the turns after a message in one write; pictures in other versions stay until no version needs them', async () => {
      const store = await open();
      expect(store.replaceFrom, `${name} keeps versions: replaceFrom`).toBeTypeOf('function');
      const s = await store.create();
      const [a, b] = [await withImage(11), await withImage(12)];
      await store.append(s.id, user('first', true), a);
      await store.append(s.id, { role: 'assistant', content: makeContent('A1', false), timestamp: nowIso(), status: 'complete' });
      await store.append(s.id, user('second', true), b);
      await store.append(s.id, { role: 'assistant', content: makeContent('A3', false), timestamp: nowIso(), status: 'complete' });
      const before = await store.messages(s.id);

      // Edit the first question: the rest becomes the branch of its first version.
      const edited = withNewVersion(before[0]!, before.slice(1), { content: makeContent('first, edited', true) });
      const [saved] = await store.replaceFrom(s.id, 0, [edited]);
      expect(saved).toMatchObject({ id: before[0]!.id, seq: 0, version: 1, branchImages: [b.hash] });
      expect(saved!.rev).toBe((before[0]!.rev ?? 0) + 1);
      expect(await store.messages(s.id)).toHaveLength(1);
      expect(await store.require(s.id)).toMatchObject({ messageCount: 1, nextSeq: 1, imageHash: a.hash, preview: 'first, edited' });
      expect(await store.getImage(b.hash)).toBeDefined(); // only a version refers to it now
      expect((await store.append(s.id, { role: 'assistant', content: makeContent('new', false), timestamp: nowIso() })).seq).toBe(1);

      // Back to the first version: its branch returns (new ids), and the latest photo sent is in context again.
      const now = await store.messages(s.id);
      const { turn, following } = showVersion(now[0]!, now.slice(1), 0);
      const restored = await store.replaceFrom(s.id, 0, [turn, ...following]);
      expect(restored.map((m) => m.seq)).toEqual([0, 1, 2, 3]);
      expect((await store.messages(s.id)).map(textOf)).toEqual(['first', 'A1', 'second', 'A3']);
      expect((await store.messages(s.id))[2]!.imageHash).toBe(b.hash);
      expect(await store.require(s.id)).toMatchObject({ messageCount: 4, nextSeq: 4, imageHash: b.hash });

      // Versions dropped (a write without them): a picture nothing refers to any more is deleted.
      await store.replaceFrom(s.id, 0, [{ role: 'user', content: makeContent('only', true), timestamp: nowIso(), imageHash: a.hash }]);
      expect(await store.getImage(b.hash)).toBeUndefined();
      expect(await store.getImage(a.hash)).toBeDefined();
      await expect(store.replaceFrom('no-such-chat', 0, [])).rejects.toThrow(SessionNotFoundError);
      await store.delete(s.id);
      expect(await store.getImage(a.hash)).toBeUndefined();
    });

    it('replaceFrom bumps the kept turn’s revision: a write built on a read from before it is refused', async () => {
      const store = await open();
      const s = await store.create();
      await store.append(s.id, user('question'));
      const answer = await store.append(s.id, { role: 'assistant', content: makeContent('A1', false), timestamp: nowIso(), status: 'complete' });
      const [question] = await store.messages(s.id);
      // Regenerate: the answer's place holds the old one as a version; the new one streams into it.
      const empty = { id: crypto.randomUUID(), content: makeContent('', false), status: 'streaming' as const, timestamp: nowIso() };
      const [placeholder] = await store.replaceFrom(s.id, answer.seq, [withNewVersion(answer, [], empty)]);
      expect(placeholder).toMatchObject({ id: empty.id, seq: 1, rev: 0, version: 1, versions: [{ content: makeContent('A1', false) }] });
      // The old answer is gone from its place: a late write to it (its stream's last save) is refused.
      await expect(store.update({ ...answer, status: 'interrupted' })).rejects.toThrow(SessionNotFoundError);
      const done = await store.update({ ...placeholder!, content: makeContent('A2', false), status: 'complete' });
      expect(done).toMatchObject({ rev: 1, versions: [{ content: makeContent('A1', false) }] });
      await expect(store.update({ ...placeholder!, status: 'interrupted' })).rejects.toThrow(StaleWriteError);

      // Edit the question (its id kept, its revision moves on): the read from before the edit is stale.
      const edited = await store.replaceFrom(s.id, 0, [withNewVersion(question!, await store.messages(s.id).then((m) => m.slice(1)), { content: makeContent('question, edited', false) })]);
      expect(edited[0]).toMatchObject({ id: question!.id, rev: (question!.rev ?? 0) + 1 });
      await expect(store.update({ ...question!, content: makeContent('overwrite', false) })).rejects.toThrow(StaleWriteError);
      await expect(store.update({ ...done, status: 'error' })).rejects.toThrow(SessionNotFoundError);
      expect((await store.messages(s.id)).map(textOf)).toEqual(['question, edited']);
      // The first version's branch still holds both answers, each with its own versions.
      const { following } = showVersion((await store.messages(s.id))[0]!, [], 0);
      expect(following.map(textOf)).toEqual(['A2']);
      expect(following[0]!.versions?.map(textOf)).toEqual(['A1']);
    });

    it('pictures only a version refers to are kept through updates, shared by hash, and deleted with their last reference', async () => {
      const store = await open();
      const [a, b] = [await withImage(21), await withImage(22)];
      const s = await store.create();
      const other = await store.create();
      await store.append(s.id, user('first'));
      await store.append(s.id, user('look', true), b);
      await store.append(other.id, user('same picture', true), b); // stored once, for both sessions
      const before = await store.messages(s.id);
      const [turn] = await store.replaceFrom(s.id, 0, [withNewVersion(before[0]!, before.slice(1), { content: makeContent('first, again', false) })]);
      expect(turn!.branchImages).toEqual([b.hash]);
      // A write of the turn that carries its versions keeps the picture referred to.
      const updated = await store.update({ ...turn!, status: 'complete' });
      expect(updated.branchImages).toEqual([b.hash]);
      await store.delete(other.id);
      expect(await store.getImage(b.hash)).toBeDefined(); // the version in `s` still refers to it
      // A new question with another picture, then truncating it: the version's picture stays, the new one goes.
      await store.append(s.id, user('another', true), a);
      expect((await store.require(s.id)).imageHash).toBe(a.hash);
      await store.truncate(s.id, 1);
      expect(await store.getImage(a.hash)).toBeUndefined();
      expect(await store.getImage(b.hash)).toBeDefined();
      // Truncating the turn whose version refers to it: nothing does any more.
      await store.truncate(s.id, 0);
      expect(await store.getImage(b.hash)).toBeUndefined();
      expect(await store.require(s.id)).toMatchObject({ messageCount: 0, nextSeq: 0, imageHash: null });
    });

    it('an update that drops a turn’s versions deletes the pictures only they referred to; pictures still used stay', async () => {
      const store = await open();
      const [a, b, c] = [await withImage(31), await withImage(32), await withImage(33)];
      const s = await store.create();
      const other = await store.create();
      await store.append(s.id, user('first', true), c); // the turn's own picture, sent again below
      await store.append(s.id, user('look', true), a); // only the version will refer to it
      await store.append(s.id, user('and this', true), b);
      await store.append(s.id, user('the first again', true), c);
      await store.append(other.id, user('same picture', true), b); // stored once, for both sessions
      const before = await store.messages(s.id);
      const [turn] = await store.replaceFrom(s.id, 0, [withNewVersion(before[0]!, before.slice(1), { content: makeContent('first, again', true) })]);
      expect([...turn!.branchImages!].sort()).toEqual([a.hash, b.hash, c.hash].sort());
      expect(await store.getImage(a.hash)).toBeDefined();

      const updated = await store.update({ ...turn!, versions: [], version: 0 });
      expect(updated.branchImages ?? []).toEqual([]);
      expect(await store.getImage(a.hash)).toBeUndefined(); // nothing refers to it any more
      expect(await store.getImage(b.hash)).toBeDefined(); // `other` still sends it
      expect(await store.getImage(c.hash)).toBeDefined(); // the turn itself still sends it
      expect((await store.messages(s.id)).map((m) => m.imageHash)).toEqual([c.hash]);
      await store.delete(other.id);
      expect(await store.getImage(b.hash)).toBeUndefined();
    });

    it('names the problem for unknown and malformed session ids', async () => {
      const store = await open();
      await expect(store.require('no-such-chat')).rejects.toThrow(SessionNotFoundError);
      await expect(store.append('no-such-chat', user('x'))).rejects.toThrow(SessionNotFoundError);
      await expect(store.clear('no-such-chat')).rejects.toThrow(SessionNotFoundError);
      await expect(store.truncate('no-such-chat', 0)).rejects.toThrow(SessionNotFoundError);
      await expect(store.get('../x')).rejects.toThrow(InvalidSessionIdError);
      await expect(store.clear('a/b')).rejects.toThrow(InvalidSessionIdError);
      expect(await store.messages('no-such-chat')).toEqual([]);
    });
  });
}
