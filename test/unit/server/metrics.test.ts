/**
 * GET /metrics on the REST API over real sockets, with the echo backend: the counts after a few chats match
 * what was done, route labels stay bounded, and who may read it (loopback, token, own port, off).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BackendRequest, BackendResult } from '../../../src/chat/backend';
import type { ChatResponse } from '../../../src/chat/service';
import { loadApiConfig, type Env } from '../../../src/server/config';
import { startApiServer, type RunningApi } from '../../../src/server/node';
import { labelValues, metric, parseMetrics, scrape } from '../../fixtures/prometheus';
import { EchoServerBackend } from '../../fixtures/servers/echo-server-backend';

/** The echo backend reporting what the local engine reports: prompt and cached tokens, timings. */
class DetailedEcho extends EchoServerBackend {
  turn = 0;
  override async generate(req: BackendRequest): Promise<BackendResult> {
    const result = await super.generate(req);
    this.turn += 1;
    return { ...result, details: { ...result.details, promptTokens: 100 * this.turn, cachedTokens: this.turn > 1 ? 50 : 0,
      timeToFirstTokenMs: 200, totalMs: 1_500 } };
  }
}

const root = mkdtempSync(join(tmpdir(), 'glimpse-metrics-'));
let n = 0;
const servers: RunningApi[] = [];
async function start(env: Env = {}, logs: string[] = []): Promise<RunningApi> {
  const config = loadApiConfig({ DATA_DIR: join(root, `d${n++}`), PORT: '0', ...env });
  const api = await startApiServer(config, { backend: new DetailedEcho(), log: (l) => logs.push(l) });
  servers.push(api);
  return api;
}
afterAll(async () => {
  for (const s of servers) await s.close();
  rmSync(root, { recursive: true, force: true });
});

const chat = (api: RunningApi, message: string, sessionId?: string) => {
  const form = new FormData();
  if (sessionId) form.set('session_id', sessionId);
  form.set('message', message);
  return fetch(`${api.url}/chat`, { method: 'POST', body: form });
};

