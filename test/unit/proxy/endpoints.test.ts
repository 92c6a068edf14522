import OpenAI, { BadRequestError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_SYSTEM_PROMPT } from '../../../src/proxy/config';
import { FT_MODEL, OTHER_MODEL, startStack, TEST_KEY, type ErrorJson, type Stack } from './stack';

let s: Stack;
let sdk: OpenAI;
beforeAll(async () => {
  s = await startStack();
  sdk = new OpenAI({ apiKey: 'not-the-key', baseURL: `${s.proxy.url}/v1`, maxRetries: 0 });
});
afterAll(() => s.close());
beforeEach(() => s.fake.reset());

interface ChatJson {
  response: string;
  conversation_history: { role: string; content: string }[];
  model_used: string;
}

describe('POST /chat', () => {
  it('answers, returns the history ending with the new turns, names the model, injects the key', async () => {
    const history = [{ role: 'user', content: 'I need a gig poster' }, { role: 'assistant', content: 'For which band?' }];
    const res = await s.post('/chat', { message: 'The Lit Elements', conversation_history: history, temperature: 0.7 },
      { authorization: 'Bearer client-supplied' });
    expect(res.status).toBe(200);
    const body = await res.json() as ChatJson;
    expect(body.response).toBe('You said: The Lit Elements');
    expect(body.conversation_history).toEqual([...history, { role: 'user', content: 'The Lit Elements' },
      { role: 'assistant', content: 'You said: The Lit Elements' }]);
    expect(body.model_used).toBe(FT_MODEL);

    const sent = s.fake.requests[0];
    expect(sent?.url).toBe('/v1/chat/completions');
    expect(sent?.headers.authorization).toBe(`Bearer ${TEST_KEY}`); // the proxy's key, not the client's
    expect(sent?.body.temperature).toBe(0.7);
    expect(sent?.body.messages).toEqual([{ role: 'system', content: DEFAULT_SYSTEM_PROMPT }, ...history,
      { role: 'user', content: 'The Lit Elements' }]);
  });

  it('keeps a system message from the history instead of the default, and uses an allowed model', async () => {
    const history = [{ role: 'system', content: 'Answer in French.' }];
    const res = await s.post('/chat', { message: 'Bonjour', conversation_history: history, model: OTHER_MODEL });
    const body = await res.json() as ChatJson;
    expect(body.model_used).toBe(OTHER_MODEL);
    expect(s.fake.requests[0]?.body.messages).toEqual([...history, { role: 'user', content: 'Bonjour' }]);
  });

  it('model_used is the model the upstream says answered', async () => {
    s.fake.answerModel = `${FT_MODEL}-snapshot`;
    const body = await (await s.post('/chat', { message: 'hi' })).json() as ChatJson;
    expect(body.model_used).toBe(`${FT_MODEL}-snapshot`);
  });
});

describe('other endpoints', () => {
  it('POST /chat/reset', async () => {
    const res = await s.post('/chat/reset', {});
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ message: 'Conversation history reset', conversation_history: [] });
  });

  it('GET /health and GET /v1/models list the allowed models', async () => {
    const health = await (await fetch(`${s.proxy.url}/health`)).json() as { status: string; models: string[] };
    expect(health).toMatchObject({ status: 'ok', default_model: FT_MODEL });
    expect(health.models).toEqual([FT_MODEL, OTHER_MODEL]);
    const models = [];
    for await (const m of sdk.models.list()) models.push(m.id);
    expect(models).toEqual([FT_MODEL, OTHER_MODEL]);
  });

  it('404 for an unknown path, 405 for a wrong method', async () => {
    expect((await fetch(`${s.proxy.url}/nope`)).status).toBe(404);
    const wrong = await fetch(`${s.proxy.url}/chat`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(((await wrong.json()) as ErrorJson).error).toMatchObject({ type: 'invalid_request_error', code: 'MethodNotAllowedError' });
  });
});

describe('POST /v1/chat/completions with the official openai SDK as client', () => {
  it('non-streamed', async () => {
    const c = await sdk.chat.completions.create({ model: FT_MODEL, messages: [{ role: 'user', content: 'poster?' }] });
    expect(c.choices[0]?.message.content).toBe('You said: poster?');
    expect(c.model).toBe(FT_MODEL);
    expect(s.fake.requests[0]?.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
  });

  it('streamed: chunks arrive as SSE and add up to the answer', async () => {
    const stream = await sdk.chat.completions.create({
      model: OTHER_MODEL, stream: true, stream_options: { include_usage: true },
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'a bold red poster' }],
    });
    const parts: string[] = [];
    let model = '';
    for await (const chunk of stream) {
      model = chunk.model;
      parts.push(chunk.choices[0]?.delta.content ?? '');
    }
    expect(parts.filter((p) => p !== '').length).toBeGreaterThan(3);
    expect(parts.join('')).toBe('You said: a bold red poster');
    expect(model).toBe(OTHER_MODEL);
    const sent = s.fake.requests[0]?.body;
    expect(sent?.stream).toBe(true);
    expect(sent?.stream_options).toEqual({ include_usage: true });
    expect(sent?.messages).toEqual([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'a bold red poster' }]);
  });

  it('an unknown model is refused before reaching upstream, as a BadRequestError naming the field', async () => {
    const err = await sdk.chat.completions.create({ model: 'gpt-5-ultra', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).param).toBe('model');
    expect(s.fake.requests).toHaveLength(0);
  });
});

describe('CORS and rate limit', () => {
  it('an allowed origin gets CORS headers and a preflight that echoes the asked headers', async () => {
    const pre = await fetch(`${s.proxy.url}/v1/chat/completions`, { method: 'OPTIONS', headers: {
      origin: 'http://app.test', 'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, x-stainless-os' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('http://app.test');
    expect(pre.headers.get('access-control-allow-headers')?.split(/,\s*/)).toEqual(['authorization', 'content-type', 'x-stainless-os']);
    const res = await s.post('/chat', { message: 'hi' }, { origin: 'http://app.test' });
    expect(res.headers.get('access-control-allow-origin')).toBe('http://app.test');
  });

  it('another origin is refused with 403 and nothing goes upstream', async () => {
    const res = await s.post('/chat', { message: 'hi' }, { origin: 'http://evil.test' });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await res.json()) as ErrorJson).error.param).toBe('origin');
    expect(s.fake.requests).toHaveLength(0);
  });

  it('a client over its limit gets 429 with retry-after; health is not limited', async () => {
    const limited = await startStack({ GLIMPSE_RATE_LIMIT: '2', GLIMPSE_RATE_WINDOW_MS: '60000' });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await limited.post('/chat', { message: `m${i}` })).status);
      expect(statuses).toEqual([200, 200, 429, 429]);
      const res = await limited.post('/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }] });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(50);
      expect(((await res.json()) as ErrorJson).error.type).toBe('rate_limited');
      expect(limited.fake.requests).toHaveLength(2);
      expect((await fetch(`${limited.proxy.url}/health`)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
