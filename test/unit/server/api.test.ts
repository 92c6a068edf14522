/**
 * The headless REST API over real HTTP: the server on a free port, the generated tiny SmolVLM on
 * onnxruntime-node, sessions in a temp DATA_DIR. Driven with fetch + FormData, and once with curl itself.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatResponse, HistoryResponse, SessionsResponse } from '../../../src/chat/service';
import { loadApiConfig, type ApiConfig } from '../../../src/server/config';
import { startApiServer, type RunningApi } from '../../../src/server/node';
import { ensureTinyModel } from '../../fixtures/model/ensure';
import { makeImage } from '../../fixtures/images';

const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'glimpse-api-'));
const dataDir = join(root, 'data');
const UPLOAD_LIMIT = 256 * 1024;
const logs: string[] = [];

let modelRoot: string;
let config: ApiConfig;
let api: RunningApi;
let photo: Blob;

function configFor(dir: string, env: Record<string, string> = {}): ApiConfig {
  return loadApiConfig({
    MODEL_PATH: modelRoot,
    DATA_DIR: dir,
    PORT: '0',
    GLIMPSE_MAX_NEW_TOKENS: '8',
    GLIMPSE_MAX_UPLOAD_BYTES: String(UPLOAD_LIMIT),
    ...env,
  });
}

beforeAll(async () => {
  modelRoot = await ensureTinyModel();
  config = configFor(dataDir);
  api = await startApiServer(config, { log: (l) => logs.push(l) });
  photo = await makeImage('jpeg', 320, 240, 3);
});

afterAll(async () => {
  await api?.close();
  rmSync(root, { recursive: true, force: true });
});

function form(fields: Record<string, string | Blob | [Blob, string]>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) {
    if (Array.isArray(v)) f.append(k, v[0], v[1]);
    else if (v instanceof Blob) f.append(k, v, `${k}.bin`);
    else f.append(k, v);
  }
  return f;
}

async function postChat(fields: Record<string, string | Blob | [Blob, string]>, base = api.url) {
  const res = await fetch(`${base}/chat`, { method: 'POST', body: form(fields) });
  return { res, body: (await res.json()) as ChatResponse & ErrorJson };
}

interface ErrorJson {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const getJson = async <T>(path: string, init?: RequestInit): Promise<{ res: Response; body: T }> => {
  const res = await fetch(`${api.url}${path}`, init);
  return { res, body: (await res.json()) as T };
};

describe('REST API: the chat', () => {
  it('Alice: a second turn in the same session sees the first (from the KV cache)', async () => {
    const one = await postChat({ message: 'Hello, my name is Alice' });
    expect(one.res.status).toBe(200);
    // finish_reason: the tiny model never ends an answer itself, so each is cut at GLIMPSE_MAX_NEW_TOKENS.
    expect(Object.keys(one.body).sort()).toEqual(['conversation_length', 'finish_reason', 'has_image', 'message', 'model_used', 'response', 'session_id']);
    expect(one.body.finish_reason).toBe('length');
    expect(one.body).toMatchObject({
      message: 'Hello, my name is Alice',
      has_image: false,
      model_used: 'HuggingFaceTB/SmolVLM-256M-Instruct',
      conversation_length: 2,
    });
    expect(one.body.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(one.body.response.length).toBeGreaterThan(0);
    const firstPrompt = Number(one.res.headers.get('x-glimpse-prompt-tokens'));

    const two = await postChat({ session_id: one.body.session_id, message: 'What is my name?' });
    expect(two.res.status).toBe(200);
    expect(two.body).toMatchObject({ session_id: one.body.session_id, conversation_length: 4, has_image: false });
    // The first exchange is in the model's context: its prompt came from the cache, not recomputed.
    expect(Number(two.res.headers.get('x-glimpse-cached-tokens'))).toBeGreaterThanOrEqual(firstPrompt);
    expect(Number(two.res.headers.get('x-glimpse-prompt-tokens'))).toBeGreaterThan(firstPrompt);

    const { body: h } = await getJson<HistoryResponse>(`/chat/history/${one.body.session_id}`);
    expect(h.length).toBe(4);
    expect(h.history.map((m) => [m.role, m.content])).toEqual([
      ['user', [{ type: 'text', text: 'Hello, my name is Alice' }]],
      ['assistant', [{ type: 'text', text: one.body.response }]],
      ['user', [{ type: 'text', text: 'What is my name?' }]],
      ['assistant', [{ type: 'text', text: two.body.response }]],
    ]);
    for (const m of h.history) {
      expect(Object.keys(m).sort()).toEqual(m.role === 'user' ? ['content', 'role', 'timestamp'] : ['content', 'finish_reason', 'role', 'timestamp']);
    }
  });

  it('an image, then a follow-up without it: the image stays in context and the vision encoder does not run again', async () => {
    const t0 = performance.now();
    const first = await postChat({ message: 'What is in this picture?', image: [photo, 'photo.jpg'] });
    const firstMs = performance.now() - t0;
    expect(first.res.status).toBe(200);
    expect(first.body.has_image).toBe(true);
    expect(first.res.headers.get('x-glimpse-vision-ran')).toBe('true');
    const firstPrompt = Number(first.res.headers.get('x-glimpse-prompt-tokens'));

    const t1 = performance.now();
    const next = await postChat({ session_id: first.body.session_id, message: 'And the colours?' });
    const nextMs = performance.now() - t1;
    expect(next.res.status).toBe(200);
    expect(next.body).toMatchObject({ has_image: true, conversation_length: 4 });
    expect(next.res.headers.get('x-glimpse-vision-ran')).toBe('false');
    expect(Number(next.res.headers.get('x-glimpse-cached-tokens'))).toBeGreaterThanOrEqual(firstPrompt);

    const stored = await api.store.messages(first.body.session_id);
    expect(stored[0]!.content).toEqual([{ type: 'image' }, { type: 'text', text: 'What is in this picture?' }]);
    expect(stored[3]!.details).toMatchObject({ visionRan: false, backend: 'local-node', device: 'cpu' });
    // The upload is kept once, named by its SHA-256.
    const hash = createHash('sha256').update(new Uint8Array(await photo.arrayBuffer())).digest('hex');
    expect(existsSync(join(dataDir, 'images', hash))).toBe(true);
    console.log(`tiny model over HTTP: first turn with an image ${firstMs.toFixed(0)} ms ` +
      `(generation ${first.res.headers.get('x-glimpse-generation-ms')} ms), cached follow-up ${nextMs.toFixed(0)} ms ` +
      `(generation ${next.res.headers.get('x-glimpse-generation-ms')} ms)`);
  });

  it('a typed <image> with a photo attached is plain text: 200, the vision encoder runs, and the next turn works', async () => {
    // It used to become the model's image token: "tokens: 65, features 64", a 500, and a broken session.
    const another = await makeImage('png', 300, 200, 11); // a picture this server has not seen: the encoder runs
    const first = await postChat({ message: 'What does <image> mean?', image: [another, 'another.png'] });
    expect(first.res.status).toBe(200);
    expect(first.res.headers.get('x-glimpse-vision-ran')).toBe('true');
    const next = await postChat({ session_id: first.body.session_id, message: 'And <end_of_utterance>?' });
    expect(next.res.status).toBe(200);
    expect(next.res.headers.get('x-glimpse-vision-ran')).toBe('false');
    expect(next.body).toMatchObject({ has_image: true, conversation_length: 4 });
  });

  it('history, sessions and delete', async () => {
    const a = await postChat({ message: 'first chat' });
    const b = await postChat({ message: 'second chat' });
    const { res, body: list } = await getJson<SessionsResponse>('/chat/sessions');
    expect(res.status).toBe(200);
    expect(list.total).toBe(list.sessions.length);
    expect(list.sessions.slice(0, 2).map((s) => s.id)).toEqual([b.body.session_id, a.body.session_id]);
    expect(list.sessions[0]).toMatchObject({ title: 'second chat', message_count: 2, has_image: false });

    const del = await getJson<{ message: string; session_id: string; removed: number }>(`/chat/history/${a.body.session_id}`, { method: 'DELETE' });
    expect(del.res.status).toBe(200);
    expect(del.body).toEqual({
      message: `Conversation history cleared for session ${a.body.session_id}`,
      session_id: a.body.session_id,
      removed: 2,
    });
    const after = await getJson<HistoryResponse>(`/chat/history/${a.body.session_id}`);
    expect(after.body).toEqual({ session_id: a.body.session_id, history: [], length: 0 });
    const missing = await getJson<ErrorJson>('/chat/history/no-such-chat', { method: 'DELETE' });
    expect(missing.res.status).toBe(404);
    expect(missing.body.error.code).toBe('SessionNotFoundError');
  });

  it('health', async () => {
    const { res, body } = await getJson<Record<string, unknown>>('/health');
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', model_state: 'ready', device: 'cpu', queue: { running: 0, waiting: 0, max_waiting: 8 } });
  });

  it('the curl examples work as written', async (ctx) => {
    const curl = await run('which', ['curl']).then((r) => r.stdout.trim()).catch(() => '');
    if (!curl) ctx.skip();
    const photoPath = join(root, 'photo.jpg');
    writeFileSync(photoPath, new Uint8Array(await photo.arrayBuffer()));
    const sh = async (...args: string[]) => JSON.parse((await run(curl, ['-s', ...args], { cwd: root })).stdout) as Record<string, unknown>;
    const base = api.url.replace('127.0.0.1', 'localhost');

    const hello = await sh('-X', 'POST', `${base}/chat`, '-F', 'message=Hello, my name is Alice');
    expect(hello).toMatchObject({ message: 'Hello, my name is Alice', conversation_length: 2 });
    const sid = String(hello.session_id);
    const name = await sh('-X', 'POST', `${base}/chat`, '-F', `session_id=${sid}`, '-F', 'message=What is my name?');
    expect(name).toMatchObject({ session_id: sid, conversation_length: 4 });
    const pic = await sh('-X', 'POST', `${base}/chat`, '-F', 'message=What is in this picture?', '-F', 'image=@photo.jpg');
    expect(pic).toMatchObject({ has_image: true, conversation_length: 2 });
    expect(await sh(`${base}/chat/history/${sid}`)).toMatchObject({ session_id: sid, length: 4 });
    expect(((await sh(`${base}/chat/sessions`)).sessions as { id: string }[]).map((s) => s.id)).toContain(sid);
    expect(await sh('-X', 'DELETE', `${base}/chat/history/${sid}`)).toMatchObject({ session_id: sid, removed: 4 });
    expect(await sh(`${base}/health`)).toMatchObject({ status: 'ok' });
  });

  it('sessions survive a restart of the server (same DATA_DIR)', async () => {
    const one = await postChat({ message: 'Remember the harbour photo', image: [photo, 'photo.jpg'] });
    const before = await getJson<HistoryResponse>(`/chat/history/${one.body.session_id}`);
    await api.close();

    api = await startApiServer(config, { log: (l) => logs.push(l) });
    const after = await getJson<HistoryResponse>(`/chat/history/${one.body.session_id}`);
    expect(after.res.status).toBe(200);
    expect(after.body).toEqual(before.body);
    // The image in context came back too, and so did its features (DATA_DIR/features): a follow-up after the
    // restart has the picture without running the vision encoder again.
    const next = await postChat({ session_id: one.body.session_id, message: 'Still there?' });
    expect(next.body).toMatchObject({ has_image: true, conversation_length: 4 });
    expect(next.res.headers.get('x-glimpse-vision-ran')).toBe('false');
    const stored = await api.store.messages(one.body.session_id);
    expect(stored[3]!.details).toMatchObject({ visionRan: false, featuresReused: true });
  });
});

describe('REST API: one generation at a time', () => {
  it('queues requests in order, refuses one more with 503 + Retry-After, never interleaves', async () => {
    const dir = join(root, 'queue');
    const queueApi = await startApiServer(configFor(dir, { GLIMPSE_API_QUEUE: '2' }), { log: () => undefined });
    const backend = queueApi.backend;
    const spans: { text: string; start: number; end: number }[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const firstEntered = new Promise<void>((r) => (entered = r));
    const generate = backend.generate.bind(backend);
    backend.generate = async (req) => {
      const last = req.messages[req.messages.length - 1]!;
      const text = last.content.map((p) => (p.type === 'text' ? p.text : '')).join('');
      const start = performance.now();
      if (spans.length === 0) {
        entered();
        await gate; // hold the first generation until the queue is full
      }
      try {
        return await generate(req);
      } finally {
        spans.push({ text, start, end: performance.now() });
      }
    };
    try {
      const first = postChat({ message: 'request 0' }, queueApi.url);
      await firstEntered;
      const rest = [1, 2, 3].map((i) => postChat({ message: `request ${i}` }, queueApi.url));
      // With one running and two waiting, exactly one of the three is refused at once.
      const refused = await Promise.race(rest);
      expect(refused.res.status).toBe(503);
      expect(refused.body.error).toMatchObject({ type: 'overloaded_error', code: 'QueueFullError' });
      expect(Number(refused.res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await (await fetch(`${queueApi.url}/health`)).json()) as unknown).toMatchObject({ queue: { running: 1, waiting: 2 } });
      release();

      const all = await Promise.all([first, ...rest]);
      expect(all.map((r) => r.res.status).sort()).toEqual([200, 200, 200, 503]);
      // Generations ran one after another.
      spans.sort((a, b) => a.start - b.start);
      for (let i = 1; i < spans.length; i++) expect(spans[i]!.start).toBeGreaterThanOrEqual(spans[i - 1]!.end);
      expect(spans).toHaveLength(3);
      // In arrival order: the queued ones ran in the order their requests were admitted, after request 0.
      expect(spans[0]!.text).toBe('request 0');
      // Each answer is stored with its own question, nothing crossed over.
      for (const r of all.filter((x) => x.res.status === 200)) {
        const h = await queueApi.store.messages(r.body.session_id);
        expect(h.map((m) => [m.role, m.status])).toEqual([['user', 'complete'], ['assistant', 'complete']]);
        expect(h[0]!.content).toEqual([{ type: 'text', text: r.body.message }]);
      }
      // The refused request left nothing behind.
      expect((await queueApi.store.list()).length).toBe(3);
    } finally {
      await queueApi.close();
    }
  });
});

describe('REST API: a client that goes away', () => {
  it('stops its generation; the turn is kept, marked stopped; the next request is answered', async () => {
    const stopApi = await startApiServer(configFor(join(root, 'stop')), { log: () => undefined });
    const backend = stopApi.backend;
    const generate = backend.generate.bind(backend);
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let held = false;
    backend.generate = async (req) => {
      if (!held) {
        held = true;
        entered();
        await gate;
      }
      return generate(req);
    };
    try {
      const client = new AbortController();
      const pending = fetch(`${stopApi.url}/chat`, { method: 'POST', body: form({ message: 'never mind' }), signal: client.signal });
      await inside;
      client.abort();
      await expect(pending).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 50)); // the server sees the connection close
      release();
      // A condition, not a time: stopping waits for the engine's current step, seconds on a busy machine.
      await expect.poll(async () => {
        const [s] = await stopApi.store.list();
        return s ? (await stopApi.store.messages(s.id)).map((m) => m.status) : [];
      }, { timeout: 30_000 }).toEqual(['complete', 'stopped']);
      const next = await postChat({ message: 'still there?' }, stopApi.url);
      expect(next.res.status).toBe(200);
    } finally {
      await stopApi.close();
    }
  });

  it('gone in the middle of an answer: the engine stops within a few tokens, the partial text is kept, marked stopped', async () => {
    const MAX = 400; // the random tiny model always talks to the limit
    const stopApi = await startApiServer(configFor(join(root, 'stop-mid'), { GLIMPSE_MAX_NEW_TOKENS: String(MAX) }), { log: () => undefined });
    const backend = stopApi.backend;
    const generate = backend.generate.bind(backend);
    const client = new AbortController();
    let atAbort = -1;
    let last = 0;
    backend.generate = (req) => generate({
      ...req,
      onToken: (e) => {
        req.onToken?.(e);
        last = e.tokens;
        if (atAbort < 0 && e.tokens >= 3) {
          atAbort = e.tokens;
          client.abort(); // the client hangs up after the first tokens
        }
      },
    });
    try {
      const pending = fetch(`${stopApi.url}/chat`, { method: 'POST', body: form({ message: 'a long story' }), signal: client.signal });
      await expect(pending).rejects.toThrow();
      const stored = async () => {
        const [s] = await stopApi.store.list();
        return s ? await stopApi.store.messages(s.id) : [];
      };
      await expect.poll(async () => (await stored()).map((m) => m.status), { timeout: 60_000 }).toEqual(['complete', 'stopped']);
      const reply = (await stored())[1]!;
      expect(reply.content.map((p) => (p.type === 'text' ? p.text : '')).join('').length).toBeGreaterThan(0);
      // The closed connection is seen between two tokens, not after the answer's 400.
      expect(atAbort).toBeGreaterThanOrEqual(3);
      expect(last).toBeLessThanOrEqual(atAbort + 3);
      const next = await postChat({ message: 'still there?' }, stopApi.url);
      expect(next.res.status).toBe(200);
    } finally {
      await stopApi.close();
    }
  });
});

describe('REST API: bad input is a 4xx naming the problem', () => {
  const pdf = new Blob(['%PDF-1.4\n1 0 obj\n'], { type: 'application/pdf' });
  const textAsPng = new Blob(['just some text, not a picture'], { type: 'image/png' });

  it.each([
    ['no message', { image: 'PHOTO' }, 400, 'message', 'MissingFieldError'],
    ['an empty message', { message: '   ' }, 400, 'message', 'EmptyMessageError'],
    ['a message too long', { message: 'x'.repeat(8_001) }, 400, 'message', 'MessageTooLongError'],
    ['message sent as a file', { message: new Blob(['hi']) }, 400, 'message', 'InvalidFieldError'],
    ['a PDF as the image', { message: 'hi', image: [pdf, 'doc.pdf'] }, 415, 'image', 'UnsupportedImageError'],
    ['a text file named .png', { message: 'hi', image: [textAsPng, 'photo.png'] }, 415, 'image', 'UnsupportedImageError'],
    ['image sent as text', { message: 'hi', image: 'photo.jpg' }, 400, 'image', 'InvalidFieldError'],
    ['an unknown session', { message: 'hi', session_id: 'no-such-chat' }, 404, 'session_id', 'SessionNotFoundError'],
    ['a malformed session id', { message: 'hi', session_id: '../../etc/passwd' }, 400, 'session_id', 'InvalidSessionIdError'],
  ] as const)('%s', async (_what, fields, status, param, code) => {
    const before = (await api.store.list()).length;
    // The table is built before beforeAll made the photo: 'PHOTO' stands for it.
    const sent = Object.fromEntries(
      Object.entries(fields).map(([k, v]) => [k, v === 'PHOTO' ? ([photo, 'photo.jpg'] as [Blob, string]) : v]),
    ) as Record<string, string | Blob | [Blob, string]>;
    const { res, body } = await postChat(sent);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(body.error).toMatchObject({ param, code, type: status === 404 ? 'not_found_error' : 'invalid_request_error' });
    expect(body.error.message.length).toBeGreaterThan(10);
    expect((await api.store.list()).length).toBe(before); // nothing was stored
  });

  it('a text file named .png says what it is', async () => {
    const { body } = await postChat({ message: 'hi', image: [textAsPng, 'photo.png'] });
    expect(body.error.message).toMatch(/labelled image\/png, but its contents are not/);
  });

  it('a damaged image (good header, no pixels) is a 422 and nothing is stored', async () => {
    const good = new Uint8Array(await (await makeImage('png', 64, 64, 9)).arrayBuffer());
    const cut = new Blob([good.slice(0, 60)], { type: 'image/png' });
    const before = (await api.store.list()).length;
    const { res, body } = await postChat({ message: 'hi', image: [cut, 'cut.png'] });
    expect(res.status).toBe(422);
    expect(body.error).toMatchObject({ param: 'image', code: 'ImageUnreadableError' });
    expect((await api.store.list()).length).toBe(before);
  });

  it('two images in one message', async () => {
    const f = form({ message: 'hi', image: [photo, 'a.jpg'] });
    f.append('image', photo, 'b.jpg');
    const res = await fetch(`${api.url}/chat`, { method: 'POST', body: f });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorJson).error).toMatchObject({ param: 'image', code: 'InvalidFieldError' });
  });

  it('an image over the upload limit is a 413', async () => {
    const big = new Blob([new Uint8Array(await photo.arrayBuffer()), new Uint8Array(UPLOAD_LIMIT)], { type: 'image/jpeg' });
    const { res, body } = await postChat({ message: 'hi', image: [big, 'big.jpg'] });
    expect(res.status).toBe(413);
    expect(body.error).toMatchObject({ param: 'image', code: 'ImageTooLargeError' });
  });

  it('a request body over the limit is refused before it is read (413)', async () => {
    const huge = new Blob([new Uint8Array(UPLOAD_LIMIT + 2 * 1024 * 1024)], { type: 'image/jpeg' });
    const { res, body } = await postChat({ message: 'hi', image: [huge, 'huge.jpg'] });
    expect(res.status).toBe(413);
    // Refused on its declared length, unread: no field is blamed (it may as well be the message).
    expect(body.error).toMatchObject({ param: null, code: 'RequestTooLargeError' });
    expect(body.error.message).toMatch(/larger than/);
  });

  it('a body that is not a form (JSON) is a 415; a malformed multipart body is a 400', async () => {
    const asJson = await fetch(`${api.url}/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"message":"hi"}' });
    expect(asJson.status).toBe(415);
    expect(((await asJson.json()) as ErrorJson).error.code).toBe('UnsupportedMediaTypeError');
    const broken = await fetch(`${api.url}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="message"\r\n\r\nhi',
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as ErrorJson).error.code).toBe('MalformedFormError');
  });

  it('a urlencoded form works too', async () => {
    const res = await fetch(`${api.url}/chat`, { method: 'POST', body: new URLSearchParams({ message: 'plain form' }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as ChatResponse).message).toBe('plain form');
  });

  it('wrong method, unknown route, bad ids in the path', async () => {
    const get = await fetch(`${api.url}/chat`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(((await get.json()) as ErrorJson).error.code).toBe('MethodNotAllowedError');
    const put = await fetch(`${api.url}/chat/sessions`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET');
    const post = await fetch(`${api.url}/chat/history/abc`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, DELETE');

    const nowhere = await fetch(`${api.url}/v2/chat`);
    expect(nowhere.status).toBe(404);
    expect(((await nowhere.json()) as ErrorJson).error).toMatchObject({ code: 'RouteNotFoundError', type: 'not_found_error' });

    const unknown = await fetch(`${api.url}/chat/history/no-such-chat`);
    expect(unknown.status).toBe(404);
    const malformed = await fetch(`${api.url}/chat/history/${encodeURIComponent('a b')}`);
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as ErrorJson).error).toMatchObject({ code: 'InvalidSessionIdError', param: 'session_id' });
    const badEscape = await fetch(`${api.url}/chat/history/%E0%A4%A`);
    expect(badEscape.status).toBe(400);
  });

  it('web pages cannot call it: a foreign Origin or Host is a 403', async () => {
    const origin = await fetch(`${api.url}/chat/sessions`, { headers: { origin: 'https://evil.example' } });
    expect(origin.status).toBe(403);
    expect(((await origin.json()) as ErrorJson).error.code).toBe('OriginNotAllowedError');
    const curl = await run('which', ['curl']).then((r) => r.stdout.trim()).catch(() => '');
    if (curl) {
      // fetch cannot set Host; curl can (a DNS-rebinding page would arrive with its own host name).
      const out = await run(curl, ['-s', '-H', `Host: evil.example`, `${api.url}/chat/sessions`]);
      expect((JSON.parse(out.stdout) as ErrorJson).error.code).toBe('HostNotAllowedError');
    }
  });

  it('logs one line per request, without bodies', () => {
    expect(logs.some((l) => / POST \/chat 200 \d+ms$/.test(l))).toBe(true);
    expect(logs.some((l) => / GET \/chat\/sessions 200 \d+ms$/.test(l))).toBe(true);
    expect(logs.join('\n')).not.toContain('Hello, my name is Alice');
  });

  it('the data folder holds one JSON file per session and no temp files', () => {
    const names = readdirSync(join(dataDir, 'sessions'));
    expect(names.length).toBeGreaterThan(3);
    expect(names.every((n) => /^[0-9a-f-]{36}\.json$/.test(n))).toBe(true);
  });
});
