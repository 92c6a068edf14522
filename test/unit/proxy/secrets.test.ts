/**
 * The key never appears in a response (body or header), an error, a log line, or code the browser bundle
 * can reach. The e2e suite additionally greps the built dist/ for the key-reading code.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import OpenAI, { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/proxy/config';
import { redact, toFailure } from '../../../src/proxy/upstream';
import type { FakeMode } from '../../fixtures/fake-openai';
import { startStack, TEST_KEY, type Stack } from './stack';

// The key itself and a distinctive tail, as OpenAI's own 401 message shows partly masked keys.
const NEEDLES = [TEST_KEY, TEST_KEY.slice(-10), TEST_KEY.slice(8, 20)];

let s: Stack;
const consoleLines: string[] = [];
beforeAll(async () => {
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      consoleLines.push(args.map(String).join(' '));
    });
  }
  s = await startStack({ GLIMPSE_RATE_LIMIT: '40', GLIMPSE_MAX_BODY_BYTES: '2048' });
});
afterAll(async () => {
  await s.close();
  vi.restoreAllMocks();
});

function assertClean(what: string, text: string) {
  for (const needle of NEEDLES) {
    expect(text.includes(needle), `${what} contains the key`).toBe(false);
  }
}

async function capture(res: Response): Promise<string> {
  const headers = [...res.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n');
  return `${res.status} ${res.statusText}\n${headers}\n\n${await res.text()}`;
}

describe('the key never leaves the proxy', () => {
  it('is absent from every response, error and log line across all endpoints and fault paths', async () => {
    const json = { 'content-type': 'application/json' };
    const u = s.proxy.url;
    const v1 = (body: object) => s.post('/v1/chat/completions', body);
    const msgs = [{ role: 'user', content: 'hello there poster friend' }];
    const calls: [string, () => Promise<Response>][] = [
      ['health', () => fetch(`${u}/health`)],
      ['models', () => fetch(`${u}/v1/models`)],
      ['chat', () => s.post('/chat', { message: 'hi' })],
      ['reset', () => s.post('/chat/reset', {})],
      ['v1', () => v1({ messages: msgs })],
      ['v1 stream', () => v1({ messages: msgs, stream: true })],
      ['404', () => fetch(`${u}/admin`)],
      ['405', () => fetch(`${u}/chat`)],
      ['preflight', () => fetch(`${u}/chat`, { method: 'OPTIONS', headers: { origin: 'http://app.test' } })],
      ['bad origin', () => s.post('/chat', { message: 'hi' }, { origin: 'http://evil.test' })],
      ['415', () => fetch(`${u}/chat`, { method: 'POST', body: 'hi' })],
      ['413', () => fetch(`${u}/chat`, { method: 'POST', headers: json, body: JSON.stringify({ m: 'x'.repeat(5000) }) })],
      ['bad json', () => s.post('/chat', '{')],
      ['validation', () => s.post('/chat', { message: '', temperature: 9 })],
      ['unknown model', () => v1({ messages: msgs, model: 'nope' })],
    ];
    const faults: FakeMode[] = ['rate-limit', 'server-error', 'unauthorized', 'drop', 'stall', 'drop-mid-stream',
      'stall-mid-stream'];
    for (const mode of faults) {
      calls.push([`chat ${mode}`, () => { s.fake.defaultMode = mode; return s.post('/chat', { message: 'hi' }); }]);
      calls.push([`v1 stream ${mode}`, () => { s.fake.defaultMode = mode; return v1({ messages: msgs, stream: true }); }]);
    }
    const statuses = new Set<number>();
    for (const [name, call] of calls) {
      const res = await call();
      statuses.add(res.status);
      assertClean(`response to ${name}`, await capture(res));
    }
    s.fake.defaultMode = 'normal';
    // Make sure the run did hit success, client errors and every kind of upstream failure.
    for (const st of [200, 204, 400, 403, 404, 405, 413, 415, 429, 502, 504]) expect(statuses).toContain(st);

    // Then the rate limiter itself.
    let limited: Response | undefined;
    for (let i = 0; i < 60 && limited === undefined; i++) {
      const res = await s.post('/chat', { message: 'hi' });
      if (res.status === 429) limited = res;
      else await res.body?.cancel();
    }
    expect(limited).toBeDefined();
    assertClean('rate-limited response', await capture(limited!));

    // The key did go upstream, so its absence above means something.
    expect(s.fake.requests.some((r) => r.headers.authorization === `Bearer ${TEST_KEY}`)).toBe(true);
    expect(s.logs.length).toBeGreaterThan(calls.length);
    for (const line of [...s.logs, ...consoleLines]) assertClean('log line', line);
  });

  it('an SDK client sees no key in its error objects either', async () => {
    s.fake.defaultMode = 'unauthorized';
    const sdk = new OpenAI({ apiKey: 'x', baseURL: `${s.proxy.url}/v1`, maxRetries: 0 });
    const err = await sdk.chat.completions.create({ model: '', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e) as APIError;
    s.fake.defaultMode = 'normal';
    expect(err).toBeInstanceOf(APIError);
    assertClean('SDK error', `${err.message} ${JSON.stringify(err.error)} ${JSON.stringify([...err.headers!.entries()])}`);
  });

  it('an upstream refusal passed on to the client has key-like text removed', () => {
    const config = loadConfig({ OPENAI_API_KEY: TEST_KEY });
    const upstreamMsg = { message: `Invalid request for key ${TEST_KEY} (also sk-abc***wxyz)` };
    const f = toFailure(new APIError(400, upstreamMsg, undefined, new Headers()), 1, config);
    expect(f.status).toBe(400);
    assertClean('failure', f.message);
    expect(f.message).not.toMatch(/sk-/);
    expect(redact('no secrets here', TEST_KEY)).toBe('no secrets here');
  });

  it('a config error message does not echo the key', () => {
    expect(() => loadConfig({ OPENAI_API_KEY: TEST_KEY, PORT: 'abc' })).toThrow(/PORT/);
    try {
      loadConfig({ OPENAI_API_KEY: TEST_KEY, PORT: 'abc' });
    } catch (e) {
      assertClean('config error', String(e));
    }
  });
});

describe('upstream text the proxy cannot vouch for', () => {
  let own: Stack;
  beforeAll(async () => {
    own = await startStack();
  });
  afterAll(() => own.close());

  it('upstream 4xx text is never echoed: a base64-encoded key in it does not reach the client', async () => {
    const encoded = Buffer.from(TEST_KEY).toString('base64');
    own.fake.defaultMode = 'bad-request';
    own.fake.rejectMessage = `Invalid request from organisation key ${encoded} (hex ${Buffer.from(TEST_KEY).toString('hex')})`;
    try {
      for (const path of ['/chat', '/v1/chat/completions']) {
        const body = path === '/chat' ? { message: 'hi' } : { messages: [{ role: 'user', content: 'hi' }] };
        const res = await own.post(path, body);
        const text = await capture(res);
        expect(res.status).toBe(400);
        expect(text).not.toContain(encoded);
        expect(text).not.toContain('organisation');
        // What the client does get: the status, and the upstream's machine-readable code.
        expect(JSON.parse(text.slice(text.indexOf('\n\n') + 2))).toMatchObject({
          error: { type: 'upstream_rejected', code: 'context_length_exceeded' },
        });
      }
    } finally {
      own.fake.reset();
    }
  });
});

describe('the browser bundle cannot contain the key or the code that reads it (static check)', () => {
  const root = join(import.meta.dirname, '../../../src');
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|js|mts)$/.test(name)) files.push(p);
    }
  };
  walk(root);
  // src/proxy and src/server (the headless REST API) are Node programs, never part of the browser bundle.
  const nodeOnly = (f: string) => /^(proxy|server)[\\/]/.test(relative(root, f));
  const app = files.filter((f) => !nodeOnly(f));

  it('nothing in the app imports the Node-only server (so it cannot reach the bundle)', () => {
    expect(files.some((f) => relative(root, f).startsWith('server'))).toBe(true);
    for (const f of app) {
      expect(readFileSync(f, 'utf8'), relative(root, f)).not.toMatch(/from\s+['"][^'"]*\/server\//);
    }
  });

  it('no file under src/ outside src/proxy and src/server reads OPENAI_API_KEY or process.env', () => {
    expect(app.length).toBeGreaterThan(2);
    for (const f of app) {
      const text = readFileSync(f, 'utf8');
      expect(text, relative(root, f)).not.toMatch(/OPENAI_API_KEY|process\.env|import\.meta\.env\.\w*KEY/);
    }
  });

  it('no file outside src/proxy imports from src/proxy (the remote side talks to it over HTTP only)', () => {
    for (const f of app) {
      const text = readFileSync(f, 'utf8');
      expect(text, relative(root, f)).not.toMatch(/from\s+['"][^'"]*\/proxy\//);
      expect(text, relative(root, f)).not.toMatch(/import\(\s*['"][^'"]*\/proxy\//);
    }
    expect(app.some((f) => relative(root, f).startsWith('remote'))).toBe(true);
  });
});
