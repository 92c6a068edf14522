/**
 * Issue 15: 5,000 generated requests at each server (random methods, request targets, Host headers, header
 * sizes, framing, multipart shapes, bodies; test/fixtures/fuzz), 4 connections at a time on 127.0.0.1, each
 * server in a child process: no crash, every answer a JSON error or a valid answer, nothing hangs, /health
 * fine afterwards, no connection left open. Bounded: a fixed count, and a time budget the run must stay within. The seed is printed,
 * so a failure can be replayed (FUZZ_SEED=…); FUZZ_REQUESTS raises the count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fuzzRequest, type FuzzTarget } from '../../fixtures/fuzz/requests';
import { rng } from '../../fixtures/fuzz/rng';
import { fuzz } from '../../fixtures/fuzz/run';
import { spawnServer, type ChildServer } from '../../fixtures/servers/spawn';

const COUNT = Number(process.env.FUZZ_REQUESTS ?? 5_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const BUDGET_MS = 240_000;
const servers: Partial<Record<'api' | 'proxy', ChildServer>> = {};

beforeAll(async () => {
  [servers.api, servers.proxy] = await Promise.all([
    spawnServer('api', { GLIMPSE_MAX_UPLOAD_BYTES: String(256 * 1024), GLIMPSE_API_ORIGINS: 'http://127.0.0.1:5173' }),
    spawnServer('proxy', { GLIMPSE_MAX_BODY_BYTES: String(64 * 1024) }),
  ]);
});
afterAll(async () => {
  await Promise.all([servers.api?.stop(), servers.proxy?.stop()]);
});

async function target(kind: 'api' | 'proxy', s: ChildServer): Promise<FuzzTarget> {
  let sessionId = 'none';
  if (kind === 'api') {
    const res = await fetch(`${s.url}/chat`, { method: 'POST', body: new URLSearchParams({ message: 'a session to aim at' }) });
    sessionId = ((await res.json()) as { session_id: string }).session_id;
  }
  return { kind, authority: new URL(s.url).host, sessionId };
}

describe.each(['api', 'proxy'] as const)('fuzzing the %s', (kind) => {
  it(`${COUNT} generated requests: no crash, only JSON errors or valid answers, /health fine afterwards`, async () => {
    const s = servers[kind]!;
    const t = await target(kind, s);
    const r = rng(SEED + (kind === 'api' ? 0 : 1));
    const rssBefore = s.rssMb();
    const socketsBefore = s.openSockets();
    let made = 0;
    const started = performance.now();
    const result = await fuzz(s.url, () => (made < COUNT && performance.now() - started < BUDGET_MS ? (made++, fuzzRequest(r, t)) : null), 4);
    const health = await fetch(`${s.url}/health`);
    const rssAfter = s.rssMb();
    console.log(`fuzz ${kind} (seed ${SEED}): ${result.sent} requests in ${(result.ms / 1000).toFixed(1)} s, ` +
      `${result.answered} answered, ${result.unanswered} unanswered (cut short or not HTTP), statuses ${JSON.stringify(result.byStatus)}; ` +
      `RSS ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MB`);
    expect(s.alive(), `the ${kind} server died (seed ${SEED}):\n${s.stderr()}`).toBe(true);
    expect(result.failures.slice(0, 15).join("\n"), `seed ${SEED}`).toBe("");
    expect(result.sent, `only ${result.sent} requests fit in the ${BUDGET_MS / 1000} s budget`).toBe(COUNT);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe('ok');
    // Every client has closed: so must every connection (one left open per CONNECT once held them forever).
    await expect.poll(() => s.openSockets(), { timeout: 30_000, interval: 200 }).toBeLessThanOrEqual(socketsBefore + 2);
  }, BUDGET_MS + 60_000);
});
