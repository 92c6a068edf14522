import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { retryDelay } from '../../../src/proxy/upstream';
import { startStack, type ErrorJson, type Stack } from './stack';

// Stack: timeout 1.5 s, 2 retries (3 attempts), backoff 10 ms doubling to 40 ms, retry-after waited up to 2 s.
let s: Stack;
let sdk: OpenAI;
beforeAll(async () => {
  s = await startStack();
  sdk = new OpenAI({ apiKey: 'x', baseURL: `${s.proxy.url}/v1`, maxRetries: 0 });
});
afterAll(() => s.close());
beforeEach(() => s.fake.reset());

const chat = (message = 'hi') => s.post('/chat', { message });
const modes = () => s.fake.requests.map((r) => r.mode);

describe('retries then success', () => {
  it.each([
    ['429', 'rate-limit'],
    ['500', 'server-error'],
    ['dropped connection', 'drop'],
    ['stall past the timeout', 'stall'],
  ] as const)('%s twice, then an answer', async (_name, mode) => {
    s.fake.script.push(mode, mode);
    const res = await chat('third time lucky');
    expect(res.status).toBe(200);
    expect(((await res.json()) as { response: string }).response).toBe('You said: third time lucky');
    expect(modes()).toEqual([mode, mode, 'normal']);
  });

  it('retries a streamed request that failed before its first byte', async () => {
    s.fake.script.push('server-error');
    const stream = await sdk.chat.completions.create({ model: '', stream: true,
      messages: [{ role: 'user', content: 'still here' }] });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe('You said: still here');
    expect(modes()).toEqual(['server-error', 'normal']);
  });
});

