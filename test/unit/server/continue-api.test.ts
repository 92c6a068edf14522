/**
 * POST /chat/sessions/{id}/continue over real HTTP: the server on a free port, the tiny SmolVLM on
 * onnxruntime-node. A cut answer says so (finish_reason, in the answer and the history); Continue grows the
 * same stored answer from the KV cache; what cannot be continued is a 409 that changes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatAnswerSchema, HistorySchema } from '../../../src/server/openapi';
import type { ChatResponse, HistoryResponse } from '../../../src/chat/service';
import { loadApiConfig } from '../../../src/server/config';
import { startApiServer, type RunningApi } from '../../../src/server/node';
import { makeImage } from '../../fixtures/images';
import { ensureTinyModel } from '../../fixtures/model/ensure';

const root = mkdtempSync(join(tmpdir(), 'glimpse-continue-'));
let api: RunningApi;

beforeAll(async () => {
  const config = loadApiConfig({ MODEL_PATH: await ensureTinyModel(), DATA_DIR: join(root, 'data'), PORT: '0', GLIMPSE_MAX_NEW_TOKENS: '6' });
  api = await startApiServer(config, { log: () => undefined });
});
afterAll(async () => {
  await api?.close();
  rmSync(root, { recursive: true, force: true });
});

async function post(path: string, body?: FormData) {
  const res = await fetch(`${api.url}${path}`, { method: 'POST', ...(body ? { body } : {}) });
  return { res, body: (await res.json()) as ChatResponse & { error: { code: string; type: string; param: string | null } } };
}
const history = async (id: string) => (await (await fetch(`${api.url}/chat/history/${id}`)).json()) as HistoryResponse;

describe('REST API: Continue', () => {
  it('a cut answer says so, and Continue grows the same answer from the KV cache', async () => {
    const f = new FormData();
    f.append('message', 'Describe this.');
    f.append('image', await makeImage('jpeg', 320, 240, 2), 'p.jpg');
    const first = await post('/chat', f);
    expect(first.res.status).toBe(200);
    expect(first.body.finish_reason).toBe('length');
    const id = first.body.session_id;
    expect((await history(id)).history[1]).toMatchObject({ role: 'assistant', finish_reason: 'length' });

    const more = await post(`/chat/sessions/${id}/continue`);
    expect(more.res.status).toBe(200);
    expect(more.body).toMatchObject({ session_id: id, message: 'Describe this.', has_image: true, conversation_length: 2, finish_reason: 'length' });
    expect(more.body.response.startsWith(first.body.response.replace(/\uFFFD+$/u, ''))).toBe(true);
    expect(more.body.response.length).toBeGreaterThan(first.body.response.length);
    expect(more.res.headers.get('x-glimpse-vision-ran')).toBe('false');
    const prompt = Number(more.res.headers.get('x-glimpse-prompt-tokens'));
    expect(Number(more.res.headers.get('x-glimpse-cached-tokens'))).toBe(prompt - 1);
    const h = await history(id);
    // As documented in /openapi.json (the schemas it is generated from).
    expect(v.safeParse(ChatAnswerSchema, more.body).success).toBe(true);
    expect(v.safeParse(HistorySchema, h).success).toBe(true);
    expect(h.length).toBe(2);
    expect(h.history[1]!.content).toEqual([{ type: 'text', text: more.body.response }]);
  });

  it('an unknown session, a bad id, a wrong method, an empty chat: named errors, nothing changed', async () => {
    const f = new FormData();
    f.append('message', 'Hi');
    const first = await post('/chat', f);
    const id = first.body.session_id;
    await post(`/chat/sessions/${id}/continue`);
    const before = JSON.stringify(await history(id));

    const missing = await post('/chat/sessions/no-such-session/continue');
    expect(missing.res.status).toBe(404);
    expect(missing.body.error.code).toBe('SessionNotFoundError');
    const bad = await post('/chat/sessions/bad%20id/continue');
    expect(bad.res.status).toBe(400);
    expect(bad.body.error.code).toBe('InvalidSessionIdError');
    const get = await fetch(`${api.url}/chat/sessions/${id}/continue`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toContain('POST');

    const empty = await post('/chat', (() => { const g = new FormData(); g.append('message', 'x'); return g; })());
    // A chat whose last message is a question (its answer failed before any text) has nothing to continue:
    // made here by clearing the history and continuing the empty session.
    await fetch(`${api.url}/chat/history/${empty.body.session_id}`, { method: 'DELETE' });
    const nothing = await post(`/chat/sessions/${empty.body.session_id}/continue`);
    expect(nothing.res.status).toBe(409);
    expect(nothing.body.error).toMatchObject({ code: 'CannotContinueError', type: 'conflict_error', param: 'session_id' });
    expect(JSON.stringify(await history(id))).toBe(before);
  });
});
