import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FT_MODEL, startStack, type ErrorJson, type Stack } from './stack';

let s: Stack;
beforeAll(async () => {
  s = await startStack({ GLIMPSE_MAX_MESSAGE_CHARS: '100', GLIMPSE_MAX_MESSAGES: '3', GLIMPSE_MAX_BODY_BYTES: '2048',
    GLIMPSE_MAX_TOKENS: '256' });
});
afterAll(() => s.close());
beforeEach(() => s.fake.reset());

const long = 'x'.repeat(101);
const turn = { role: 'user', content: 'hi' };

describe('POST /chat validation: a 4xx naming the field, and nothing sent upstream', () => {
  it.each([
    ['message missing', {}, 'message'],
    ['message not a string', { message: 42 }, 'message'],
    ['message empty', { message: '' }, 'message'],
    ['message only spaces', { message: '   ' }, 'message'],
    ['message too long', { message: long }, 'message'],
    ['history not a list', { message: 'hi', conversation_history: 'no' }, 'conversation_history'],
    ['history too long', { message: 'hi', conversation_history: [turn, turn, turn, turn] }, 'conversation_history'],
    ['history item not an object', { message: 'hi', conversation_history: ['hi'] }, 'conversation_history[0]'],
    ['history unknown role', { message: 'hi', conversation_history: [turn, { role: 'tool', content: 'x' }] },
      'conversation_history[1].role'],
    ['history missing role', { message: 'hi', conversation_history: [{ content: 'x' }] }, 'conversation_history[0].role'],
    ['history content empty', { message: 'hi', conversation_history: [{ role: 'user', content: '' }] },
      'conversation_history[0].content'],
    ['history content not text', { message: 'hi', conversation_history: [{ role: 'user', content: 5 }] },
      'conversation_history[0].content'],
    ['history content too long', { message: 'hi', conversation_history: [{ role: 'assistant', content: long }] },
      'conversation_history[0].content'],
    ['temperature below 0', { message: 'hi', temperature: -0.1 }, 'temperature'],
    ['temperature above 2', { message: 'hi', temperature: 2.01 }, 'temperature'],
    ['temperature not a number', { message: 'hi', temperature: '0.5' }, 'temperature'],
    ['unknown model', { message: 'hi', model: 'gpt-5-ultra' }, 'model'],
    ['model not a string', { message: 'hi', model: 7 }, 'model'],
  ])('%s', async (_name, body, param) => {
    const res = await s.post('/chat', body);
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const json = await res.json() as ErrorJson;
    expect(json.error.param).toBe(param);
    expect(json.error.message).toContain(param.replace(/\[\d+\].*/, ''));
    expect(s.fake.requests).toHaveLength(0);
  });

  it('accepts the edges: temperature 0 and 2, a message of exactly the limit, a full history', async () => {
    for (const temperature of [0, 2]) {
      const res = await s.post('/chat', { message: 'x'.repeat(100), temperature, conversation_history: [turn, turn, turn] });
      expect(res.status).toBe(200);
    }
    expect(s.fake.requests.map((r) => r.body.temperature)).toEqual([0, 2]);
  });
});

describe('body rules (both endpoints)', () => {
  for (const path of ['/chat', '/v1/chat/completions']) {
    it(`${path}: wrong content type → 415`, async () => {
      const res = await s.post(path, 'message=hi', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(res.status).toBe(415);
      expect(((await res.json()) as ErrorJson).error.param).toBe('content-type');
    });
    it(`${path}: invalid JSON and non-object JSON → 400 body`, async () => {
      for (const raw of ['{"message":', '[1,2]', '"hi"']) {
        const res = await s.post(path, raw);
        expect(res.status).toBe(400);
        expect(((await res.json()) as ErrorJson).error.param).toBe('body');
      }
    });
    it(`${path}: body over the limit → 413, declared or streamed`, async () => {
      const big = JSON.stringify({ message: 'hi', pad: 'x'.repeat(4000) });
      const declared = await s.post(path, big);
      expect(declared.status).toBe(413);
      expect(((await declared.json()) as ErrorJson).error.param).toBe('body');
      // Chunked upload without Content-Length: the limit is enforced while reading.
      const bytes = new TextEncoder().encode(big);
      const streamed = await fetch(`${s.proxy.url}${path}`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, duplex: 'half',
        body: new ReadableStream({ start(c) { c.enqueue(bytes); c.close(); } }),
      } as RequestInit);
      expect(streamed.status).toBe(413);
    });
  }
  it('no request reached the upstream', () => expect(s.fake.requests).toHaveLength(0));
});

describe('POST /v1/chat/completions validation and clamping', () => {
  const msgs = [{ role: 'user', content: 'hi' }];
  it.each([
    ['messages missing', {}, 'messages'],
    ['messages empty', { messages: [] }, 'messages'],
    ['too many messages', { messages: [turn, turn, turn, turn] }, 'messages'],
    ['unknown role', { messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].role'],
    ['empty content', { messages: [{ role: 'user', content: '' }] }, 'messages[0].content'],
    ['image part not a data URL', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:' } }] }] },
      'messages[0].content[0].image_url.url'],
    ['unknown part type', { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] },
      'messages[0].content[0].type'],
    ['text part without text', { messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text' }] }] },
      'messages[0].content[1].text'],
    ['image_url without url', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] },
      'messages[0].content[0].image_url.url'],
    ['content too long', { messages: [{ role: 'user', content: long }] }, 'messages[0].content'],
    ['temperature out of range', { messages: msgs, temperature: 3 }, 'temperature'],
    ['top_p out of range', { messages: msgs, top_p: 1.5 }, 'top_p'],
    ['stream not boolean', { messages: msgs, stream: 'yes' }, 'stream'],
    ['max_tokens not positive', { messages: msgs, max_tokens: 0 }, 'max_tokens'],
    ['bad stop', { messages: msgs, stop: [1] }, 'stop[0]'],
    ['stop too long', { messages: msgs, stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
    ['unknown model', { messages: msgs, model: 'gpt-5-ultra' }, 'model'],
  ])('%s', async (_name, body, param) => {
    const res = await s.post('/v1/chat/completions', body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorJson).error.param).toBe(param);
    expect(s.fake.requests).toHaveLength(0);
  });

  it('clamps max_tokens, defaults the model, flattens text parts, drops fields it does not forward', async () => {
    const res = await s.post('/v1/chat/completions', {
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hel' }, { type: 'text', text: 'lo' }] }],
      max_tokens: 100_000, n: 5, tools: [{ type: 'function' }], logit_bias: { 1: 100 }, user: 'x',
    });
    expect(res.status).toBe(200);
    const sent = s.fake.requests[0]?.body ?? {};
    expect(sent.max_tokens).toBe(256);
    expect(sent.model).toBe(FT_MODEL);
    expect(sent.messages).toEqual([expect.objectContaining({ role: 'system' }), { role: 'user', content: 'hello' }]);
    for (const dropped of ['n', 'tools', 'logit_bias', 'user']) expect(sent).not.toHaveProperty(dropped);
  });

  it('keeps a smaller max_tokens as asked', async () => {
    await s.post('/v1/chat/completions', { messages: msgs, max_completion_tokens: 12 });
    expect(s.fake.requests[0]?.body.max_tokens).toBe(12);
  });
});