describe('giving up: a clear JSON error with the right status', () => {
  it.each([
    ['429 → 429 with retry-after', 'rate-limit', 429, 'rate_limited'],
    ['500 → 502', 'server-error', 502, 'upstream_error'],
    ['dropped → 502', 'drop', 502, 'upstream_unreachable'],
    ['stalled → 504', 'stall', 504, 'upstream_timeout'],
  ] as const)('%s after 3 attempts', async (_name, mode, status, type) => {
    s.fake.defaultMode = mode;
    s.fake.retryAfter = '0';
    const res = await chat();
    expect(res.status).toBe(status);
    const body = await res.json() as ErrorJson;
    expect(body.error.type).toBe(type);
    expect(body.error.message).toMatch(/after 3 attempts/);
    expect(modes()).toEqual([mode, mode, mode]);
    if (status === 429) expect(res.headers.get('retry-after')).toBe('1'); // "0" rounds up to at least 1 s
  });

  it('the same errors reach an openai SDK client as typed APIErrors', async () => {
    s.fake.defaultMode = 'server-error';
    const err = await sdk.chat.completions.create({ model: '', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(502);
    expect((err as APIError).message).toMatch(/model server failed with status 500/);
  });

  it('a retry-after longer than the proxy waits is not waited for: the 429 goes straight back', async () => {
    s.fake.defaultMode = 'rate-limit';
    s.fake.retryAfter = '30';
    const t0 = performance.now();
    const res = await chat();
    // Not waited for: far below the 30 s asked, with room for a machine 3x slower than a quiet one.
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(modes()).toEqual(['rate-limit']);
  });

  it('an upstream 4xx (not retryable) is passed on once', async () => {
    s.fake.defaultMode = 'unauthorized';
    const res = await chat();
    expect(res.status).toBe(502);
    expect(((await res.json()) as ErrorJson).error.type).toBe('upstream_auth');
    expect(modes()).toEqual(['unauthorized']);
  });
});

describe('retry timing', () => {
  it('honours retry-after: 1 (waits about a second before the retry)', async () => {
    s.fake.script.push('rate-limit');
    s.fake.retryAfter = '1';
    const res = await chat();
    expect(res.status).toBe(200);
    const [first, second] = s.fake.requests;
    // The delay itself is pinned by the retryDelay test below; here: honoured, and not stacked on a backoff
    // (that would be ≥ 2 s on any machine; the bound leaves a busy one room).
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
    expect(second!.at - first!.at).toBeLessThan(2000 + 950);
  });

  it('backs off exponentially with up to 25% jitter, capped, and prefers retry-after-ms', () => {
    const retry = { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 500, maxRetryAfterMs: 2000 };
    const plain = new Error('boom');
    for (let attempt = 0; attempt < 5; attempt++) {
      const ceiling = Math.min(100 * 2 ** attempt, 500);
      for (let i = 0; i < 50; i++) {
        const d = retryDelay(plain, attempt, retry)!;
        expect(d).toBeGreaterThanOrEqual(ceiling * 0.75);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
    const withHeaders = (h: Record<string, string>) =>
      new APIError(429, undefined, 'rate limited', new Headers(h));
    expect(retryDelay(withHeaders({ 'retry-after-ms': '250', 'retry-after': '9' }), 0, retry)).toBe(250);
    expect(retryDelay(withHeaders({ 'retry-after': '1.5' }), 0, retry)).toBe(1500);
    expect(retryDelay(withHeaders({ 'retry-after': '3' }), 0, retry)).toBeNull();
  });
});

describe('faults in the middle of a streamed answer', () => {
  const streamText = async () => {
    const stream = await sdk.chat.completions.create({ model: '', stream: true,
      messages: [{ role: 'user', content: 'one two three four five' }] });
    let text = '';
    try {
      for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    } catch (err) {
      return { text, err };
    }
    return { text, err: undefined };
  };

  it('a dropped connection ends the stream with an error event the SDK throws, after the partial text', async () => {
    s.fake.defaultMode = 'drop-mid-stream';
    const { text, err } = await streamText();
    expect(text).toBe('You said: ');
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).message).toMatch(/closed the connection in the middle/);
    expect(modes()).toEqual(['drop-mid-stream']); // output already sent: not retried
  });

  it('a stream that stalls is cut after the idle timeout', async () => {
    s.fake.defaultMode = 'stall-mid-stream';
    const t0 = performance.now();
    const { text, err } = await streamText();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(text).toBe('You said: ');
    expect((err as APIError).message).toMatch(/stopped sending for 1500 ms/);
    // The proxy hung up on the stalled upstream.
    await expect.poll(() => s.fake.requests[0]?.clientClosed, ).toBe(true);
  });
});

describe('a client that disconnects aborts the upstream request', () => {
  it('while streaming', async () => {
    s.fake.defaultMode = 'slow-stream';
    const controller = new AbortController();
    const stream = await sdk.chat.completions.create({ model: '', stream: true,
      messages: [{ role: 'user', content: 'a long long long long long long long answer' }] },
    { signal: controller.signal });
    let chunks = 0;
    try {
      for await (const _ of stream) if (++chunks === 2) controller.abort();
    } catch { /* aborted */ }
    await expect.poll(() => s.fake.requests[0]?.clientClosed, ).toBe(true);
    await expect.poll(() => s.logs.some((l) => /client closed/.test(l)), ).toBe(true);
  });

  it('while waiting for a non-streamed answer', async () => {
    s.fake.defaultMode = 'stall';
    const controller = new AbortController();
    const pending = fetch(`${s.proxy.url}/chat`, { method: 'POST', signal: controller.signal,
      headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'hi' }) }).catch(() => 'aborted');
    await expect.poll(() => s.fake.requests.length).toBe(1);
    controller.abort();
    expect(await pending).toBe('aborted');
    await expect.poll(() => s.fake.requests[0]?.clientClosed, ).toBe(true);
    await expect.poll(() => s.logs.some((l) => /client closed/.test(l)), ).toBe(true);
    // A retry would follow within the retry delay (≤ 40 ms) or the upstream timeout (1.5 s): wait past both.
    await new Promise((r) => setTimeout(r, 2000));
    expect(s.fake.requests).toHaveLength(1);
  });
});
