import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ChatService, DEFAULT_CHAT_SETTINGS, type ChatSettings } from '../../../src/chat/service';
import {
  EmptyMessageError,
  EngineError,
  GenerationAbortedError,
  ImageTooLargeError,
  InvalidSessionIdError,
  MessageTooLongError,
  SessionNotFoundError,
  UnsupportedImageError,
  VersionNotFoundError,
} from '../../../src/errors';
import { textOf } from '../../../src/chat/messages';
import { versionCount, versionIndex } from '../../../src/chat/versions';
import { REGENERATE_TEMPERATURE } from '../../../src/chat/sampling';
import { SessionStore } from '../../../src/storage/sessions';
import { EchoBackend } from '../../fixtures/echo-backend';
import { makeImage, pngHeaderClaiming, textBlob } from '../../fixtures/images';

let store: SessionStore;
let backend: EchoBackend;
let settings: ChatSettings;
let service: ChatService;

beforeEach(async () => {
  store = await SessionStore.open(`svc-${Math.random()}`);
  backend = new EchoBackend();
  settings = { ...DEFAULT_CHAT_SETTINGS, maxMessageChars: 1000 };
  service = new ChatService({ store, backend: () => backend, settings: () => settings, persistEveryMs: 0 });
});

async function snapshot() {
  const list = await store.list();
  const msgs = await Promise.all(list.map((s) => store.messages(s.id)));
  return JSON.stringify({ list, msgs });
}

