/**
 * Several REST API instances on one PostgreSQL database (DATABASE_URL), over real HTTP, answering with the
 * echo backend (no model): a conversation continues on whichever instance gets the next request, turns to
 * one session never interleave across instances, and an instance killed mid-answer frees the session.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatResponse, HistoryResponse } from '../../../src/chat/service';
import { textOf } from '../../../src/chat/messages';
import { loadApiConfig } from '../../../src/server/config';
import { startApiServer, type RunningApi } from '../../../src/server/node';
import { PgSessionLocks } from '../../../src/server/pg/locks';
import { createDatabase } from '../../fixtures/postgres';
import { EchoServerBackend } from '../../fixtures/servers/echo-server-backend';
import { spawnServer, type ChildServer } from '../../fixtures/servers/spawn';

const root = mkdtempSync(join(tmpdir(), 'glimpse-pg-api-'));
let url = '';
let a: RunningApi;
let b: RunningApi;
const children: ChildServer[] = [];

async function instance(name: string, tokenDelayMs = 0): Promise<RunningApi> {
  const backend = new EchoServerBackend();
  backend.tokenDelayMs = tokenDelayMs;
  const config = loadApiConfig({ PORT: '0', DATA_DIR: join(root, name), DATABASE_URL: url, GLIMPSE_API_QUEUE: '32' });
  return startApiServer(config, { backend, log: () => undefined });
}

beforeAll(async () => {
  url = await createDatabase('api');
  // A few ms a token, so a turn lasts long enough for another instance's turn to try to cut in.
  [a, b] = await Promise.all([instance('a', 2), instance('b', 2)]);
});
afterAll(async () => {
  for (const c of children) if (c.alive()) process.kill(c.pid, 'SIGKILL');
  await Promise.all([a?.close(), b?.close()]);
  rmSync(root, { recursive: true, force: true });
});

async function chat(api: { url: string }, message: string, sessionId?: string): Promise<ChatResponse> {
  const form = new FormData();
  form.set('message', message);
  if (sessionId) form.set('session_id', sessionId);
  const res = await fetch(`${api.url}/chat`, { method: 'POST', body: form });
  const body = (await res.json()) as ChatResponse & { error?: unknown };
  if (res.status !== 200) throw new Error(`POST /chat answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

async function history(api: { url: string }, id: string): Promise<HistoryResponse> {
  const res = await fetch(`${api.url}/chat/history/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as HistoryResponse;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('two API instances on one PostgreSQL database', () => {
  it('a session started on one continues on the other; lists, clears and deletes are shared', async () => {
    const first = await chat(a, 'Hello, my name is Alice');
    const second = await chat(b, 'What is my name?', first.session_id);
    expect(second.conversation_length).toBe(4);
    // The echo backend answers with what it was given: instance b saw a's turn.
    expect(second.response).toMatch(/^saw 3 messages; .* last: What is my name\?$/);
    const seen = await history(a, first.session_id);
    expect(seen.history.map((m) => [m.role, textOf(m)])).toEqual([
      ['user', 'Hello, my name is Alice'],
      ['assistant', first.response],
      ['user', 'What is my name?'],
      ['assistant', second.response],
    ]);
    const listed = (await (await fetch(`${b.url}/chat/sessions`)).json()) as { sessions: { id: string; message_count: number }[] };
    expect(listed.sessions).toContainEqual(expect.objectContaining({ id: first.session_id, message_count: 4 }));

    expect((await fetch(`${b.url}/chat/history/${first.session_id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await history(a, first.session_id)).length).toBe(0);
    expect((await fetch(`${a.url}/chat/sessions/${first.session_id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await fetch(`${b.url}/chat/history/${first.session_id}`)).status).toBe(404);
  });

  it('parallel turns to one session across both instances never interleave, and none is lost', async () => {
    const { session_id: id } = await chat(a, 'start');
    const n = 12;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => chat(i % 2 ? b : a, `turn ${i}`, id)));
    expect(answers.every((r) => r.session_id === id)).toBe(true);
    const stored = await a.store.messages(id);
    expect(stored).toHaveLength(2 + 2 * n);
    // user, assistant, user, assistant…: each answer directly follows the question it answers.
    for (let i = 0; i < stored.length; i += 2) {
      const [q, r] = [stored[i]!, stored[i + 1]!];
      expect([q.role, r.role, r.status]).toEqual(['user', 'assistant', 'complete']);
      expect(textOf(r)).toMatch(new RegExp(`last: ${textOf(q)}$`));
    }
    expect(new Set(stored.filter((m) => m.role === 'user').map(textOf)).size).toBe(n + 1);
    expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i));
  });

  it('killing an instance mid-answer frees the session: the next turn runs on another instance', async () => {
    // A third instance in a process of its own, whose answers never finish on their own.
    const child = await spawnServer('api', { DATABASE_URL: url, ECHO_TOKEN_DELAY_MS: '600000' });
    children.push(child);
    const { session_id: id } = await chat(a, 'before');
    const stuck = chat(child, 'never answered', id).catch((err: unknown) => err);
    const locks = new PgSessionLocks({ connectionString: url, poolSize: 1 });
    try {
      await until(async () => (await a.store.messages(id)).at(-1)?.status === 'streaming', 'the child is mid-answer');
      expect(await locks.held(id)).toBe(true);
      // Still held while the child lives: reading the history on `a` leaves its answer marked streaming.
      await history(a, id);
      expect((await a.store.messages(id)).at(-1)?.status).toBe('streaming');

      process.kill(child.pid, 'SIGKILL');
      expect(await stuck).toBeInstanceOf(Error);
      const next = await chat(b, 'after', id); // would wait forever if the dead instance's lock stayed
      expect(next.response).toMatch(/last: after$/);
      expect(await locks.held(id)).toBe(false);
      await history(a, id); // marks the dead instance's turn as interrupted
      expect((await a.store.messages(id)).map((m) => [m.role, m.status])).toEqual([
        ['user', 'complete'], ['assistant', 'complete'],
        ['user', 'complete'], ['assistant', 'interrupted'],
        ['user', 'complete'], ['assistant', 'complete'],
      ]);
    } finally {
      await locks.close();
    }
  });
});