describe('GET /metrics after a few chats', () => {
  let api: RunningApi;
  let text: string;
  const words: number[] = [];
  beforeAll(async () => {
    api = await start({ GLIMPSE_RATE_PER_SESSION: '3', GLIMPSE_RATE_PER_CLIENT: '0' });
    const first = (await (await chat(api, 'Hello')).json()) as ChatResponse;
    words.push(first.response.split(' ').length);
    for (let i = 0; i < 3; i++) {
      const res = await chat(api, `follow-up ${i}`, first.session_id);
      expect(res.status).toBe(200);
      words.push(((await res.json()) as ChatResponse).response.split(' ').length);
    }
    expect((await chat(api, 'one too many', first.session_id)).status).toBe(429);
    expect((await chat(api, '   ')).status).toBe(400);
    expect((await fetch(`${api.url}/chat/history/${first.session_id}`)).status).toBe(200);
    const res = await fetch(`${api.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    text = await res.text();
  });

  it('counts requests by route pattern and status, a 400 and a 429 included', () => {
    const s = parseMetrics(text);
    const requests = (labels: Record<string, string>) => metric(s, 'glimpse_http_requests_total', labels);
    expect(requests({ route: '/chat', method: 'POST', status: '200' })).toBe(4);
    expect(requests({ route: '/chat', method: 'POST', status: '429' })).toBe(1);
    expect(requests({ route: '/chat', method: 'POST', status: '400' })).toBe(1);
    expect(requests({ route: '/chat/history/:id', method: 'GET', status: '200' })).toBe(1);
    expect(metric(s, 'glimpse_http_request_duration_seconds_count', { route: '/chat', method: 'POST' })).toBe(6);
    expect(metric(s, 'glimpse_rate_limited_total', { limit: 'session' })).toBe(1);
  });

  it('counts tokens, cache hits, sessions and conversation lengths; the queue is back at 0', () => {
    const s = parseMetrics(text);
    expect(metric(s, 'glimpse_completion_tokens_total')).toBe(words.reduce((a, b) => a + b, 0));
    expect(metric(s, 'glimpse_prompt_tokens_total')).toBe(100 + 200 + 300 + 400);
    expect(metric(s, 'glimpse_cached_prompt_tokens_total')).toBe(150);
    expect(metric(s, 'glimpse_kv_cache_turns_total', { result: 'hit' })).toBe(3);
    expect(metric(s, 'glimpse_kv_cache_turns_total', { result: 'miss' })).toBe(1);
    expect(metric(s, 'glimpse_time_to_first_token_seconds_count')).toBe(4);
    expect(metric(s, 'glimpse_time_to_first_token_seconds_sum')).toBeCloseTo(0.8);
    expect(metric(s, 'glimpse_answer_duration_seconds_bucket', { le: '1' })).toBe(0);
    expect(metric(s, 'glimpse_answer_duration_seconds_bucket', { le: '2.5' })).toBe(4);
    expect(metric(s, 'glimpse_conversation_messages_count')).toBe(4);
    expect(metric(s, 'glimpse_conversation_messages_sum')).toBe(2 + 4 + 6 + 8);
    expect(metric(s, 'glimpse_sessions_created_total')).toBe(1);
    expect(metric(s, 'glimpse_sessions')).toBe(1);
    expect(metric(s, 'glimpse_sessions_active')).toBe(1);
    expect(metric(s, 'glimpse_queue_waiting')).toBe(0);
    expect(metric(s, 'glimpse_queue_running')).toBe(0);
    expect(metric(s, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('the glimpse_sessions gauge counts the sessions without reading them (no list() per scrape)', async () => {
    const list = vi.spyOn(api.store, 'list');
    try {
      expect(metric(await scrape(api.url), 'glimpse_sessions')).toBe(1);
      expect(list).not.toHaveBeenCalled();
    } finally {
      list.mockRestore();
    }
  });

  it('1,000 random paths leave the route label set small', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1_000; i++) {
      const path = i % 2 ? `/x${Math.random().toString(36).slice(2)}/${i}` : `/chat/history/s-${Math.random().toString(36).slice(2)}`;
      const res = await fetch(`${api.url}${path}`, { method: i % 3 ? 'GET' : 'DELETE' });
      seen.add(String(res.status));
      await res.arrayBuffer();
    }
    expect(seen).toEqual(new Set(['404']));
    const s = await scrape(api.url);
    const routes = labelValues(s, 'glimpse_http_requests_total', 'route');
    expect(routes.size).toBeLessThanOrEqual(6);
    expect([...routes].sort()).toEqual(['/chat', '/chat/history/:id', '/metrics', 'unmatched']);
    expect(metric(s, 'glimpse_http_requests_total', { route: 'unmatched', status: '404' })).toBe(500);
  });
});

describe('who may read /metrics', () => {
  const TOKEN = 'test-metrics-token-0123456789';

  it('a token, when set, is asked for (401 without it or with another)', async () => {
    const api = await start({ GLIMPSE_METRICS_TOKEN: TOKEN });
    const none = await fetch(`${api.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await none.json()).toMatchObject({ error: { code: 'MetricsUnauthorizedError' } });
    expect((await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
    expect((await scrape(api.url, { authorization: `Bearer ${TOKEN}` })).length).toBeGreaterThan(0);
  });

  it('GLIMPSE_METRICS_PORT: /metrics on a loopback listener of its own, 404 on the main port', async () => {
    const logs: string[] = [];
    const api = await start({ GLIMPSE_METRICS_PORT: '0' }, logs);
    expect(api.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${api.url}/metrics`)).status).toBe(404);
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
    const s = await scrape(api.metricsUrl!);
    expect(metric(s, 'glimpse_http_requests_total', { route: '/health', status: '200' })).toBe(1);
    expect((await fetch(`${api.metricsUrl}/health`)).status).toBe(404);
    expect(logs.join('\n')).toContain(`${api.metricsUrl}/metrics`);
  });

  it('off on a public bind with neither set: 404, and the start log says how to turn it on', async () => {
    const logs: string[] = [];
    const api = await start({ HOST: '0.0.0.0' }, logs);
    const port = new URL(api.url).port;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'RouteNotFoundError' } });
    expect(logs.find((l) => l.startsWith('metrics:'))).toMatch(/GLIMPSE_METRICS_PORT.*GLIMPSE_METRICS_TOKEN/);
  });

  it('a token on a public bind opens it to that token only', async () => {
    const api = await start({ HOST: '0.0.0.0', GLIMPSE_METRICS_TOKEN: TOKEN });
    const url = `http://127.0.0.1:${new URL(api.url).port}`;
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await scrape(url, { authorization: `Bearer ${TOKEN}` })).length).toBeGreaterThan(0);
  });

  it('a short token is refused at start', () => {
    expect(() => loadApiConfig({ GLIMPSE_METRICS_TOKEN: 'short' })).toThrow(/GLIMPSE_METRICS_TOKEN/);
  });
});
