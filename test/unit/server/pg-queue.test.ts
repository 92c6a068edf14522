/**
 * Two REST API instances on one PostgreSQL database, over real HTTP, with the echo backend: a turn that waits
 * for another instance's lock on its session must not hold its own instance's model. The session's lock
 * comes first, then the generation queue; while it waits for the lock the request keeps the place it took
 * before its body was read (counted as waiting, so the queue stays bounded), never the running slot.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { textOf } from '../../../src/chat/messages';
import type { ChatResponse } from '../../../src/chat/service';
import { loadApiConfig } from '../../../src/server/config';
import { startApiServer, type RunningApi } from '../../../src/server/node';
import { SESSION_LOCK } from '../../../src/server/pg/locks';
import { createDatabase } from '../../fixtures/postgres';
import { EchoServerBackend } from '../../fixtures/servers/echo-server-backend';

const root = mkdtempSync(join(tmpdir(), 'glimpse-pg-queue-'));
let url = '';
let admin: pg.Client;
const running: RunningApi[] = [];

async function instance(name: string): Promise<{ api: RunningApi; backend: EchoServerBackend }> {
  const backend = new EchoServerBackend();
  const config = loadApiConfig({ PORT: '0', DATA_DIR: join(root, name), DATABASE_URL: url, GLIMPSE_API_QUEUE: '2' });
  const api = await startApiServer(config, { backend, log: () => undefined });
  running.push(api);
  return { api, backend };
}

beforeAll(async () => {
  url = await createDatabase('queue');
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
});
afterAll(async () => {
  await admin?.end();
  await Promise.all(running.map((api) => api.close()));
  rmSync(root, { recursive: true, force: true });
});

async function chat(api: RunningApi, message: string, sessionId?: string, signal?: AbortSignal): Promise<ChatResponse> {
  const form = new FormData();
  form.set('message', message);
  if (sessionId) form.set('session_id', sessionId);
  const res = await fetch(`${api.url}/chat`, { method: 'POST', body: form, ...(signal ? { signal } : {}) });
  const body = (await res.json()) as ChatResponse;
  if (res.status !== 200) throw new Error(`POST /chat answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

async function queueOf(api: RunningApi): Promise<{ running: number; waiting: number }> {
  return ((await (await fetch(`${api.url}/health`)).json()) as { queue: { running: number; waiting: number } }).queue;
}

/** Connections waiting (not granted) for a session lock. */
async function lockWaiters(): Promise<number> {
  const { rows } = await admin.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::bigint::oid AND NOT granted`, [SESSION_LOCK]);
  return rows.length;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `promise`, or a failure naming what did not happen if it hangs (a bound for a hang, not a wait). */
function bounded<T>(promise: Promise<T>, what: string, ms = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms / 1000} s`)), ms)));
  return Promise.race([promise, hang]).finally(() => clearTimeout(timer));
}

describe('the session lock before the queue, across instances', () => {
  it('a turn waiting for another instance’s lock on session S leaves the model to session T', async () => {
    const [a, b] = [await instance('a'), await instance('b')];
    const s = await chat(a.api, 'S, first');
    const t = await chat(b.api, 'T, first');

    const held = a.backend.holdNext();
    let slowDone = false;
    const slow = chat(a.api, 'S, slow', s.session_id).finally(() => (slowDone = true));
    let waits: Promise<ChatResponse> | undefined;
    try {
      await held.entered; // a is answering S and holds its lock
      waits = chat(b.api, 'S, waits', s.session_id);
      await until(async () => (await lockWaiters()) === 1, 'the turn for S on b waits for S’s lock');
      // Waiting for the lock, it keeps its place in b's queue (counted as waiting), not the model.
      expect(await queueOf(b.api)).toEqual({ running: 0, waiting: 1, max_waiting: 2 });

      const other = await bounded(chat(b.api, 'T, meanwhile', t.session_id), 'an answer for T on b while S waits');
      expect(other.response).toMatch(/last: T, meanwhile$/);
      expect(slowDone).toBe(false); // answered while a still held S

      held.release();
      const [slowAnswer, waited] = await Promise.all([slow, waits]);
      expect(slowAnswer.response).toMatch(/last: S, slow$/);
      expect(waited.response).toMatch(/last: S, waits$/);
      const history = await a.api.store.messages(s.session_id);
      expect(history.map((m) => [m.role, textOf(m).replace(/^saw .* last: /, '')])).toEqual([
        ['user', 'S, first'], ['assistant', 'S, first'],
        ['user', 'S, slow'], ['assistant', 'S, slow'],
        ['user', 'S, waits'], ['assistant', 'S, waits'],
      ]);
      // Every place was given back.
      expect(await queueOf(b.api)).toMatchObject({ running: 0, waiting: 0 });
    } finally {
      held.release();
      await Promise.all([slow, waits].map((p) => p?.catch(() => undefined)));
    }
  });

  it('a client that goes away while its turn waits for the lock gives its place back at once, and nothing is saved', async () => {
    const [a, b] = [await instance('c'), await instance('d')];
    const s = await chat(a.api, 'S, first');
    const held = a.backend.holdNext();
    const slow = chat(a.api, 'S, slow', s.session_id);
    try {
      await held.entered;
      const gone = new AbortController();
      const abandoned = chat(b.api, 'S, abandoned', s.session_id, gone.signal).catch((err: unknown) => err);
      await until(async () => (await lockWaiters()) === 1, 'the turn for S on d waits for S’s lock');
      expect(await queueOf(b.api)).toMatchObject({ running: 0, waiting: 1 });
      gone.abort();
      expect(await abandoned).toBeInstanceOf(Error);
      // While c still answers S: the place is free again and nobody waits for the lock any more.
      await until(async () => (await queueOf(b.api)).waiting === 0 && (await lockWaiters()) === 0, 'd gives the place and the lock wait up');
      held.release();
      await slow;
      expect((await a.api.store.messages(s.session_id)).map(textOf).filter((t) => !t.startsWith('saw '))).toEqual(['S, first', 'S, slow']);
      expect((await chat(b.api, 'S, next', s.session_id)).conversation_length).toBe(6);
    } finally {
      held.release();
      await slow.catch(() => undefined);
    }
  });
});