describe('chat', () => {
  it('answers in the REST shape and creates a session when none is given', async () => {
    const image = await makeImage('jpeg', 40, 30);
    const res = await service.chat({ message: 'What is this?', image });
    expect(res).toMatchObject({
      message: 'What is this?',
      has_image: true,
      model_used: 'echo-model',
      conversation_length: 2,
    });
    expect(res.session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.response).toMatch(/^saw 1 messages; image [0-9a-f]{8} at 0; last: What is this\?$/);
  });

  it('follow-ups keep the image without re-uploading it', async () => {
    const first = await service.chat({ message: 'Describe it', image: await makeImage('png', 20, 20) });
    const second = await service.chat({ message: 'And the colours?', session_id: first.session_id });
    expect(second.has_image).toBe(true);
    const req = backend.requests[1]!;
    expect(req.image?.blob).toBeInstanceOf(Blob);
    expect(req.messages.map((m) => m.content.map((p) => p.type).join('+'))).toEqual(['image+text', 'text', 'text']);
    expect(second.conversation_length).toBe(4);
  });

  it('history mirrors GET /chat/history with ISO timestamps and content arrays', async () => {
    const { session_id } = await service.chat({ message: 'Hi' });
    const h = await service.history(session_id);
    expect(h.session_id).toBe(session_id);
    expect(h.length).toBe(2);
    expect(h.history[0]).toEqual({ role: 'user', content: [{ type: 'text', text: 'Hi' }], timestamp: expect.any(String) });
    expect(new Date(h.history[0]!.timestamp).toISOString()).toBe(h.history[0]!.timestamp);
    expect(h.history[1]!.role).toBe('assistant');
  });

  it('the model sees at most the window; the transcript keeps everything', async () => {
    settings = { ...settings, windowSize: 6 };
    const { session_id } = await service.chat({ message: 'q0', image: await makeImage('png', 8, 8) });
    for (let i = 1; i < 6; i++) await service.chat({ message: `q${i}`, session_id });
    const last = backend.requests[backend.requests.length - 1]!;
    // The last 6 messages would open on an answer (a2), so the window starts at the next question.
    expect(last.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user']);
    // The image's message left the window but the image did not leave the context.
    expect(last.image).not.toBeNull();
    expect(last.messages[0]!.content[0]).toEqual({ type: 'image' });
    expect((await service.history(session_id)).length).toBe(12);
    expect((await service.context(session_id)).windowStartSeq).toBe(6);
  });

  it('clear answers a confirmation and removes the image from context', async () => {
    const { session_id } = await service.chat({ message: 'look', image: await makeImage('png', 8, 8) });
    const res = await service.clear(session_id);
    expect(res).toMatchObject({ session_id, removed: 2, message: expect.stringMatching(/cleared/) });
    const next = await service.chat({ message: 'still there?', session_id });
    expect(next.has_image).toBe(false);
  });

  it('sessions lists them newest first', async () => {
    const a = await service.chat({ message: 'first chat' });
    const b = await service.chat({ message: 'second chat' });
    const { sessions, total } = await service.sessions();
    expect(total).toBe(2);
    expect(sessions.map((s) => s.id)).toEqual([b.session_id, a.session_id]);
  });
});

describe('bad input changes nothing', () => {
  const cases: [string, () => Promise<unknown>, new (...a: never[]) => Error][] = [
    ['empty message', () => service.chat({ message: '' }), EmptyMessageError],
    ['whitespace-only message', () => service.chat({ message: ' \n\t ' }), EmptyMessageError],
    ['zero-width spaces only', () => service.chat({ message: '\u200b\u200b\u200c\u200d\u2060\ufeff' }), EmptyMessageError],
    ['other invisible characters only', () => service.chat({ message: '\u00ad\u3164\u2800\u115f\u180e\u00a0' }), EmptyMessageError],
    ['too long message', () => service.chat({ message: 'x'.repeat(1001) }), MessageTooLongError],
    ['unknown session', () => service.chat({ message: 'hi', session_id: 'no-such-session' }), SessionNotFoundError],
    ['malformed session id', () => service.chat({ message: 'hi', session_id: '<script>' }), InvalidSessionIdError],
    ['history of unknown session', () => service.history('nope'), SessionNotFoundError],
    ['clear unknown session', () => service.clear('nope'), SessionNotFoundError],
    ['a text file as image', () => service.chat({ message: 'hi', image: textBlob('nope') }), UnsupportedImageError],
    ['a huge image', () => service.chat({ message: 'hi', image: pngHeaderClaiming(30000, 30000) }), ImageTooLargeError],
  ];
  it.each(cases)('%s', async (_name, call, cls) => {
    await service.chat({ message: 'existing' });
    const before = await snapshot();
    await expect(call()).rejects.toBeInstanceOf(cls);
    expect(await snapshot()).toBe(before);
    expect(backend.requests).toHaveLength(1);
  });

  it('a message with only an image is fine', async () => {
    const res = await service.chat({ message: '', image: await makeImage('png', 8, 8) });
    expect(res.has_image).toBe(true);
  });
});

describe('failures keep what the user had', () => {
  it('saves the user message before generating; a failure keeps it and the partial answer, marked', async () => {
    backend.failWith = new EngineError('The GPU gave up.');
    backend.failAfterTokens = 3;
    const { sessions } = await service.sessions();
    expect(sessions).toHaveLength(0);
    await expect(service.chat({ message: 'Will this fail?' })).rejects.toThrow(EngineError);
    const [s] = (await service.sessions()).sessions;
    const msgs = await store.messages(s!.id);
    expect(msgs.map((m) => [m.role, m.status])).toEqual([['user', 'complete'], ['assistant', 'error']]);
    expect(msgs[1]!.content).toEqual([{ type: 'text', text: 'saw 1 messages;' }]);
    expect(msgs[1]!.error).toEqual({ name: 'EngineError', message: 'The GPU gave up.' });
  });

  it('stop keeps the partial answer, marked stopped', async () => {
    const ctrl = new AbortController();
    backend.tokenDelayMs = 5;
    const p = service.chat({
      message: 'Tell me everything',
      signal: ctrl.signal,
      onToken: (e) => { if (e.tokens === 2) ctrl.abort(); },
    });
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenerationAbortedError);
    const [s] = (await service.sessions()).sessions;
    const msgs = await store.messages(s!.id);
    expect(msgs[1]).toMatchObject({ status: 'stopped', content: [{ type: 'text', text: 'saw 1' }] });
  });

  it('a turn left streaming by a closed page is shown as interrupted', async () => {
    const s = await store.create();
    await store.append(s.id, { role: 'user', content: [{ type: 'text', text: 'q' }], timestamp: new Date().toISOString() });
    await store.append(s.id, { role: 'assistant', content: [{ type: 'text', text: 'half an ans' }], timestamp: new Date().toISOString(), status: 'streaming' });
    const t = await service.transcript(s.id);
    expect(t[1]).toMatchObject({ status: 'interrupted', content: [{ type: 'text', text: 'half an ans' }] });
  });
});

