/**
 * PgSessionStore on a real PostgreSQL server (test/fixtures/postgres.ts): the SessionRepository contract the
 * IndexedDB and file stores keep, the migrations, and what two stores on one database see of each other.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeContent, nowIso, textOf } from '../../../src/chat/messages';
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
