/**
 * GLIMPSE_ENGINE=openai against an inference server that answers as llama.cpp's llama-server does (the fake
 * server's `llama` flavor, test/fixtures/fake-inference-server.ts): an answer that starts with a space, usage and
 * timings in the stream, a prompt cache that reuses the longest common prefix, its file path as the model, an
 * error event after the first token, a /health that hangs or goes away. Each case here failed before the fix.
 */
import sharp from 'sharp';
import { beforeEach, describe, expect, it } from 'vitest';
import type { HistoryResponse } from '../../../src/chat/service';
import { makeImage } from '../../fixtures/images';
import { tokenize } from '../../fixtures/fake-prompt-cache';
import { health, QUESTIONS, threeTurnImageChat, turn } from '../../fixtures/llama-flow';
import { useOpenAIApi } from '../../fixtures/openai-api';
import { metric, scrape } from '../../fixtures/prometheus';

const MODEL = 'HuggingFaceTB/SmolVLM-256M-Instruct';
const KEY = 'engine-key-51c0ffee';
const logs: string[] = [];
const hooks = { retry: { baseDelayMs: 5, maxDelayMs: 20 }, health: { ttlMs: 60, timeoutMs: 400 } };
const stack = useOpenAIApi('openai-llama', { GLIMPSE_ENGINE_MODEL: MODEL, GLIMPSE_ENGINE_KEY: KEY, GLIMPSE_MAX_NEW_TOKENS: '64' },
  { log: (line) => logs.push(line), engineHooks: hooks });

type Sent = { role: string; content: unknown }[];
const history = async (id: string) => (await (await fetch(`${stack.api.url}/chat/history/${id}`)).json()) as HistoryResponse;
const answerOf = (q: string) => `Fake answer. last: ${q}`;

beforeEach(() => {
  stack.fake.reset();
  stack.fake.flavor = 'llama';
  stack.fake.servedModel = 'models/text-f16.gguf';
  logs.length = 0;
});

