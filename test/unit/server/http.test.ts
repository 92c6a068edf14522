/**
 * The REST API's HTTP rules over real sockets, with the echo backend (no model): forms as real clients send
 * them, bodies read as streams with bounds, refusals before the body, lingering so a client still uploading
 * gets its answer, answers held mid-generation (issue 15, items 4, 6 and 7).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatResponse, HistoryResponse, SessionsResponse } from '../../../src/chat/service';
import { loadApiConfig } from '../../../src/server/config';
import { startApiServer, type RunningApi } from '../../../src/server/node';
import { makeImage } from '../../fixtures/images';
import { rawRequest } from '../../fixtures/raw-http';
import { EchoServerBackend } from '../../fixtures/servers/echo-server-backend';

const root = mkdtempSync(join(tmpdir(), 'glimpse-http-'));
const UPLOAD_LIMIT = 256 * 1024;
let api: RunningApi;
let backend: EchoServerBackend;
let png: Uint8Array;

beforeAll(async () => {
  backend = new EchoServerBackend();
  const config = loadApiConfig({ DATA_DIR: join(root, 'data'), PORT: '0', GLIMPSE_MAX_UPLOAD_BYTES: String(UPLOAD_LIMIT), GLIMPSE_API_QUEUE: '0' });
  api = await startApiServer(config, { backend, log: () => undefined });
  png = new Uint8Array(await (await makeImage('png', 24, 16, 5)).arrayBuffer());
});
afterAll(async () => {
  await api?.close();
  rmSync(root, { recursive: true, force: true });
});

const host = () => new URL(api.url).host;
const BOUNDARY = '----glimpse-test-boundary';

/** A multipart body from raw part headers, so tests control every byte a client might send. */
function multipart(parts: { headers: string; body: string | Uint8Array }[]): Uint8Array {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${BOUNDARY}\r\n${p.headers}\r\n\r\n`, 'latin1'), Buffer.from(p.body), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

function head(length: number, type = `multipart/form-data; boundary=${BOUNDARY}`): string {
  return `POST /chat HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n\r\n`;
}

const post = (body: Uint8Array, type?: string) => rawRequest(api.url, head(body.length, type), { body, stopAtAnswer: true });

describe('valid forms that the old reader refused as "malformed or cut short"', () => {
  const message = { headers: 'Content-Disposition: form-data; name="message"', body: 'What is this?' };
  it.each([
    ['escaped quotes in the file name', 'form-data; name="image"; filename="my \\"best\\" photo.png"'],
    ['an RFC 5987 file name (filename*=)', "form-data; name=\"image\"; filename*=UTF-8''caf%C3%A9%20photo.png"],
    ['an unquoted name', 'form-data; name=image; filename=photo.png'],
    ['upper-case FORM-DATA', 'FORM-DATA; NAME="image"; FILENAME="photo.png"'],
  ])('%s', async (_what, disposition) => {
    const body = multipart([message, { headers: `Content-Disposition: ${disposition}\r\nContent-Type: image/png`, body: png }]);
    const answer = await post(body);
    expect(answer.status, answer.body).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ message: 'What is this?', has_image: true });
  });

  it('an unquoted name on the message field too', async () => {
    const answer = await post(multipart([{ headers: 'Content-Disposition: form-data; name=message', body: 'plain' }]));
    expect(answer.status, answer.body).toBe(200);
  });
});

describe('bounded bodies', () => {
  it('a body too large because of the message names the message, not the image', async () => {
    const body = multipart([{ headers: 'Content-Disposition: form-data; name="message"', body: 'x'.repeat(1024 * 1024) }]);
    const answer = await post(body);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { param: 'message', code: 'MessageTooLongError' } });
  });

  it('a body declared too large is refused unread, blaming no field it has not seen', async () => {
    const answer = await rawRequest(api.url, head(5 * 1024 * 1024), { stopAtAnswer: true, timeoutMs: 5_000 });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { param: null, code: 'RequestTooLargeError' } });
  });

  it('an over-long message is refused as soon as it passes the limit, before the rest of the body arrives', async () => {
    const start = multipart([{ headers: 'Content-Disposition: form-data; name="message"', body: 'y'.repeat(200_000) }]);
    // Declare a body far larger than what is sent, and never send the rest.
    const answer = await rawRequest(api.url, head(1_000_000), { body: start.subarray(0, 150_000), stopAtAnswer: true, timeoutMs: 5_000 });
    expect(answer.status, 'no answer before the body was complete').toBeGreaterThanOrEqual(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { param: 'message', code: 'MessageTooLongError' } });
  });

  it('a client that uploads before it reads still gets the 413, not a connection reset', async () => {
    const huge = new Uint8Array(8 * 1024 * 1024);
    const answer = await rawRequest(api.url, head(huge.length), { body: huge, readAfterUpload: true, stopAtAnswer: true, timeoutMs: 20_000 });
    expect(answer.error).toBeNull();
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'RequestTooLargeError' } });
  });
});

describe('one generation at a time, with the body read only when there is room', () => {
  it('a full queue is refused before the body is read', async () => {
    const hold = backend.holdNext();
    const first = fetch(`${api.url}/chat`, { method: 'POST', body: new URLSearchParams({ message: 'hold on' }) });
    await hold.entered;
    try {
      // GLIMPSE_API_QUEUE=0: one running, none may wait. Send the head and 1 KB of a 1 MB body, then wait.
      const answer = await rawRequest(api.url, head(1024 * 1024), { body: new Uint8Array(1024), stopAtAnswer: true, timeoutMs: 5_000 });
      expect(answer.status, 'no answer before the body was complete').toBe(503);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'QueueFullError' } });
      expect(Number(answer.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    } finally {
      hold.release();
    }
    expect((await first).status).toBe(200);
  });

  it('reading the history during an answer does not mark the live answer interrupted', async () => {
    const hold = backend.holdNext();
    const pending = fetch(`${api.url}/chat`, { method: 'POST', body: new URLSearchParams({ message: 'a long answer' }) });
    await hold.entered;
    const [session] = await api.store.list();
    const during = (await (await fetch(`${api.url}/chat/history/${session!.id}`)).json()) as HistoryResponse;
    expect(during.length).toBe(2);
    const stored = await api.store.messages(session!.id);
    expect(stored.map((m) => m.status)).toEqual(['complete', 'streaming']);
    hold.release();
    const done = (await (await pending).json()) as ChatResponse;
    expect(done.session_id).toBe(session!.id);
    expect((await api.store.messages(session!.id)).map((m) => m.status)).toEqual(['complete', 'complete']);
  });
});

describe('sessions: delete and pages', () => {
  const chat = async (message: string) =>
    (await (await fetch(`${api.url}/chat`, { method: 'POST', body: new URLSearchParams({ message }) })).json()) as ChatResponse;

  it('DELETE /chat/sessions/{id} removes the session; an unknown one is a 404', async () => {
    const { session_id } = await chat('to be deleted');
    const res = await fetch(`${api.url}/chat/sessions/${session_id}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ message: `Session ${session_id} deleted`, session_id, deleted: true });
    expect((await fetch(`${api.url}/chat/history/${session_id}`)).status).toBe(404);
    const again = await fetch(`${api.url}/chat/sessions/${session_id}`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('SessionNotFoundError');
    const get = await fetch(`${api.url}/chat/sessions/${session_id}`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('DELETE');
  });

  it('GET /chat/sessions pages with limit and offset, newest first', async () => {
    for (const m of ['page a', 'page b', 'page c']) await chat(m);
    const all = (await (await fetch(`${api.url}/chat/sessions`)).json()) as SessionsResponse & { limit: number; offset: number };
    expect(all.total).toBeGreaterThanOrEqual(3);
    expect(all).toMatchObject({ limit: 100, offset: 0 });
    const page = (await (await fetch(`${api.url}/chat/sessions?limit=2&offset=1`)).json()) as SessionsResponse & { next_offset: number | null };
    expect(page.sessions.map((s) => s.id)).toEqual(all.sessions.slice(1, 3).map((s) => s.id));
    expect(page).toMatchObject({ total: all.total, limit: 2, offset: 1, next_offset: all.total > 3 ? 3 : null });
    for (const bad of ['limit=0', 'limit=1001', 'limit=abc', 'offset=-1', 'offset=1.5']) {
      const res = await fetch(`${api.url}/chat/sessions?${bad}`);
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as { error: { param: string } }).error.param).toBe(bad.split('=')[0]);
    }
  });
});
