import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION, type BackendRequest, type ChatBackend, type TokenEvent } from '../../../src/chat/backend';
import { makeContent, type ChatMessage } from '../../../src/chat/messages';
import {
  GenerationAbortedError, isError, RemoteRateLimitedError, RemoteRequestError, RemoteUnavailableError,
  type GlimpseError,
} from '../../../src/errors';
import { RemoteBackend } from '../../../src/remote/backend';
import { toOpenAIMessages } from '../../../src/remote/convert';
import { makeImage } from '../../fixtures/images';
import { FT_MODEL, OTHER_MODEL, startStack, TEST_KEY, type Stack } from '../proxy/stack';

let s: Stack;
beforeAll(async () => {
  s = await startStack();
});
afterAll(() => s.close());
beforeEach(() => s.fake.reset());

const msg = (role: ChatMessage['role'], text: string, image = false): ChatMessage =>
  ({ role, content: makeContent(text, image), timestamp: '2026-11-21T00:00:00.000Z' });

function request(messages: ChatMessage[], over: Partial<BackendRequest> = {},
  settings: Partial<typeof DEFAULT_GENERATION> = {}): BackendRequest & { events: TokenEvent[] } {
  const events: TokenEvent[] = [];
  return {
    sessionId: 's1', messages, image: null, signal: new AbortController().signal,
    settings: { ...DEFAULT_GENERATION, model: '', systemPrompt: '', ...settings },
    onToken: (e) => events.push(e), events, ...over,
  };
}

describe('toOpenAIMessages', () => {
  it('drops image parts and empty turns, keeps roles and text, adds the settings system prompt if none', () => {
    const out = toOpenAIMessages([msg('user', 'What font?', true), msg('assistant', 'Try Futura.'), msg('user', '', true),
      msg('user', 'Bolder?')], 'You design posters.');
    expect(out).toEqual([
      { role: 'system', content: 'You design posters.' }, { role: 'user', content: 'What font?' },
      { role: 'assistant', content: 'Try Futura.' }, { role: 'user', content: 'Bolder?' },
    ]);
    expect(toOpenAIMessages([msg('system', 'Mine.'), msg('user', 'x')], 'Settings.')[0]).toEqual(
      { role: 'system', content: 'Mine.' });
    expect(toOpenAIMessages([msg('user', 'x')], '  ')).toEqual([{ role: 'user', content: 'x' }]);
  });
});

