/**
 * The REST API's rate limits over real sockets, with the echo backend and a clock the test moves (no
 * sleeping): per client (keyed by X-Forwarded-For only from a trusted proxy) and per session, 429 with
 * Retry-After naming the limit, refused before the body is read and without keeping a queue place.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatResponse } from '../../../src/chat/service';
import { loadApiConfig, type Env } from '../../../src/server/config';
import { startApiServer, type RunningApi } from '../../../src/server/node';
import { rawRequest } from '../../fixtures/raw-http';
import { EchoServerBackend } from '../../fixtures/servers/echo-server-backend';

const root = mkdtempSync(join(tmpdir(), 'glimpse-rate-'));
let clock = 1_000_000;
let n = 0;
const servers: RunningApi[] = [];
async function start(env: Env): Promise<RunningApi> {
  const config = loadApiConfig({ DATA_DIR: join(root, `d${n++}`), PORT: '0', ...env });
  const api = await startApiServer(config, { backend: new EchoServerBackend(), log: () => undefined, now: () => clock });
  servers.push(api);
  return api;
}
afterAll(async () => {
  for (const s of servers) await s.close();
  rmSync(root, { recursive: true, force: true });
});

interface ErrorJson { error: { code: string; param: string | null; message: string } }

describe('per client', () => {
  let api: RunningApi;
  beforeAll(async () => {
    api = await start({ GLIMPSE_RATE_PER_CLIENT: '3', GLIMPSE_TRUSTED_PROXIES: '127.0.0.1' });
  });
  const list = (client: string) => fetch(`${api.url}/chat/sessions`, { headers: { 'x-forwarded-for': client } });

  it('answers 429 with Retry-After after N requests; other clients and /health are unaffected; a new window lets it through', async () => {
    for (let i = 0; i < 3; i++) expect((await list('203.0.113.1')).status).toBe(200);
    const refused = await list('203.0.113.1');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
    const body = (await refused.json()) as ErrorJson;
    expect(body.error).toMatchObject({ code: 'ClientRateLimitError', param: null });
    expect(body.error.message).toMatch(/at most 3 per minute \(GLIMPSE_RATE_PER_CLIENT\)/);
    expect((await list('203.0.113.2')).status).toBe(200);
    expect((await fetch(`${api.url}/health`, { headers: { 'x-forwarded-for': '203.0.113.1' } })).status).toBe(200);
    clock += 30_000;
    expect((await list('203.0.113.1')).headers.get('retry-after')).toBe('30');
    clock += 30_000;
    expect((await list('203.0.113.1')).status).toBe(200);
  });

  it('is refused before the body is read and before a queue place is taken', async () => {
    for (let i = 0; i < 3; i++) await list('203.0.113.3');
    const head = `POST /chat HTTP/1.1\r\nHost: ${new URL(api.url).host}\r\nX-Forwarded-For: 203.0.113.3\r\n` +
      'Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 10000000\r\n\r\n';
    const answer = await rawRequest(api.url, head, { stopAtAnswer: true });
    expect(answer.status).toBe(429);
    expect(api.queue.waiting).toBe(0);
  });
});

describe('an X-Forwarded-For from anyone but a trusted proxy', () => {
  it('changes nothing: the socket address is the client', async () => {
    const api = await start({ GLIMPSE_RATE_PER_CLIENT: '2' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await fetch(`${api.url}/chat/sessions`, { headers: { 'x-forwarded-for': `198.51.100.${i}` } })).status);
    }
    expect(statuses).toEqual([200, 200, 429, 429]);
  });
});

describe('per session', () => {
  let api: RunningApi;
  beforeAll(async () => {
    api = await start({ GLIMPSE_RATE_PER_SESSION: '2' });
  });
  const chat = (message: string, sessionId?: string) => {
    const form = new FormData();
    if (sessionId) form.set('session_id', sessionId);
    form.set('message', message);
    return fetch(`${api.url}/chat`, { method: 'POST', body: form });
  };

  it('answers 429 after N turns in one session; other sessions are unaffected; a new window lets it through', async () => {
    const a = ((await (await chat('hello a')).json()) as ChatResponse).session_id;
    const b = ((await (await chat('hello b')).json()) as ChatResponse).session_id;
    expect((await chat('a1', a)).status).toBe(200);
    expect((await chat('a2', a)).status).toBe(200);
    const refused = await chat('a3', a);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBe(60);
    const body = (await refused.json()) as ErrorJson;
    expect(body.error).toMatchObject({ code: 'SessionRateLimitError', param: 'session_id' });
    expect(body.error.message).toMatch(/GLIMPSE_RATE_PER_SESSION/);
    expect((await chat('b1', b)).status).toBe(200);
    // Nothing was stored for the refused turn, and its queue place was given back.
    const history = (await (await fetch(`${api.url}/chat/history/${a}`)).json()) as { length: number };
    expect(history.length).toBe(6);
    expect(api.queue.waiting).toBe(0);
    clock += 60_000;
    expect((await chat('a3 again', a)).status).toBe(200);
  });

  it('0 turns the limits off', async () => {
    const off = await start({ GLIMPSE_RATE_PER_SESSION: '0', GLIMPSE_RATE_PER_CLIENT: '0' });
    const form = () => {
      const f = new FormData();
      f.set('message', 'x');
      return f;
    };
    const first = (await (await fetch(`${off.url}/chat`, { method: 'POST', body: form() })).json()) as ChatResponse;
    for (let i = 0; i < 8; i++) {
      const f = form();
      f.set('session_id', first.session_id);
      expect((await fetch(`${off.url}/chat`, { method: 'POST', body: f })).status).toBe(200);
    }
  });
});
