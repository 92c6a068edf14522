/**
 * PgSessionStore on a real PostgreSQL server (test/fixtures/postgres.ts): the SessionRepository contract the
 * IndexedDB and file stores keep, the migrations, and what two stores on one database see of each other.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeContent, nowIso, textOf, type StoredMessage } from '../../../src/chat/messages';
import { withNewVersion } from '../../../src/chat/versions';
import { StaleWriteError, StorageUnavailableError } from '../../../src/errors';
import { migrate, MIGRATIONS, SchemaTooNewError } from '../../../src/server/pg/migrations';
import { PgSessionStore } from '../../../src/server/pg/store';
import { createDatabase } from '../../fixtures/postgres';
import { repositoryContract, user, withImage } from '../storage/repository-contract';

let url = '';
const opened: PgSessionStore[] = [];
let schemas = 0;

beforeAll(async () => {
  url = await createDatabase('store');
});
afterAll(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

/** A store in a schema of its own: every open starts empty, as the contract expects. */
async function open(schema = `s${schemas++}`): Promise<PgSessionStore> {
  const store = await PgSessionStore.open({ connectionString: url, schema, poolSize: 4 });
  opened.push(store);
  return store;
}

repositoryContract('PgSessionStore (PostgreSQL)', () => open());

describe('PgSessionStore on PostgreSQL', () => {
  it('runs its numbered migrations once, records them, and refuses a schema newer than it knows', async () => {
    const schema = `m${schemas++}`;
    await open(schema);
    await open(schema); // a second instance on the same schema: nothing left to apply
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT version, name FROM glimpse_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await migrate(client as unknown as pg.PoolClient)).toEqual([]);
      await client.query('INSERT INTO glimpse_migrations (version, name) VALUES (999, $1)', ['from the future']);
      await expect(migrate(client as unknown as pg.PoolClient)).rejects.toThrow(SchemaTooNewError);
      await expect(open(schema)).rejects.toThrow(/Cannot open the PostgreSQL database.*version 999, newer than this Glimpse knows/);
    } finally {
      await client.end();
    }
  });

  it('upgrades a database from schema 1: the pictures versions refer to are found in the records and kept', async () => {
    const schema = `up${schemas++}`;
    const client = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${schema}`);
      expect(await migrate(client as unknown as pg.PoolClient, MIGRATIONS.filter((m) => m.version === 1))).toEqual([1]);
      // Rows as schema 1 holds them: a question sending picture a, whose earlier version's branch sent b.
      const [a, b] = [await withImage(31), await withImage(32)];
      for (const img of [a, b]) {
        await client.query('INSERT INTO glimpse_images (hash, type, size, created_at, bytes) VALUES ($1, $2, $3, $4, $5)', [
          img.hash, img.blob.type, img.blob.size, nowIso(), new Uint8Array(await img.blob.arrayBuffer()),
        ]);
      }
      const sent: StoredMessage = { id: 'q1', sessionId: 'old', seq: 0, role: 'user', content: makeContent('a "branchImages":[ in text', true), timestamp: nowIso(), imageHash: a.hash };
      const branch: StoredMessage = { ...sent, id: 'q0', imageHash: b.hash };
      const question = withNewVersion(branch, [], { content: sent.content, imageHash: a.hash });
      const stored = { ...question, branchImages: [b.hash] };
      await client.query('INSERT INTO glimpse_sessions (id, updated_at, record) VALUES ($1, now(), $2)', ['old', JSON.stringify({ id: 'old', nextSeq: 1, messageCount: 1, imageHash: a.hash })]);
      await client.query('INSERT INTO glimpse_messages (session_id, seq, id, rev, image_hash, body) VALUES ($1, 0, $2, 0, $3, $4)', ['old', 'q0', a.hash, JSON.stringify(stored)]);

      const store = await open(schema);
      const { rows } = await client.query('SELECT version FROM glimpse_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual([1, 2]);
      expect((await client.query('SELECT session_id, seq, hash FROM glimpse_branch_images')).rows).toEqual([{ session_id: 'old', seq: 0, hash: b.hash }]);
      expect(await store.messages('old')).toEqual([stored]);
      // Another chat sends b and is cleared: the version in the old chat still refers to it.
      const other = await store.create();
      await store.append(other.id, user('b again', true), b);
      await store.clear(other.id);
      expect(await store.getImage(b.hash)).toBeDefined();
      // The old chat goes on with versions; once nothing refers to the pictures, they go.
      const [kept] = await store.replaceFrom('old', 0, [{ ...stored, versions: [], version: 0 }]);
      expect(kept).toMatchObject({ id: 'q0', rev: 1 });
      expect(kept!.branchImages).toBeUndefined();
      expect(await store.getImage(b.hash)).toBeUndefined();
      await store.truncate('old', 0);
      expect(await store.getImage(a.hash)).toBeUndefined();
    } finally {
      await client.end();
    }
  });

  it('a version dropped on one store while the other sends the same picture: the picture stays for it', async () => {
    const schema = `branch${schemas++}`;
    const [a, b] = [await open(schema), await open(schema)];
    const img = await withImage(33);
    const s = await a.create();
    await a.append(s.id, user('first'));
    await a.append(s.id, user('look', true), img);
    const before = await a.messages(s.id);
    await a.replaceFrom(s.id, 0, [withNewVersion(before[0]!, before.slice(1), { content: makeContent('again', false) })]);
    const t = await b.create();
    const dropVersions = async () => {
      const [turn] = await a.messages(s.id);
      await a.update({ ...turn!, versions: [], version: 0 });
    };
    await Promise.all([dropVersions(), b.append(t.id, user('same picture', true), img)]);
    expect(await a.getImage(img.hash)).toBeDefined();
    expect((await a.messages(s.id))[0]!.branchImages).toBeUndefined();
    await b.clear(t.id);
    expect(await a.getImage(img.hash)).toBeUndefined();
  });

  it('two stores on one database see each other’s sessions, and a stale write from either is refused', async () => {
    const schema = `shared${schemas++}`;
    const a = await open(schema);
    const b = await open(schema);
    const s = await a.create({ id: 'shared-chat' });
    const img = await withImage(9);
    await a.append(s.id, user('look', true), img);
    const reply = await b.append(s.id, { role: 'assistant', content: makeContent('', false), timestamp: nowIso(), status: 'streaming' });
    expect((await a.messages(s.id)).map((m) => m.seq)).toEqual([0, 1]);
    expect((await b.getImage(img.hash))?.size).toBe(img.blob.size);
    await a.update({ ...reply, content: makeContent('Done.', false), status: 'complete' });
    await expect(b.update({ ...reply, status: 'interrupted' })).rejects.toThrow(StaleWriteError);
    expect(await b.list()).toMatchObject([{ id: 'shared-chat', message_count: 2, preview: 'Done.', has_image: true }]);
  });

  it('appends to one session from many writers at once: dense seqs, nothing lost', async () => {
    const schema = `race${schemas++}`;
    const a = await open(schema);
    const b = await open(schema);
    const s = await a.create();
    const img = await withImage(11);
    await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 ? a : b).append(s.id, user(`m${i}`, i % 3 === 0), i % 3 === 0 ? img : undefined)));
    const stored = await a.messages(s.id);
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(new Set(stored.map(textOf)).size).toBe(24);
    expect((await b.require(s.id)).messageCount).toBe(24);
    // Clearing on one while the other adds the same picture to another session: the picture stays for it.
    const other = await b.create();
    await Promise.all([a.clear(s.id), b.append(other.id, user('same picture', true), img)]);
    expect(await a.getImage(img.hash)).toBeDefined();
    await b.clear(other.id);
    expect(await a.getImage(img.hash)).toBeUndefined();
  });

  it('keeps text PostgreSQL’s jsonb would refuse (NUL, lone surrogates) exactly', async () => {
    const store = await open();
    const s = await store.create();
    const text = 'a\u0000b \ud800 c \udfff 😀';
    await store.append(s.id, user(text));
    expect((await store.messages(s.id))[0]!.content).toEqual(makeContent(text, false));
    expect((await store.require(s.id)).title).toBe(text);
  });

  it('a closed store says so; a database that cannot be reached is a named storage error', async () => {
    const store = await open();
    await store.close();
    await expect(store.create()).rejects.toThrow(StorageUnavailableError);
    const dead = new URL(url);
    dead.port = '1';
    await expect(PgSessionStore.open({ connectionString: dead.href })).rejects.toThrow(/Cannot open the PostgreSQL database.*ECONNREFUSED/);
  });
});
