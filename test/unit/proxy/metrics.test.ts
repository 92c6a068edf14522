/**
 * GET /metrics on the proxy (real node:http in front of the fake OpenAI server): requests by route and status,
 * tokens from the upstream's usage, upstream retries and failed attempts, the rate limit; and its access rules.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelValues, metric, scrape } from '../../fixtures/prometheus';
import { startStack, type Stack } from './stack';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ GLIMPSE_RATE_LIMIT: '6' });
});
afterAll(() => s.close());

describe('GET /metrics on the proxy', () => {
  it('counts what was done', async () => {
    expect((await s.post('/chat', { message: 'one' })).status).toBe(200);
    s.fake.script.push('server-error');
    expect((await s.post('/chat', { message: 'two', conversation_history: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }] })).status).toBe(200);
    expect((await s.post('/v1/chat/completions', { messages: [{ role: 'user', content: 'three' }] })).status).toBe(200);
    const streamed = await s.post('/v1/chat/completions', { stream: true, messages: [{ role: 'user', content: 'four five six' }] });
    expect(streamed.status).toBe(200);
    await streamed.text();
    expect((await s.post('/chat', { message: 'x', temperature: 9 })).status).toBe(400);
    expect((await s.post('/chat', { message: 'six' })).status).toBe(200);
    expect((await s.post('/chat', { message: 'seven' })).status).toBe(429);

    const m = await scrape(s.proxy.url);
    const requests = (labels: Record<string, string>) => metric(m, 'glimpse_http_requests_total', labels);
    expect(requests({ route: '/chat', status: '200' })).toBe(3);
    expect(requests({ route: '/chat', status: '400' })).toBe(1);
    expect(requests({ route: '/chat', status: '429' })).toBe(1);
    expect(requests({ route: '/v1/chat/completions', status: '200' })).toBe(2);
    expect(metric(m, 'glimpse_rate_limited_total', { limit: 'client' })).toBe(1);
    expect(metric(m, 'glimpse_upstream_retries_total', { reason: 'server_error' })).toBe(1);
    expect(metric(m, 'glimpse_upstream_errors_total', { status: '500' })).toBe(1);
    // Non-streamed answers carry usage (the fake reports 5 + 5); the streamed one did not ask for it.
    expect(metric(m, 'glimpse_prompt_tokens_total')).toBe(20);
    expect(metric(m, 'glimpse_completion_tokens_total')).toBe(20);
    expect(metric(m, 'glimpse_answer_duration_seconds_count')).toBe(5);
    expect(metric(m, 'glimpse_time_to_first_token_seconds_count')).toBe(1);
    expect(metric(m, 'glimpse_conversation_messages_count')).toBe(5);
    expect(metric(m, 'glimpse_conversation_messages_sum')).toBe(2 + 4 + 2 + 2 + 2);
  });

  it('1,000 random paths leave the route label set small', async () => {
    for (let i = 0; i < 1_000; i++) await (await fetch(`${s.proxy.url}/r${Math.random().toString(36).slice(2)}/${i}`)).arrayBuffer();
    const routes = labelValues(await scrape(s.proxy.url), 'glimpse_http_requests_total', 'route');
    expect([...routes].sort()).toEqual(['/chat', '/metrics', '/v1/chat/completions', 'unmatched']);
  });

  it('the key appears nowhere in /metrics', async () => {
    const text = await (await fetch(`${s.proxy.url}/metrics`)).text();
    expect(text).not.toContain(s.config.apiKey);
  });
});

describe('who may read the proxy\'s /metrics', () => {
  it('GLIMPSE_METRICS_TOKEN: 401 without it', async () => {
    const t = await startStack({ GLIMPSE_METRICS_TOKEN: 'proxy-metrics-token-0123456789' });
    try {
      expect((await fetch(`${t.proxy.url}/metrics`)).status).toBe(401);
      expect((await scrape(t.proxy.url, { authorization: 'Bearer proxy-metrics-token-0123456789' })).length).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  });

  it('GLIMPSE_METRICS_PORT: a loopback listener of its own, 404 on the main port', async () => {
    const t = await startStack({ GLIMPSE_METRICS_PORT: '0' });
    try {
      expect((await fetch(`${t.proxy.url}/metrics`)).status).toBe(404);
      expect(t.proxy.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:/);
      expect((await scrape(t.proxy.metricsUrl!)).length).toBeGreaterThan(0);
    } finally {
      await t.close();
    }
  });

  it('off on a public bind with neither set, and the log says how to enable it', async () => {
    const t = await startStack({ HOST: '0.0.0.0' });
    try {
      expect((await fetch(`http://127.0.0.1:${new URL(t.proxy.url).port}/metrics`)).status).toBe(404);
      expect(t.logs.find((l) => l.startsWith('metrics:'))).toMatch(/GLIMPSE_METRICS_PORT/);
    } finally {
      await t.close();
    }
  });
});
