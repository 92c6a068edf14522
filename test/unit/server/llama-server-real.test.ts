/**
 * Optional: the flow of openai-llama.test.ts against a real llama.cpp `llama-server`, when
 * GLIMPSE_TEST_LLAMA_SERVER names its binary (skipped otherwise; CI need not have one). The models are those
 * /work/shared/llama-server/setup.sh writes (random weights at SmolVLM-256M's shapes, the real tokenizer,
 * template and idefics3 projector), in GLIMPSE_TEST_LLAMA_MODELS (default ${TMPDIR:-/tmp}/llama-peer/models):
 * text-f16.gguf and mmproj-f16-le512.gguf (512 longest edge, 2 frames, fast enough on 2 cores).
 *
 *   GLIMPSE_TEST_LLAMA_SERVER=/tmp/llama-peer/llama-src/build/bin/llama-server \
 *     npx vitest run --project unit test/unit/server/llama-server-real.test.ts
 *
 * It prints the figures the docs quote (prompt and cached tokens per turn, /health with the server stopped and gone).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadApiConfig } from '../../../src/server/config';
import { startApiServer, type RunningApi } from '../../../src/server/node';
import { makeImage } from '../../fixtures/images';
import { health, threeTurnImageChat } from '../../fixtures/llama-flow';
import { mkdtempSync, rmSync } from 'node:fs';

const BIN = process.env.GLIMPSE_TEST_LLAMA_SERVER ?? '';
const MODELS = process.env.GLIMPSE_TEST_LLAMA_MODELS ?? join(process.env.TMPDIR ?? '/tmp', 'llama-peer', 'models');
const MODEL = 'HuggingFaceTB/SmolVLM-256M-Instruct';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

describe.skipIf(!BIN)('a real llama-server behind GLIMPSE_ENGINE=openai', () => {
  const root = mkdtempSync(join(tmpdir(), 'glimpse-llama-real-'));
  let llama: ChildProcess;
  let api: RunningApi;
  let llamaUrl = '';
  let log = '';

  beforeAll(async () => {
    const port = await freePort();
    llamaUrl = `http://127.0.0.1:${port}`;
    llama = spawn(BIN, ['-m', join(MODELS, 'text-f16.gguf'), '--mmproj', join(MODELS, 'mmproj-f16-le512.gguf'), '-c', '4096',
      '-t', '2', '--host', '127.0.0.1', '--port', String(port), '--metrics'], { stdio: ['ignore', 'pipe', 'pipe'] });
    llama.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    llama.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    // Ready when its /health answers 200 (503 while it loads the model); a hook cannot use expect.poll.
    const deadline = Date.now() + 240_000;
    while ((await fetch(`${llamaUrl}/health`).catch(() => null))?.status !== 200) {
      if (llama.exitCode !== null || Date.now() > deadline) throw new Error(`llama-server did not start:\n${log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const config = loadApiConfig({ PORT: '0', DATA_DIR: join(root, 'data'), GLIMPSE_ENGINE: 'openai', GLIMPSE_ENGINE_URL: llamaUrl,
      GLIMPSE_ENGINE_MODEL: MODEL, GLIMPSE_MAX_NEW_TOKENS: '12', GLIMPSE_RATE_PER_CLIENT: '0', GLIMPSE_RATE_PER_SESSION: '0' });
    api = await startApiServer(config, { log: () => undefined, engineHooks: { health: { ttlMs: 100, timeoutMs: 1_000 } } });
  }, 300_000);

  afterAll(async () => {
    await api?.close();
    if (llama?.exitCode === null) llama.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('a 3-turn image chat: counts in the headers, each follow-up extends the server\'s prompt cache', async () => {
    const turns = await threeTurnImageChat(api.url, await makeImage('jpeg', 640, 488, 3));
    const figures = turns.map((t) => ({ status: t.status, prompt: t.promptTokens, cached: t.cachedTokens, vision: t.visionRan,
      model: t.body.model_used, starts: JSON.stringify(t.body.response?.slice(0, 12)) }));
    console.log(`llama-server, 3-turn image chat: ${JSON.stringify(figures)}`);
    expect(turns.map((t) => t.status)).toEqual([200, 200, 200]);
    for (const t of turns) {
      expect(t.body.model_used).toBe(MODEL);
      expect(t.body.response.startsWith(' ')).toBe(false);
      expect(t.promptTokens).toBeGreaterThan(0);
    }
    expect(turns.map((t) => t.visionRan)).toEqual(['true', 'false', 'false']);
    // The cache reaches past the whole previous prompt (its answer included), not only to the previous answer's start.
    expect(turns[1]!.cachedTokens!).toBeGreaterThan(turns[0]!.promptTokens!);
    expect(turns[2]!.cachedTokens!).toBeGreaterThan(turns[1]!.promptTokens!);
  }, 600_000);

  it('Continue: a cut answer goes on from the server\'s prompt cache, the whole answer stored', async () => {
    const form = new FormData();
    form.append('message', 'Tell me a long story about a lighthouse.');
    const first = await fetch(`${api.url}/chat`, { method: 'POST', body: form });
    const one = (await first.json()) as { response: string; session_id: string; finish_reason?: string };
    expect(first.status).toBe(200);
    expect(one.finish_reason).toBe('length'); // random weights: 12 tokens never end on their own
    const more = await fetch(`${api.url}/chat/sessions/${one.session_id}/continue`, { method: 'POST' });
    const two = (await more.json()) as { response: string; finish_reason?: string };
    const figures = { status: more.status, first: first.headers.get('x-glimpse-prompt-tokens'), prompt: more.headers.get('x-glimpse-prompt-tokens'),
      cached: more.headers.get('x-glimpse-cached-tokens'), cut: JSON.stringify(one.response), whole: JSON.stringify(two.response) };
    console.log(`llama-server, Continue: ${JSON.stringify(figures)}`);
    expect(more.status).toBe(200);
    expect(two.response.startsWith(one.response)).toBe(true);
    expect(two.response.length).toBeGreaterThan(one.response.length);
    // The server reused the question and the cut answer from its cache: more than the first prompt.
    expect(Number(more.headers.get('x-glimpse-cached-tokens'))).toBeGreaterThan(Number(first.headers.get('x-glimpse-prompt-tokens')));
  }, 300_000);

  it('/health: 200 while it answers, 503 while it is stopped (SIGSTOP) and after it is gone', async () => {
    const up = await health(api.url);
    expect(up).toMatchObject({ status: 200, body: { status: 'ok', model_state: 'ready' } });
    llama.kill('SIGSTOP');
    try {
      await expect.poll(() => health(api.url), { timeout: 10_000 }).toMatchObject({ status: 503, body: { status: 'unavailable' } });
      console.log(`llama-server stopped (SIGSTOP): /health ${JSON.stringify(await health(api.url))}`);
    } finally {
      llama.kill('SIGCONT');
    }
    await expect.poll(() => health(api.url), { timeout: 10_000 }).toMatchObject({ status: 200 });
    llama.kill('SIGTERM');
    await expect.poll(() => health(api.url), { timeout: 20_000 }).toMatchObject({ status: 503, body: { model_state: 'error' } });
    console.log(`llama-server gone: /health ${JSON.stringify(await health(api.url))}`);
  }, 120_000);
});
