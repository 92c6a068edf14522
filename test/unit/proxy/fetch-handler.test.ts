/**
 * The handler as a plain fetch handler, with no node:http in between: how it runs on Workers, Deno or an
 * edge function. Cancelling the response body (what those runtimes do when the client goes away) must
 * abort the upstream request.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/proxy/config';
import { createProxyHandler, type ProxyHandler } from '../../../src/proxy/handler';
import { startFakeOpenAI, type FakeOpenAI } from '../../fixtures/fake-openai';
import { TEST_KEY } from './stack';

let fake: FakeOpenAI;
let handler: ProxyHandler;
const logs: string[] = [];
beforeAll(async () => {
  fake = await startFakeOpenAI();
  // An edge deployment names its own host (GLIMPSE_ALLOWED_HOSTS); only loopback names are answered otherwise.
  handler = createProxyHandler(loadConfig({ OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: fake.baseURL,
    GLIMPSE_RATE_LIMIT: '2', GLIMPSE_MAX_RETRIES: '0', GLIMPSE_ALLOWED_HOSTS: 'proxy.example' }), { log: (l) => logs.push(l) });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const post = (body: object, address = '203.0.113.9') => handler(new Request('https://proxy.example/v1/chat/completions', {
  method: 'POST', headers: { 'content-type': 'application/json', origin: 'http://localhost:5173' },
  body: JSON.stringify(body),
}), { address });

describe('createProxyHandler as a plain fetch handler', () => {
  it('answers a streamed request with SSE and CORS headers', async () => {
    const res = await post({ stream: true, messages: [{ role: 'user', content: 'edge hello' }] }, '198.51.100.1');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    const text = await res.text();
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const content = text.split('\n\n').filter((e) => e.startsWith('data: {'))
      .map((e) => (JSON.parse(e.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? '')
      .join('');
    expect(content).toBe('You said: edge hello');
  });

  it('cancelling the response body aborts the upstream request', async () => {
    fake.defaultMode = 'slow-stream';
    const res = await post({ stream: true, messages: [{ role: 'user', content: 'a b c d e f g h i j k l' }] }, '198.51.100.2');
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await expect.poll(() => fake.requests[0]?.clientClosed).toBe(true);
  });

  it('rate-limits by the address the runtime passes in', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post({ messages: [{ role: 'user', content: 'x' }] })).status);
    expect(statuses).toEqual([200, 200, 429]);
    expect((await post({ messages: [{ role: 'user', content: 'x' }] }, '203.0.113.10')).status).toBe(200);
  });
});