describe('answers as llama-server streams them', () => {
  it('the answer is stored without the space llama-server starts it with, as the local engine stores it', async () => {
    const r = await turn(stack.api.url, { message: 'hello' });
    expect(r.status).toBe(200);
    expect(r.body.response).toBe(answerOf('hello'));
    const stored = await stack.api.store.messages(r.body.session_id);
    expect(stored[1]!.content).toEqual([{ type: 'text', text: answerOf('hello') }]);
  });

  it('a 3-turn image chat: each follow-up reuses the whole previous prompt and answer from the server\'s cache', async () => {
    const turns = await threeTurnImageChat(stack.api.url, await makeImage('jpeg', 320, 240, 3));
    expect(turns.map((t) => t.status)).toEqual([200, 200, 200]);
    const [a, b, c] = stack.fake.requests;
    // The next prompt holds the previous one and its answer as generated (" Fake", " answer.", …), token for token.
    const generated = (q: string) => tokenize(` ${answerOf(q)}`).length;
    expect(b!.cachedTokens).toBe(a!.promptTokens! + generated(QUESTIONS[0]!));
    expect(c!.cachedTokens).toBe(b!.promptTokens! + generated(QUESTIONS[1]!));
    expect(a!.cachedTokens).toBe(0);
  });

  it('the server\'s counts reach the X-Glimpse headers and GET /metrics', async () => {
    const before = await scrape(stack.api.url);
    const turns = await threeTurnImageChat(stack.api.url, await makeImage('jpeg', 320, 240, 4));
    expect(stack.fake.requests.every((r) => (r.body.stream_options as { include_usage?: boolean })?.include_usage === true)).toBe(true);
    expect(turns.map((t) => t.promptTokens)).toEqual(stack.fake.requests.map((r) => r.promptTokens));
    expect(turns.map((t) => t.cachedTokens)).toEqual(stack.fake.requests.map((r) => r.cachedTokens));
    expect(turns.map((t) => t.visionRan)).toEqual(['true', 'false', 'false']);
    const after = await scrape(stack.api.url);
    const sum = (k: 'promptTokens' | 'cachedTokens') => stack.fake.requests.reduce((n, r) => n + r[k]!, 0);
    const grew = (name: string, labels: Record<string, string> = {}) => metric(after, name, labels) - metric(before, name, labels);
    expect(grew('glimpse_prompt_tokens_total')).toBe(sum('promptTokens'));
    expect(grew('glimpse_cached_prompt_tokens_total')).toBe(sum('cachedTokens'));
    expect(sum('cachedTokens')).toBeGreaterThan(0);
    expect(grew('glimpse_vision_total', { result: 'ran' })).toBe(1);
    expect(grew('glimpse_vision_total', { result: 'kv_cache' })).toBe(2);
  });

  it('timings alone (no usage chunk) give the same counts: prompt_n + cache_n, cache_n', async () => {
    stack.fake.omitUsage = true;
    const turns = await threeTurnImageChat(stack.api.url, await makeImage('jpeg', 320, 240, 5));
    expect(turns.map((t) => t.promptTokens)).toEqual(stack.fake.requests.map((r) => r.promptTokens));
    expect(turns.map((t) => t.cachedTokens)).toEqual(stack.fake.requests.map((r) => r.cachedTokens));
  });

  it('vLLM: the counts come from usage, the cached ones from prompt_tokens_details.cached_tokens', async () => {
    stack.fake.flavor = 'vllm';
    const turns = await threeTurnImageChat(stack.api.url, await makeImage('jpeg', 320, 240, 6));
    expect(turns.map((t) => t.promptTokens)).toEqual(stack.fake.requests.map((r) => r.promptTokens));
    expect(turns.map((t) => t.cachedTokens)).toEqual(stack.fake.requests.map((r) => r.cachedTokens));
    expect(turns[2]!.cachedTokens).toBeGreaterThan(0);
  });

  it('model_used is the configured name, not the server\'s file path; a server\'s model name is kept', async () => {
    const r = await turn(stack.api.url, { message: 'which model?' });
    expect(r.body.model_used).toBe(MODEL);
    expect((await stack.api.store.messages(r.body.session_id))[1]!.details?.model).toBe(MODEL);
    stack.fake.servedModel = 'smolvlm-256m-q8';
    expect((await turn(stack.api.url, { message: 'and now?' })).body.model_used).toBe('smolvlm-256m-q8');
  });

  it('the generation settings the local engine honours are sent: repetition penalty, max tokens, temperature, top-p', async () => {
    await turn(stack.api.url, { message: 'settings' });
    expect(stack.fake.requests[0]!.body).toMatchObject({ max_tokens: 64, temperature: 0, top_p: 0.9, repeat_penalty: 1.1 });
  });

  it('a complete stream leaves the connection open: the next turn comes on the same one (keep-alive)', async () => {
    const one = await turn(stack.api.url, { message: 'first' });
    await turn(stack.api.url, { session_id: one.body.session_id, message: 'second' });
    const [a, b] = stack.fake.requests;
    expect(b!.socket).toBe(a!.socket);
  });
});

