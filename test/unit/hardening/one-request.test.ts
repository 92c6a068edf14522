/**
 * Issue 15, item 1: requests that node:http accepts but that cannot become a fetch Request (a forbidden
 * method, a Host that is not a host, a request target that is not a path) used to throw inside the request
 * listener and end the process. Each server runs in a child process here, so a crash is seen as an exit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, type RawAnswer } from '../../fixtures/raw-http';
import { spawnServer, type ChildServer } from '../../fixtures/servers/spawn';

const servers: Record<'api' | 'proxy', ChildServer | undefined> = { api: undefined, proxy: undefined };
beforeAll(async () => {
  [servers.api, servers.proxy] = await Promise.all([spawnServer('api'), spawnServer('proxy')]);
});
afterAll(async () => {
  await Promise.all([servers.api?.stop(), servers.proxy?.stop()]);
});

const host = (s: ChildServer) => new URL(s.url).host;

/** The requests of the issue, as curl sent them, plus the ones that reach node:http's other doors. */
const CASES: [string, (s: ChildServer) => string][] = [
  ['TRACE', (s) => `TRACE /health HTTP/1.1\r\nHost: ${host(s)}\r\n\r\n`],
  ['a Host with a space', () => 'GET /health HTTP/1.1\r\nHost: a b\r\n\r\n'],
  ['OPTIONS *', (s) => `OPTIONS * HTTP/1.1\r\nHost: ${host(s)}\r\n\r\n`],
  ['an absolute-form target', (s) => `GET http://x/health HTTP/1.1\r\nHost: ${host(s)}\r\n\r\n`],
  ['TRACK', (s) => `TRACK /health HTTP/1.1\r\nHost: ${host(s)}\r\n\r\n`],
  ['CONNECT', () => 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n'],
  ['HTTP/1.0 with no Host', () => 'GET /health HTTP/1.0\r\n\r\n'],
  ['a target with a backslash', (s) => `GET /\\health HTTP/1.1\r\nHost: ${host(s)}\r\n\r\n`],
  ['garbage', () => 'HELLO THERE\r\n\r\n'],
  // Found by the fuzz test (fuzz.test.ts): node:http's bare 417, and a 500 from a chunked body.
  ['an Expect it cannot meet', (s) => `GET /health HTTP/1.1\r\nHost: ${host(s)}\r\nExpect: something-else\r\n\r\n`],
  ['a chunked JSON body', (s) => `POST /chat HTTP/1.1\r\nHost: ${host(s)}\r\nContent-Type: application/json\r\n` +
    'Transfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\n0\r\n\r\n'],
];

function expectJsonError(answer: RawAnswer, what: string): void {
  expect(answer.status, `${what}: ${answer.raw}`).toBeGreaterThanOrEqual(400);
  expect(answer.status, what).toBeLessThan(600);
  expect(answer.headers['content-type'], `${what}: ${answer.raw}`).toMatch(/^application\/json/);
  const body = JSON.parse(answer.body) as { error: { message: string; type: string } };
  expect(body.error.message.length, what).toBeGreaterThan(5);
}

describe.each(['api', 'proxy'] as const)('one request cannot stop the %s', (which) => {
  it.each(CASES)('%s: a JSON 4xx, and the server still answers /health', async (what, head) => {
    const s = servers[which]!;
    const answer = await rawRequest(s.url, head(s), { timeoutMs: 5_000, stopAtAnswer: true });
    // Give a crash the time to show (the listener throws synchronously, the exit follows at once).
    const health = await fetch(`${s.url}/health`).catch(() => null);
    expect(s.alive(), `${what} killed the ${which} server:\n${s.stderr()}`).toBe(true);
    expect(health?.status).toBe(200);
    expectJsonError(answer, what);
  });
});
