/**
 * npx tsx test/bench/sessions-load.ts [--seconds 60] [--clients 32] [--sessions 16] [--delay 0] [--engine echo|openai] [--out FILE]
 *
 * The REST API under load, the echo backend answering (no model: this measures HTTP, the queue, the store and
 * the session lock, not generation): one instance on the file store against two instances (child processes)
 * on one PostgreSQL database (a throwaway cluster started here). `clients` loop for `seconds`, two or more
 * per session, each turn sent to the next instance round-robin; then every transcript is checked: each
 * question directly followed by its answer (none interleaved), and as many questions as were answered 200
 * (none lost). Loopback only.
 *
 * `--engine openai`: the instances run GLIMPSE_ENGINE=openai against a fake OpenAI-compatible inference server
 * in this process (test/fixtures/fake-inference-server.ts), which checks each payload and streams a fixed answer
 * ending in the question (one word per chunk; `--delay` ms between words): this adds the engine's HTTP client,
 * the SSE parsing and the upstream round trip to what is measured, still without a model.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startFakeInferenceServer, type FakeInferenceServer } from '../fixtures/fake-inference-server';
import { startCluster, stopCluster } from '../fixtures/postgres-cluster';
import { spawnServer, type ChildServer } from '../fixtures/servers/spawn';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    clients: { type: 'string', default: '32' },
    sessions: { type: 'string', default: '16' },
    delay: { type: 'string', default: '0' },
    engine: { type: 'string', default: 'echo' },
    out: { type: 'string' },
  },
});
const SECONDS = Number(values.seconds);
const CLIENTS = Number(values.clients);
const SESSIONS = Number(values.sessions);

interface RunResult {
  setup: string;
  instances: number;
  seconds: number;
  requests: number;
  ok: number;
  errors: Record<string, number>;
  requestsPerSec: number;
  p50ms: number;
  p99ms: number;
  sessions: number;
  lost: number;
  interleaved: number;
}

async function post(url: string, message: string, sessionId?: string): Promise<{ status: number; id?: string }> {
  const form = new FormData();
  form.set('message', message);
  if (sessionId) form.set('session_id', sessionId);
  const res = await fetch(`${url}/chat`, { method: 'POST', body: form });
  const body = (await res.json()) as { session_id?: string };
  return { status: res.status, ...(body.session_id ? { id: body.session_id } : {}) };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

async function load(setup: string, servers: ChildServer[]): Promise<RunResult> {
  const urls = servers.map((s) => s.url);
  const ids: string[] = [];
  for (let s = 0; s < SESSIONS; s++) ids.push((await post(urls[s % urls.length]!, `start ${s}`)).id!);
  const answered = new Map<string, number>(ids.map((id) => [id, 1]));
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const end = Date.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
    const id = ids[c % SESSIONS]!;
    for (let k = 0; Date.now() < end; k++) {
      const t0 = performance.now();
      try {
        const r = await post(urls[(c + k) % urls.length]!, `c${c} t${k}`, id);
        if (r.status === 200) {
          latencies.push(performance.now() - t0);
          answered.set(id, answered.get(id)! + 1);
        } else {
          errors[r.status] = (errors[r.status] ?? 0) + 1;
        }
      } catch (err) {
        const key = (err as Error).message;
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
  }));
  const elapsed = (performance.now() - started) / 1000;

  let lost = 0;
  let interleaved = 0;
  for (const id of ids) {
    const { history } = (await (await fetch(`${urls[0]}/chat/history/${id}`)).json()) as { history: { role: string; content: { type: string; text?: string }[] }[] };
    const text = (i: number) => history[i]?.content.map((p) => p.text ?? '').join('') ?? '';
    let questions = 0;
    for (let i = 0; i < history.length; i += 2) {
      questions += history[i]?.role === 'user' ? 1 : 0;
      const pair = history[i]?.role === 'user' && history[i + 1]?.role === 'assistant' && text(i + 1).endsWith(`last: ${text(i)}`);
      if (!pair) interleaved += 1;
    }
    lost += Math.max(0, answered.get(id)! - questions);
  }
  latencies.sort((x, y) => x - y);
  return {
    setup,
    instances: servers.length,
    seconds: Math.round(elapsed),
    requests: latencies.length + Object.values(errors).reduce((x, y) => x + y, 0),
    ok: latencies.length,
    errors,
    requestsPerSec: Math.round((latencies.length / elapsed) * 10) / 10,
    p50ms: Math.round(quantile(latencies, 0.5)),
    p99ms: Math.round(quantile(latencies, 0.99)),
    sessions: ids.length,
    lost,
    interleaved,
  };
}

/** The fake inference server and the settings that point the instances at it (`--engine openai`). */
async function openaiEngine(): Promise<{ fake: FakeInferenceServer; env: Record<string, string>; refused: () => number }> {
  const fake = await startFakeInferenceServer();
  fake.answer = 'A fixed answer from the fake inference server, streamed one word at a time.';
  if (Number(values.delay) > 0) {
    fake.defaultMode = 'slow';
    fake.slowMs = Number(values.delay);
  }
  // Count the payloads the fake refused, keeping only the last second's requests (a run sends thousands).
  let refused = 0;
  const tally = () => {
    refused += fake.requests.filter((r) => r.problems.length > 0).length;
    fake.requests.length = 0;
  };
  setInterval(tally, 1_000).unref();
  return { fake, refused: () => (tally(), refused), env: { GLIMPSE_ENGINE: 'openai', GLIMPSE_ENGINE_URL: fake.url, GLIMPSE_ENGINE_MODEL: 'HuggingFaceTB/SmolVLM-256M-Instruct' } };
}

async function main(): Promise<void> {
  if (values.engine !== 'echo' && values.engine !== 'openai') throw new Error('--engine is echo or openai');
  const upstream = values.engine === 'openai' ? await openaiEngine() : null;
  const env = { GLIMPSE_API_QUEUE: String(CLIENTS * 2), ECHO_TOKEN_DELAY_MS: values.delay,
    GLIMPSE_RATE_PER_CLIENT: '0', GLIMPSE_RATE_PER_SESSION: '0', ...upstream?.env };
  const results: RunResult[] = [];

  const file = await spawnServer('api', env);
  try {
    results.push(await load('files', [file]));
  } finally {
    await file.stop();
  }

  const runDir = mkdtempSync(join(tmpdir(), 'glimpse-bench-pg-'));
  try {
    const admin = new URL(await startCluster(runDir));
    const client = new pg.Client({ connectionString: admin.href });
    await client.connect();
    await client.query('CREATE DATABASE bench');
    await client.end();
    admin.pathname = '/bench';
    const servers: ChildServer[] = [];
    try {
      for (let i = 0; i < 2; i++) servers.push(await spawnServer('api', { ...env, DATABASE_URL: admin.href }));
      results.push(await load('PostgreSQL', servers));
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  } finally {
    stopCluster(runDir);
    rmSync(runDir, { recursive: true, force: true });
  }

  await upstream?.fake.close();
  const engine = upstream ? `GLIMPSE_ENGINE=openai against the fake inference server (${upstream.refused()} payloads refused)` : 'echo backend';
  console.log(`${CLIENTS} clients on ${SESSIONS} sessions, ${SECONDS} s each, ${engine} (token delay ${values.delay} ms)`);
  console.table(results.map((r) => ({ ...r, errors: JSON.stringify(r.errors) })));
  if (values.out) writeFileSync(values.out, `${JSON.stringify({ clients: CLIENTS, sessions: SESSIONS, engine: values.engine, results }, null, 2)}\n`);
}

await main();