describe('failures as llama-server has them', () => {
  it('an error event after the first token: the server\'s reason reaches the client and the log, never the key', async () => {
    stack.fake.script.push('error-after-token');
    const r = await turn(stack.api.url, { message: 'fail half-way' });
    expect(r.status).toBe(502);
    expect(r.body.error).toMatchObject({ code: 'RemoteUnavailableError', type: 'upstream_error' });
    expect(r.body.error!.message).toContain('Failed to decode the batch: KV cache is full');
    expect(r.body.error!.message).toContain('the text so far is kept');
    expect(logs.some((l) => l.includes('Failed to decode the batch: KV cache is full'))).toBe(true);
    expect([...logs, r.body.error!.message].join('\n')).not.toContain(KEY);
  });

  it('a failed turn is marked in GET /chat/history, and the next turn sends a well-formed conversation', async () => {
    stack.fake.script.push('error-event');
    const failed = await turn(stack.api.url, { message: 'first try' });
    expect(failed.status).toBe(502);
    const id = (await stack.api.store.list()).find((s) => s.message_count === 2)!.id;
    const h = await history(id);
    expect(h.history[1]).toMatchObject({ role: 'assistant', status: 'error', error: { code: 'RemoteUnavailableError' } });
    expect(h.history[1]!.error!.message).toContain('failed to process the image');
    expect(h.history[0]).not.toHaveProperty('status');

    const next = await turn(stack.api.url, { session_id: id, message: 'second try' });
    expect(next.status).toBe(200);
    const roles = (stack.fake.requests[1]!.body.messages as Sent).map((m) => m.role).filter((r) => r !== 'system');
    expect(roles).toEqual(['user']);
    expect(roles.every((r, i) => i === 0 || r !== roles[i - 1])).toBe(true);
  });

  it('a stopped answer is marked stopped in GET /chat/history, its partial text kept and sent on', async () => {
    stack.fake.defaultMode = 'slow';
    const stop = new AbortController();
    const pending = turn(stack.api.url, { message: 'a long answer please' }, { signal: stop.signal }).catch((err: unknown) => err);
    await expect.poll(() => stack.fake.requests[0]?.sent ?? 0).toBeGreaterThanOrEqual(2);
    stop.abort();
    await pending;
    const session = (await stack.api.store.list()).find((s) => s.message_count === 2)!;
    await expect.poll(async () => (await history(session.id)).history[1]).toMatchObject({ status: 'stopped' });
    stack.fake.defaultMode = 'normal';
    expect((await turn(stack.api.url, { session_id: session.id, message: 'go on' })).status).toBe(200);
    const roles = (stack.fake.requests[1]!.body.messages as Sent).map((m) => m.role);
    expect(roles).toEqual(['user', 'assistant', 'user']);
  });
});

describe('GET /health asks the inference server', () => {
  it('ready: 200, status ok, one probe for many requests in a short time', async () => {
    await new Promise((r) => setTimeout(r, hooks.health.ttlMs + 10)); // let the last cached probe expire
    const results = await Promise.all([health(stack.api.url), health(stack.api.url), health(stack.api.url)]);
    for (const h of results) expect(h).toMatchObject({ status: 200, body: { status: 'ok', model_state: 'ready' } });
    expect(stack.fake.healthRequests).toBe(1);
  });

  it('loading its model: 503, model_state loading', async () => {
    stack.fake.health = 'loading';
    await expect.poll(() => health(stack.api.url)).toMatchObject({ status: 503, body: { status: 'unavailable', model_state: 'loading' } });
  });

  it('hung (SIGSTOP): 503 unreachable, answered within the probe\'s time limit', async () => {
    stack.fake.health = 'hang';
    const t0 = performance.now();
    await expect.poll(() => health(stack.api.url)).toMatchObject({ status: 503,
      body: { status: 'unavailable', model_state: 'error', engine: { reachable: false } } });
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('gone (the server stopped): 503 naming the host, never the key', async () => {
    await stack.fake.close();
    await expect.poll(() => health(stack.api.url)).toMatchObject({ status: 503, body: { status: 'unavailable', model_state: 'error' } });
    const h = await health(stack.api.url);
    expect(String(h.body.model_error)).toContain(new URL(stack.fake.url).host);
    expect(JSON.stringify(h.body)).not.toContain(KEY);
  });
});

describe('image detail reaches the inference server', () => {
  const low = useOpenAIApi('openai-llama-low', { GLIMPSE_IMAGE_DETAIL: 'low' });
  it('GLIMPSE_IMAGE_DETAIL=low: a 1024×768 photo is sent downscaled to a 512 longest edge', async () => {
    const r = await turn(low.api.url, { message: 'small please', image: await makeImage('jpeg', 1024, 768, 7) });
    expect(r.status).toBe(200);
    const url = low.fake.requests[0]!.images[0]!;
    const meta = await sharp(Buffer.from(url.split(',')[1]!, 'base64')).metadata();
    expect([meta.width, meta.height]).toEqual([512, 384]);
  });
});