describe('regenerate and edit', () => {
  it('regenerate replaces the last answer only', async () => {
    const { session_id } = await service.chat({ message: 'one' });
    await service.chat({ message: 'two', session_id });
    const res = await service.regenerate(session_id);
    expect(res.conversation_length).toBe(4);
    expect(backend.requests[2]!.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
  });

  it('regenerate at temperature 0 samples at a set temperature with a fresh seed, and the answer says so', async () => {
    const { session_id } = await service.chat({ message: 'one' });
    expect(backend.requests[0]!.settings).toMatchObject({ temperature: 0 });
    expect(backend.requests[0]!.settings.seed).toBeUndefined();
    await service.regenerate(session_id);
    await service.regenerate(session_id);
    const [r1, r2] = [backend.requests[1]!.settings, backend.requests[2]!.settings];
    expect(r1.temperature).toBe(REGENERATE_TEMPERATURE);
    expect(r2.temperature).toBe(REGENERATE_TEMPERATURE);
    expect(r1.seed).toEqual(expect.any(Number));
    expect(r2.seed).not.toBe(r1.seed);
    const [, answer] = await store.messages(session_id);
    expect(answer!.details).toMatchObject({ temperature: REGENERATE_TEMPERATURE, seed: r2.seed });
    // The greedy first answer carries no seed: it is the same every time.
    expect(answer!.versions![0]!.details?.seed).toBeUndefined();
  });

  it('regenerate keeps the chat temperature when it samples, and a fixed seed (determinism asked) as it is', async () => {
    settings = { ...settings, generation: { ...settings.generation, temperature: 1.2 } };
    const { session_id } = await service.chat({ message: 'one' });
    await service.regenerate(session_id);
    expect(backend.requests[1]!.settings).toMatchObject({ temperature: 1.2, seed: expect.any(Number) });
    settings = { ...settings, generation: { ...settings.generation, temperature: 0, seed: 5 } };
    await service.regenerate(session_id);
    expect(backend.requests[2]!.settings).toMatchObject({ temperature: 0, seed: 5 });
  });

  it('edit rewrites the last question and answers it again', async () => {
    const { session_id } = await service.chat({ message: 'wrong question', image: await makeImage('png', 8, 8) });
    const res = await service.editLast(session_id, 'right question');
    expect(res.response).toMatch(/last: right question$/);
    expect(res.has_image).toBe(true);
    const h = await service.history(session_id);
    expect(h.length).toBe(2);
    expect(h.history[0]!.content).toEqual([{ type: 'image' }, { type: 'text', text: 'right question' }]);
  });
});

describe('versions and branches', () => {
  const texts = async (id: string) => (await store.messages(id)).map((m) => textOf(m));

  it('regenerate keeps the earlier answer as a version; the model does not see it', async () => {
    const { session_id } = await service.chat({ message: 'one' });
    const first = (await store.messages(session_id))[1]!;
    await service.regenerate(session_id);
    const [, answer] = await store.messages(session_id);
    expect(answer!.id).not.toBe(first.id);
    expect(versionCount(answer!)).toBe(2);
    expect(versionIndex(answer!)).toBe(1);
    expect(answer!.versions![0]).toMatchObject({ content: first.content, status: 'complete', following: [] });
    expect(answer!.status).toBe('complete');
    // The model was asked the question alone, not shown the earlier answer.
    expect(backend.requests[1]!.messages.map((m) => m.role)).toEqual(['user']);
    expect((await service.history(session_id)).length).toBe(2);
  });

  it('editing an earlier question branches: what followed stays with the earlier version, and comes back', async () => {
    const a = await makeImage('png', 8, 8, 1);
    const b = await makeImage('png', 8, 8, 2);
    const { session_id } = await service.chat({ message: 'first', image: a });
    await service.chat({ message: 'second', session_id, image: b });
    const before = await texts(session_id);
    const [q1] = await store.messages(session_id);

    const res = await service.editMessage(session_id, q1!.id, 'first, edited');
    expect(res.response).toMatch(/last: first, edited$/);
    expect(await texts(session_id)).toEqual(['first, edited', res.response]);
    const edited = (await store.messages(session_id))[0]!;
    expect(edited).toMatchObject({ id: q1!.id, version: 1 });
    expect(edited.versions![0]!.following!.map((t) => textOf(t))).toEqual(before.slice(1));
    // The picture of the second question lives on in the branch; the first is in context again.
    expect((await store.require(session_id)).imageHash).toBe(q1!.imageHash);
    expect(await store.getImage((await store.messages(session_id))[0]!.branchImages![0]!)).toBeDefined();

    // Back to the first version: the whole earlier conversation returns; the edit keeps its own branch.
    await service.selectVersion(session_id, q1!.id, 0);
    expect(await texts(session_id)).toEqual(before);
    const back = (await store.messages(session_id))[0]!;
    expect(versionIndex(back)).toBe(0);
    expect(back.versions![0]!.following!.map((t) => textOf(t))).toEqual([res.response]);
    expect((await store.require(session_id)).imageHash).toBe((await store.messages(session_id))[2]!.imageHash);
    // And forward again.
    await service.selectVersion(session_id, q1!.id, 1);
    expect(await texts(session_id)).toEqual(['first, edited', res.response]);
    await expect(service.selectVersion(session_id, q1!.id, 5)).rejects.toThrow(VersionNotFoundError);
  });

  it('editing a question that is not the user’s, or not in the chat, is refused', async () => {
    const { session_id } = await service.chat({ message: 'one' });
    const [, answer] = await store.messages(session_id);
    await expect(service.editMessage(session_id, answer!.id, 'x')).rejects.toThrow(EmptyMessageError);
    await expect(service.editMessage(session_id, 'nope', 'x')).rejects.toThrow(EmptyMessageError);
  });
});
