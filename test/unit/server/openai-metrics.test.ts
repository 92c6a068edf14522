/**
 * GLIMPSE_ENGINE=openai: the engine's retries and failed attempts reach GET /metrics (the wiring in
 * src/server/node.ts), end to end. The real REST server on 127.0.0.1 asks the fake inference server
 * (test/fixtures/fake-inference-server.ts), which misbehaves on demand; the scrape is read with
 * test/fixtures/prometheus.ts and checked against what the fake server saw.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChatResponse } from '../../../src/chat/service';
import { useOpenAIApi } from '../../fixtures/openai-api';
import { metric, scrape, type Sample } from '../../fixtures/prometheus';

// Only the backoff is shortened; the metrics hooks are the server's own.
const stack = useOpenAIApi('openai-metrics', { GLIMPSE_ENGINE_RETRIES: '2' },
  { engineHooks: { retry: { baseDelayMs: 5, maxDelayMs: 20 } } });

async function chat(message: string): Promise<{ status: number; body: ChatResponse & { error?: { code: string } } }> {
  const form = new FormData();
  form.set('message', message);
  const res = await fetch(`${stack.api.url}/chat`, { method: 'POST', body: form });
  return { status: res.status, body: (await res.json()) as ChatResponse & { error?: { code: string } } };
}

describe('GET /metrics with GLIMPSE_ENGINE=openai', () => {
  let before: Sample[];
  let after: Sample[];
  beforeAll(async () => {
    before = await scrape(stack.api.url);
    // A 429 once, then an answer.
    stack.fake.script.push('rate-limit');
    const limited = await chat('patience');
    expect(limited.status).toBe(200);
    expect(limited.body.response).toBe('Fake answer. last: patience');
    // A connection dropped with no answer, then an answer.
    stack.fake.script.push('drop');
    expect((await chat('again')).status).toBe(200);
    // 503 on every attempt: the first and GLIMPSE_ENGINE_RETRIES more, then the turn fails.
    stack.fake.script.push('loading', 'loading', 'loading');
    const failed = await chat('hello?');
    expect(failed.status).toBe(503);
    expect(failed.body.error?.code).toBe('RemoteUnavailableError');
    after = await scrape(stack.api.url);
  });

  it('the fake server saw each attempt', () => {
    expect(stack.fake.requests.map((r) => r.mode)).toEqual(['rate-limit', 'normal', 'drop', 'normal', 'loading', 'loading', 'loading']);
  });

  it('counts the retries by reason: one for the 429, one for the drop, two for the 503s', () => {
    const retries = (reason: string) => metric(after, 'glimpse_upstream_retries_total', { reason });
    expect(metric(before, 'glimpse_upstream_retries_total')).toBe(0);
    expect(retries('rate_limited')).toBe(1);
    expect(retries('connection')).toBe(1);
    expect(retries('server_error')).toBe(2);
    expect(metric(after, 'glimpse_upstream_retries_total')).toBe(4);
  });

  it('counts every failed attempt by the server\'s status (none: no answer), as many as the fake server failed', () => {
    const errors = (status: string) => metric(after, 'glimpse_upstream_errors_total', { status });
    expect(metric(before, 'glimpse_upstream_errors_total')).toBe(0);
    expect(errors('429')).toBe(1);
    expect(errors('none')).toBe(1);
    expect(errors('503')).toBe(3);
    const failedAttempts = stack.fake.requests.filter((r) => r.mode !== 'normal').length;
    expect(metric(after, 'glimpse_upstream_errors_total')).toBe(failedAttempts);
  });

  it('counts the turns: two answered, one failed with 503', () => {
    expect(metric(after, 'glimpse_http_requests_total', { route: '/chat', method: 'POST', status: '200' })).toBe(2);
    expect(metric(after, 'glimpse_http_requests_total', { route: '/chat', method: 'POST', status: '503' })).toBe(1);
    expect(metric(after, 'glimpse_sessions')).toBe(3);
  });
});
