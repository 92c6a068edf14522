/**
 * The proxy as an attacker sees it: the real proxy (node:http on loopback) in front of the fake upstream.
 * Field-by-field validation, body limits and methods are in test/unit/proxy; these are the cases an
 * attacker would try next.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FT_MODEL, TEST_KEY, startStack, type ErrorJson, type Stack } from '../proxy/stack';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ GLIMPSE_MAX_TOKENS: '256' });
});
afterAll(() => s.close());
beforeEach(() => s.fake.reset());

const FORWARDED = ['model', 'messages', 'temperature', 'top_p', 'max_tokens', 'max_completion_tokens', 'presence_penalty',
  'frequency_penalty', 'stop', 'seed', 'stream', 'stream_options'];

describe('extra fields', () => {
  it('POST /chat: extra fields are ignored, never forwarded (no tools, no n, no key, no base URL)', async () => {
    const res = await s.post('/chat', {
      message: 'hi', api_key: 'sk-attacker', base_url: 'http://attacker.example', tools: [{ type: 'function' }],
      n: 64, max_tokens: 1_000_000, stream: true, logit_bias: { 1: 100 }, user: 'someone-else',
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { response: string }).response).toBe('You said: hi');
    const [up] = s.fake.requests;
    expect(Object.keys(up!.body).filter((k) => !FORWARDED.includes(k))).toEqual([]);
    expect(up!.body.max_tokens).toBe(256);
    expect(up!.body.stream).not.toBe(true);
    expect(up!.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
  });

  it('POST /v1/chat/completions: the same, and a __proto__ key pollutes nothing', async () => {
    const body = `{"messages":[{"role":"user","content":"hi","name":"x","tool_calls":[]}],"n":9,"tools":[],
      "functions":[],"response_format":{"type":"json_object"},"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}`;
    const res = await s.post('/v1/chat/completions', body);
    expect(res.status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const [up] = s.fake.requests;
    expect(Object.keys(up!.body).filter((k) => !FORWARDED.includes(k))).toEqual([]);
    // Per-message extras (name, tool_calls) are dropped too.
    expect((up!.body.messages as unknown[]).at(-1)).toEqual({ role: 'user', content: 'hi' });
  });

  it('a client cannot choose the key: its Authorization header never reaches the upstream', async () => {
    const res = await s.post('/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] },
      { authorization: 'Bearer sk-attacker-key', 'openai-organization': 'org-attacker', 'x-api-key': 'sk-attacker-key' });
    expect(res.status).toBe(200);
    const [up] = s.fake.requests;
    expect(up!.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
    expect(JSON.stringify(up!.headers)).not.toContain('attacker');
  });
});

describe('forged origins', () => {
  it.each([
    ['another site', 'http://evil.test'],
    ['a look-alike suffix', 'http://app.test.evil.test'],
    ['a look-alike prefix', 'http://evil-app.test'],
    ['another scheme', 'https://app.test'],
    ['another port', 'http://app.test:8080'],
    ['the opaque "null" origin (sandboxed iframe, file:)', 'null'],
  ])('%s is refused: 403, no CORS headers, preflight too, nothing upstream', async (_name, origin) => {
    const res = await s.post('/chat', { message: 'hi' }, { origin });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await res.json()) as ErrorJson).error.param).toBe('origin');
    const pre = await fetch(`${s.proxy.url}/v1/chat/completions`, { method: 'OPTIONS', headers: {
      origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    expect(pre.status).toBe(403);
    expect(s.fake.requests).toHaveLength(0);
  });
});

describe('rate limits hold', () => {
  it('a burst of 60 concurrent requests with a limit of 10: exactly 10 reach the upstream, the rest get 429', async () => {
    const limited = await startStack({ GLIMPSE_RATE_LIMIT: '10', GLIMPSE_RATE_WINDOW_MS: '60000' });
    try {
      const statuses = await Promise.all(Array.from({ length: 60 }, (_, i) =>
        limited.post(i % 2 ? '/chat' : '/v1/chat/completions', i % 2 ? { message: `m${i}` } : { messages: [{ role: 'user', content: `m${i}` }] },
          // Spoofed client-address headers change nothing: the limit keys on the socket's address.
          { 'x-forwarded-for': `10.0.0.${i}`, 'x-real-ip': `10.0.1.${i}`, 'cf-connecting-ip': `10.0.2.${i}` })
          .then(async (r) => { await r.arrayBuffer(); return r.status; })));
      expect(statuses.filter((x) => x === 200)).toHaveLength(10);
      expect(statuses.filter((x) => x === 429)).toHaveLength(50);
      expect(limited.fake.requests).toHaveLength(10);
    } finally {
      await limited.close();
    }
  });
});

describe('the default model', () => {
  it('an empty or whitespace model name gets the default, never an arbitrary upstream model', async () => {
    for (const model of ['', ' ']) {
      const res = await s.post('/v1/chat/completions', { model, messages: [{ role: 'user', content: 'hi' }] });
      if (res.status === 200) expect(s.fake.requests.at(-1)!.body.model).toBe(FT_MODEL);
      else expect(((await res.json()) as ErrorJson).error.param).toBe('model');
    }
  });
});
