/**
 * GLIMPSE_ENGINE=openai end to end: the real REST server (in this process, real HTTP on 127.0.0.1, file store
 * in a temp DATA_DIR) sending its turns to a fake OpenAI-compatible inference server that checks every payload
 * (test/fixtures/fake-inference-server.ts) and misbehaves on demand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChatResponse, HistoryResponse } from '../../../src/chat/service';
import { loadApiConfig } from '../../../src/server/config';
import { startApiServer, type RunningApi } from '../../../src/server/node';
import { makeImage } from '../../fixtures/images';
import { startFakeInferenceServer, type FakeInferenceServer } from '../../fixtures/fake-inference-server';

const root = mkdtempSync(join(tmpdir(), 'glimpse-openai-engine-'));
const KEY = 'engine-key-7d1f0c93a5';
const SYSTEM = 'You are Glimpse. Answer briefly.';
let fake: FakeInferenceServer;
let api: RunningApi;
let photo: Blob;
const retries: [number, string][] = [];
const upstreamErrors: (number | null)[] = [];

beforeAll(async () => {
  fake = await startFakeInferenceServer();
  const config = loadApiConfig({
    PORT: '0', DATA_DIR: join(root, 'data'), GLIMPSE_ENGINE: 'openai', GLIMPSE_ENGINE_URL: fake.url,
    GLIMPSE_ENGINE_MODEL: 'HuggingFaceTB/SmolVLM-256M-Instruct', GLIMPSE_ENGINE_KEY: KEY, GLIMPSE_SYSTEM_PROMPT: SYSTEM,
    GLIMPSE_MAX_NEW_TOKENS: '64', GLIMPSE_ENGINE_RETRIES: '2',
    // This file sends many turns quickly; the API's own rate limits are not under test here.
    GLIMPSE_RATE_PER_CLIENT: '0', GLIMPSE_RATE_PER_SESSION: '0',
  });
  api = await startApiServer(config, {
    log: () => undefined,
    engineHooks: {
      retry: { baseDelayMs: 10, maxDelayMs: 40, maxRetryAfterMs: 2_000 },
      onRetry: (attempt, reason) => retries.push([attempt, reason]),
      onUpstreamError: (status) => upstreamErrors.push(status),
    },
  });
  photo = await makeImage('jpeg', 320, 240, 3);
});

afterAll(async () => {
  await api?.close();
  await fake?.close();
  rmSync(root, { recursive: true, force: true });
});

beforeEach(() => {
  fake.reset();
  retries.length = 0;
  upstreamErrors.length = 0;
});

interface ErrorJson { error: { message: string; type: string; param: string | null; code: string | null } }

async function postChat(fields: Record<string, string | Blob>, init: RequestInit = {}) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Blob) form.append(k, v, 'photo.jpg');
    else form.append(k, v);
  }
  const res = await fetch(`${api.url}/chat`, { method: 'POST', body: form, ...init });
  return { res, body: (await res.json()) as ChatResponse & ErrorJson };
}

type Sent = { role: string; content: string | { type: string; text?: string; image_url?: { url: string } }[] }[];
const sent = (i: number) => fake.requests[i]!.body.messages as Sent;
const texts = (messages: Sent) => messages.map((m) => [m.role, typeof m.content === 'string' ? m.content
  : m.content.map((p) => (p.type === 'image_url' ? '<image_url>' : p.text)).join('|')]);
const history = async (id: string) => (await (await fetch(`${api.url}/chat/history/${id}`)).json()) as HistoryResponse;

describe('answers from an OpenAI-compatible server', () => {
  it('an image, then a follow-up without it: the image goes as a data URL, exactly once, each time', async () => {
    const expected = `data:image/jpeg;base64,${Buffer.from(await photo.arrayBuffer()).toString('base64')}`;
    const one = await postChat({ message: 'What is in this picture?', image: photo });
    expect(one.res.status).toBe(200);
    expect(one.body).toMatchObject({ has_image: true, conversation_length: 2, model_used: 'HuggingFaceTB/SmolVLM-256M-Instruct',
      response: 'Fake answer. last: What is in this picture?' });

    const two = await postChat({ session_id: one.body.session_id, message: 'And the colours?' });
    expect(two.res.status).toBe(200);
    expect(two.body).toMatchObject({ has_image: true, conversation_length: 4, response: 'Fake answer. last: And the colours?' });

    expect(fake.requests.map((r) => r.problems)).toEqual([[], []]);
    expect(fake.requests.map((r) => r.images)).toEqual([[expected], [expected]]);
    expect(texts(sent(0))).toEqual([['system', SYSTEM], ['user', '<image_url>|What is in this picture?']]);
    expect(texts(sent(1))).toEqual([
      ['system', SYSTEM], ['user', '<image_url>|What is in this picture?'],
      ['assistant', 'Fake answer. last: What is in this picture?'], ['user', 'And the colours?'],
    ]);
    expect(fake.requests[1]!.body).toMatchObject({ model: 'HuggingFaceTB/SmolVLM-256M-Instruct', stream: true, max_tokens: 64,
      temperature: 0, top_p: 0.9 });
    expect(fake.requests[1]!.headers.authorization).toBe(`Bearer ${KEY}`);
    const stored = await api.store.messages(one.body.session_id);
    // 'Fake answer. last: And the colours?' streamed as six chunks.
    expect(stored[3]!.details).toMatchObject({ backend: 'openai', tokens: 6 });
  });

  it('past 20 messages the server sees the last window only, with the image on its first question', async () => {
    const first = await postChat({ message: 'turn 0', image: photo });
    const id = first.body.session_id;
    for (let t = 1; t <= 11; t++) expect((await postChat({ session_id: id, message: `turn ${t}` })).res.status).toBe(200);
    // 22 stored messages + the new question = 23; the window (20) slides in steps of 10 (src/chat/context.ts),
    // so it starts at message 10, the question "turn 5", and holds 13 messages.
    const last = sent(fake.requests.length - 1);
    const { history: h } = await history(id);
    const window = h.slice(10, -1).map((m) => [m.role, m.content.map((p) => (p.type === 'text' ? p.text : '<image_url>')).join('|')]);
    expect(texts(last)).toEqual([['system', SYSTEM], ['user', `<image_url>|turn 5`], ...window.slice(1)]);
    expect(window[0]).toEqual(['user', 'turn 5']);
    expect(last).toHaveLength(14);
    expect(fake.requests.at(-1)!.images).toHaveLength(1);
    expect(JSON.stringify(last)).not.toMatch(/turn [0-4]\b/);
  });

  it('a 429 with retry-after-ms is waited for, then the retry answers (the retry is counted)', async () => {
    fake.script.push('rate-limit');
    fake.retryAfterMs = '150';
    const r = await postChat({ message: 'patience' });
    expect(r.res.status).toBe(200);
    expect(r.body.response).toBe('Fake answer. last: patience');
    expect(fake.requests.map((q) => q.mode)).toEqual(['rate-limit', 'normal']);
    expect(fake.requests[1]!.at - fake.requests[0]!.at).toBeGreaterThanOrEqual(140);
    expect(retries).toEqual([[1, 'rate_limited']]);
    expect(upstreamErrors).toEqual([429]);
  });

  it('a retry-after longer than the engine waits: 429 with Retry-After, after one attempt', async () => {
    fake.script.push('rate-limit');
    fake.retryAfter = '120';
    const r = await postChat({ message: 'too soon' });
    expect(r.res.status).toBe(429);
    expect(r.res.headers.get('retry-after')).toBe('120');
    expect(r.body.error).toMatchObject({ code: 'RemoteRateLimitedError', type: 'rate_limit_error' });
    expect(r.body.error.message).toMatch(/try again in 120 s/);
    expect(fake.requests).toHaveLength(1);
  });

  it('a connection dropped before the first token is retried: one whole answer, no repeated text', async () => {
    fake.script.push('drop-before-first-token', 'drop');
    const r = await postChat({ message: 'one two three four' });
    expect(r.res.status).toBe(200);
    expect(r.body.response).toBe('Fake answer. last: one two three four');
    expect(fake.requests.map((q) => q.mode)).toEqual(['drop-before-first-token', 'drop', 'normal']);
    expect(retries).toEqual([[1, 'connection'], [2, 'connection']]);
    expect(upstreamErrors).toEqual([null, null]);
  });

  it('a connection dropped mid-answer is not retried: 502 naming the server, the partial text kept', async () => {
    fake.script.push('drop-mid-stream');
    const r = await postChat({ message: 'one two three four' });
    expect(r.res.status).toBe(502);
    expect(r.body.error.code).toBe('RemoteUnavailableError');
    expect(r.body.error.message).toContain(`The inference server at ${new URL(fake.url).host} stopped sending in the middle`);
    expect(fake.requests).toHaveLength(1);
    const session = (await api.store.list())[0]!;
    const stored = await api.store.messages(session.id);
    expect(stored.at(-1)).toMatchObject({ role: 'assistant', status: 'error', content: [{ type: 'text', text: 'Fake answer. ' }],
      error: { name: 'RemoteUnavailableError' } });
  });

  it('a 400 is not retried: 502 with the server\'s reason', async () => {
    fake.script.push('bad-request');
    const r = await postChat({ message: 'too long' });
    expect(r.res.status).toBe(502);
    expect(r.body.error).toMatchObject({ code: 'RemoteRequestError', type: 'upstream_error' });
    expect(r.body.error.message).toContain('refused the request with status 400: the request exceeds the available context size');
    expect(fake.requests).toHaveLength(1);
    expect(retries).toEqual([]);
    expect(upstreamErrors).toEqual([400]);
  });

  it('an error event in the stream is the server\'s answer, not a drop: not retried, 502 with its words', async () => {
    fake.script.push('error-event');
    const r = await postChat({ message: 'look' });
    expect(r.res.status).toBe(502);
    expect(r.body.error.code).toBe('RemoteUnavailableError');
    expect(r.body.error.message).toContain('failed to process the image');
    expect(fake.requests).toHaveLength(1);
    expect(upstreamErrors).toEqual([null]);
  });

  it('a server still loading (503 every time): retried, then 503', async () => {
    fake.defaultMode = 'loading';
    const r = await postChat({ message: 'hello?' });
    expect(r.res.status).toBe(503);
    expect(r.body.error).toMatchObject({ code: 'RemoteUnavailableError', type: 'model_unavailable_error' });
    expect(r.body.error.message).toMatch(/failed with status 503 \(after 3 attempts\): Loading model/);
    expect(fake.requests).toHaveLength(3);
    expect(retries.map(([, reason]) => reason)).toEqual(['server_error', 'server_error']);
  });

  it('a client that goes away stops the upstream answer; the partial text is kept, marked stopped', async () => {
    fake.defaultMode = 'slow';
    const stop = new AbortController();
    const pending = postChat({ message: 'a long answer please' }, { signal: stop.signal }).catch((err: unknown) => err);
    await until(() => (fake.requests[0]?.sent ?? 0) >= 2);
    stop.abort();
    expect(await pending).toBeInstanceOf(Error);
    await until(() => fake.requests[0]!.clientClosed);
    const session = (await api.store.list())[0]!;
    await until(async () => (await api.store.messages(session.id)).at(-1)?.status === 'stopped');
    const answer = (await api.store.messages(session.id)).at(-1)!;
    expect(answer.content[0]).toMatchObject({ type: 'text' });
    expect('Fake answer. last: a long answer please'.startsWith((answer.content[0] as { text: string }).text)).toBe(true);
    expect(fake.requests).toHaveLength(1);
  });

  it('/health names the engine, its host and model, never its key', async () => {
    const res = await fetch(`${api.url}/health`);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ status: 'ok', model: 'HuggingFaceTB/SmolVLM-256M-Instruct', model_state: 'ready',
      engine: { kind: 'openai', host: new URL(fake.url).host, model: 'HuggingFaceTB/SmolVLM-256M-Instruct' } });
    expect(text).not.toContain(KEY);
  });
});

/** Waits for a condition (polling), never for a fixed time; the test's own timeout bounds a hang. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 10));
}
