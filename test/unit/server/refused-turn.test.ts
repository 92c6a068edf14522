/**
 * A turn refused before it starts stores nothing: with the model's host unreachable (the real SmolVLM backend,
 * transformers.js fetching from a closed port), `POST /chat` is a 503 naming the host and MODEL_PATH, and
 * neither a new session nor a question in an existing one is left behind, however often it is retried.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadApiConfig } from '../../../src/server/config';
import { startApiServer, type RunningApi } from '../../../src/server/node';

const root = mkdtempSync(join(tmpdir(), 'glimpse-refused-'));
let api: RunningApi;
let host: string;

/** A port nothing listens on (bound, then closed): connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

beforeAll(async () => {
  host = `127.0.0.1:${await closedPort()}`;
  api = await startApiServer(loadApiConfig({ DATA_DIR: join(root, 'data'), PORT: '0', GLIMPSE_MODEL_HOST: `http://${host}` }), { log: () => undefined });
});

afterAll(async () => {
  await api?.close();
  rmSync(root, { recursive: true, force: true });
});

async function post(fields: Record<string, string>) {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  const res = await fetch(`${api.url}/chat`, { method: 'POST', body });
  return { res, body: (await res.json()) as { error: { message: string; type: string; code: string } } };
}

describe('REST API: the model cannot be fetched', () => {
  it('a new chat: 503 naming the host and MODEL_PATH, and no session is stored, retry after retry', async () => {
    for (let i = 0; i < 2; i++) {
      const { res, body } = await post({ message: 'Hello' });
      expect(res.status).toBe(503);
      expect(body.error.type).toBe('model_unavailable_error');
      expect(body.error.message).toContain(host);
      expect(body.error.message).toContain('MODEL_PATH');
    }
    expect(await api.store.list()).toEqual([]);
  }, 60_000);

  it('an existing chat: 503, and neither the question nor an empty answer is added to it', async () => {
    await api.store.create({ id: 'kept' });
    const { res } = await post({ message: 'Still there?', session_id: 'kept' });
    expect(res.status).toBe(503);
    expect(await api.store.messages('kept')).toEqual([]);
    const history = await (await fetch(`${api.url}/chat/history/kept`)).json() as { length: number };
    expect(history.length).toBe(0);
  }, 60_000);
});