describe('RemoteBackend through the real proxy', () => {
  it('is the text-only remote backend', () => {
    const b = new RemoteBackend({ proxyUrl: s.proxy.url });
    expect(b.id).toBe('remote');
    expect(b.acceptsImages).toBe(false);
  });

  it('marks an answer cut at max_tokens, and cannot continue one (OpenAI\'s API starts a new answer)', async () => {
    const b = new RemoteBackend({ proxyUrl: s.proxy.url });
    const cut = await b.generate(request([msg('user', 'one two three four five')], {}, { maxNewTokens: 3 }));
    expect(cut.text).toBe('You said: one ');
    expect(cut.details).toMatchObject({ finishReason: 'length' });
    const whole = await b.generate(request([msg('user', 'hi')]));
    expect(whole.details).toMatchObject({ finishReason: 'stop' });
    expect((b as ChatBackend).continues).toBeUndefined();
  });

  it('for a model that reads images, sends the picture in context once, encoded for the chosen detail', async () => {
    const png = await makeImage('png', 32, 24);
    const url = `data:image/png;base64,${Buffer.from(await png.arrayBuffer()).toString('base64')}`;
    const encoded: [Blob, string][] = [];
    let reads = true;
    const b = new RemoteBackend({ proxyUrl: s.proxy.url, acceptsImages: () => reads,
      encodeImage: async (blob, detail) => (encoded.push([blob, detail]), url) });
    expect(b.acceptsImages).toBe(true);
    const history = [msg('user', 'A poster?', true), msg('assistant', 'Yes.'), msg('user', 'Bolder?')];
    const image = { blob: png, hash: 'a'.repeat(64) };
    await b.generate(request(history, { image }, { imageDetail: 'low' }));
    expect(encoded).toEqual([[png, 'low']]);
    const sent = s.fake.requests[0]?.body.messages as { role: string; content: unknown }[];
    expect(sent.slice(1)).toEqual([
      { role: 'user', content: [{ type: 'image_url', image_url: { url } }, { type: 'text', text: 'A poster?' }] },
      { role: 'assistant', content: 'Yes.' }, { role: 'user', content: 'Bolder?' }]);
    expect(JSON.stringify(s.fake.requests[0]?.body).split(url).length - 1).toBe(1);

    // The setting turned off: the same turn goes as text, and nothing is encoded.
    reads = false;
    s.fake.reset();
    expect(b.acceptsImages).toBe(false);
    await b.generate(request(history, { image }));
    expect(encoded).toHaveLength(1);
    expect(JSON.stringify(s.fake.requests[0]?.body)).not.toContain('image_url');
  });

  it('streams tokens into onToken and returns the text and the model that answered', async () => {
    s.fake.answerModel = FT_MODEL;
    const b = new RemoteBackend({ proxyUrl: () => `${s.proxy.url}/` });
    const req = request([msg('user', 'A poster for a bike race', true)]);
    const result = await b.generate(req);
    expect(result.text).toBe('You said: A poster for a bike race');
    expect(result.model).toBe(FT_MODEL);
    expect(result.details).toMatchObject({ backend: 'remote', model: FT_MODEL, tokens: req.events.length });
    expect(req.events.length).toBeGreaterThan(3);
    expect(req.events.at(-1)?.full).toBe(result.text);
    expect(req.events.map((e) => e.text).join('')).toBe(result.text);
    expect(req.events.map((e) => e.tokens)).toEqual(req.events.map((_, i) => i + 1));

    const sent = s.fake.requests[0];
    expect(sent?.headers.authorization).toBe(`Bearer ${TEST_KEY}`); // replaced by the proxy
    expect(sent?.body.stream).toBe(true);
    expect(sent?.body.model).toBe(FT_MODEL); // '' in settings = the proxy's default
    // Text only; with no system prompt in settings the proxy's default comes first.
    expect(sent?.body.messages).toEqual([expect.objectContaining({ role: 'system' }),
      { role: 'user', content: 'A poster for a bike race' }]);
  });

  it('sends the chosen model, the settings system prompt and clamped sampling settings', async () => {
    const b = new RemoteBackend({ proxyUrl: s.proxy.url });
    const result = await b.generate(request([msg('user', 'hi')], {},
      { model: OTHER_MODEL, systemPrompt: 'Only Swiss style.', temperature: 3, topP: 0.5, maxNewTokens: 64 }));
    expect(result.model).toBe(OTHER_MODEL);
    expect(s.fake.requests[0]?.body).toMatchObject({ model: OTHER_MODEL, temperature: 2, top_p: 0.5, max_tokens: 64,
      messages: [{ role: 'system', content: 'Only Swiss style.' }, { role: 'user', content: 'hi' }] });
  });

  it('a stop rejects with GenerationAbortedError carrying the partial text, and the upstream is aborted', async () => {
    s.fake.defaultMode = 'slow-stream';
    const controller = new AbortController();
    const b = new RemoteBackend({ proxyUrl: s.proxy.url });
    const req = request([msg('user', 'one two three four five six seven eight')], { signal: controller.signal });
    req.onToken = (e) => {
      req.events.push(e);
      if (e.tokens === 3) controller.abort();
    };
    const err = await b.generate(req).catch((e: unknown) => e) as GlimpseError;
    expect(isError(err, GenerationAbortedError)).toBe(true);
    expect(err.data.partial).toBe(req.events.at(-1)?.full);
    expect(String(err.data.partial).length).toBeGreaterThan(0);
    await expect.poll(() => s.fake.requests[0]?.clientClosed).toBe(true);
  });

  const failure = async (proxyUrl: string, settings: Partial<typeof DEFAULT_GENERATION> = {}) =>
    await new RemoteBackend({ proxyUrl }).generate(request([msg('user', 'one two three four')], {}, settings))
      .catch((e: unknown) => e) as GlimpseError;

  it('maps failures to named errors', async () => {
    s.fake.defaultMode = 'rate-limit';
    s.fake.retryAfter = '0';
    const limited = await failure(s.proxy.url);
    expect(isError(limited, RemoteRateLimitedError)).toBe(true);
    expect(limited.data.retryAfterSec).toBe(1);

    s.fake.defaultMode = 'server-error';
    expect(isError(await failure(s.proxy.url), RemoteUnavailableError)).toBe(true);

    s.fake.defaultMode = 'normal';
    const refused = await failure(s.proxy.url, { model: 'not-allowed' });
    expect(isError(refused, RemoteRequestError)).toBe(true);
    expect(refused.data.param).toBe('model');

    const down = await failure('http://127.0.0.1:9');
    expect(isError(down, RemoteUnavailableError)).toBe(true);
    expect(down.message).toMatch(/Could not reach the proxy/);

    const unset = await failure('');
    expect(isError(unset, RemoteUnavailableError)).toBe(true);
    expect(unset.message).toMatch(/Set the proxy URL/);
  });

  it('an answer cut in the middle keeps the partial text on the error', async () => {
    s.fake.defaultMode = 'drop-mid-stream';
    const err = await failure(s.proxy.url);
    expect(isError(err, RemoteUnavailableError)).toBe(true);
    expect(err.data.partial).toBe('You said: ');
  });
});
