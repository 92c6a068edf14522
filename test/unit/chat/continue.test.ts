/**
 * Continue through the chat service, the IndexedDB store (fake-indexeddb) and the engine on the tiny model:
 * an answer cut at the token limit is marked, Continue grows the same message from the KV cache, and what it
 * refuses it names without changing the chat.
 */
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canContinue, continuationPrefix, continueSettings } from '../../../src/chat/continue';
import { isCutOff, textOf, toHistoryMessage } from '../../../src/chat/messages';
import { ChatService, DEFAULT_CHAT_SETTINGS, type ChatSettings } from '../../../src/chat/service';
import type { VlmEngine } from '../../../src/engine/engine';
import { CannotContinueError, GenerationAbortedError } from '../../../src/errors';
import { NodeBackend } from '../../../src/server/backend';
import { SessionStore } from '../../../src/storage/sessions';
import { EchoBackend } from '../../fixtures/echo-backend';
import { loadTinyEngine } from '../../fixtures/engine';
import { makeImage } from '../../fixtures/images';
import { ensureTinyModel, MODEL_ID } from '../../fixtures/model/ensure';

const settings: ChatSettings = {
  ...DEFAULT_CHAT_SETTINGS,
  generation: { ...DEFAULT_CHAT_SETTINGS.generation, model: MODEL_ID, maxNewTokens: 8, repetitionPenalty: 1, imageDetail: 'low' },
};

let engine: VlmEngine;
let backend: NodeBackend;
let store: SessionStore;
let chat: ChatService;

beforeAll(async () => {
  engine = await loadTinyEngine();
  backend = new NodeBackend({ model: MODEL_ID, source: { kind: 'local', localModelPath: await ensureTinyModel() }, engine });
  store = await SessionStore.open(`continue-${Math.random()}`);
  chat = new ChatService({ store, backend: () => backend, settings: () => settings, features: store, persistEveryMs: 0 });
});
afterAll(async () => {
  await engine.unload();
  store.close();
});

describe('Continue through the chat service', () => {
  it('marks an answer cut at the token limit and grows the same message from the KV cache', async () => {
    const first = await chat.chat({ message: 'Describe the picture.', image: await makeImage('png', 320, 240, 4) });
    const id = first.session_id;
    const [, cut] = await store.messages(id);
    expect(cut!.details).toMatchObject({ finishReason: 'length', tokens: 8 });
    expect(chat.canContinue(cut!)).toBe(true);
    expect(first.finish_reason).toBe('length');

    const streamed: string[] = [];
    const saved: string[] = [];
    const res = await chat.continueAnswer(id, {
      onToken: (e) => streamed.push(e.full),
      onSaved: (s) => saved.push(s.assistantMessage.id),
    });
    const after = await store.messages(id);
    expect(after).toHaveLength(2); // the same message grew: no new turn, no new version
    const grown = after[1]!;
    expect(grown.id).toBe(cut!.id);
    expect(saved).toEqual([cut!.id]);
    expect(grown.versions).toBeUndefined();
    expect(textOf(grown).startsWith(continuationPrefix(textOf(cut!)))).toBe(true);
    expect(textOf(grown).length).toBeGreaterThan(textOf(cut!).length);
    expect(res.response).toBe(textOf(grown));
    expect(streamed.at(-1)).toBe(textOf(grown));
    expect(streamed[0]!.startsWith(continuationPrefix(textOf(cut!)))).toBe(true);
    expect(grown.status).toBe('complete');
    expect(grown.details).toMatchObject({ tokens: 16, continued: 1, finishReason: 'length', visionRan: false });
    // From the KV cache: the prompt's tokens all kept but the last sampled one.
    expect(grown.details!.cachedTokens).toBe(grown.details!.promptTokens! - 1);

    // A follow-up after it reads the whole answer; the picture stays in the cache.
    await chat.chat({ message: 'And then?', session_id: id });
    const next = (await store.messages(id))[3]!;
    expect(next.details).toMatchObject({ visionRan: false });
    expect(next.details!.cachedTokens).toBeGreaterThan(64);
  });

  it('Stop during Continue keeps the grown text, marked stopped, and it can be continued again', async () => {
    const first = await chat.chat({ message: 'Tell me a story.' });
    const ctrl = new AbortController();
    await expect(chat.continueAnswer(first.session_id, {
      signal: ctrl.signal,
      onToken: (e) => { if (e.tokens >= 2) ctrl.abort(); },
    })).rejects.toBeInstanceOf(GenerationAbortedError);
    const [, stopped] = await store.messages(first.session_id);
    expect(stopped!.status).toBe('stopped');
    expect(textOf(stopped!).length).toBeGreaterThan(first.response.length);
    expect(chat.canContinue(stopped!)).toBe(true);
    await chat.continueAnswer(first.session_id);
    expect((await store.messages(first.session_id))[1]!.status).toBe('complete');
  });

  it('refuses what it cannot continue with a named error and changes nothing', async () => {
    const s = await chat.chat({ message: 'Hello' });
    await chat.chat({ message: 'Again', session_id: s.session_id });
    const before = JSON.stringify(await store.messages(s.session_id));
    // The last answer is whole: the model ended it (marked by hand here: the tiny model never does).
    const last = (await store.messages(s.session_id)).at(-1)!;
    await store.update({ ...last, details: { ...last.details!, finishReason: 'stop' } });
    const marked = JSON.stringify(await store.messages(s.session_id));
    expect(marked).not.toBe(before);
    await expect(chat.continueAnswer(s.session_id)).rejects.toBeInstanceOf(CannotContinueError);
    await expect(chat.continueAnswer(s.session_id)).rejects.toThrow(/was not cut off/);
    // The refusals wrote nothing: the answer is not marked streaming, nor changed in any way.
    expect(JSON.stringify(await store.messages(s.session_id))).toBe(marked);

    // A backend that cannot extend an answer (OpenAI's API): refused before anything is written.
    const echo = new EchoBackend();
    const remote = new ChatService({ store, backend: () => echo, settings: () => settings, persistEveryMs: 0 });
    const r = await chat.chat({ message: 'Once more' });
    expect(remote.canContinue((await store.messages(r.session_id))[1]!)).toBe(false);
    const kept = JSON.stringify(await store.messages(r.session_id));
    await expect(remote.continueAnswer(r.session_id)).rejects.toThrow(/cannot continue/);
    expect(JSON.stringify(await store.messages(r.session_id))).toBe(kept);
    expect(echo.requests).toHaveLength(0);
  });
});

describe('the rules', () => {
  const answer = (text: string, over: object = {}) => ({
    role: 'assistant' as const, content: [{ type: 'text' as const, text }], status: 'complete' as const,
    details: { model: 'm', backend: 'b', finishReason: 'length' as const }, ...over,
  });
  it('continues cut-off and stopped answers with text, nothing else', () => {
    expect(canContinue(answer('Once upon'))).toBe(true);
    expect(canContinue(answer('Once upon', { status: 'stopped', details: { model: 'm', backend: 'b' } }))).toBe(true);
    expect(canContinue(answer('The end.', { details: { model: 'm', backend: 'b', finishReason: 'stop' } }))).toBe(false);
    expect(canContinue(answer('Older answer', { details: { model: 'm', backend: 'b' } }))).toBe(false);
    expect(canContinue(answer(''))).toBe(false);
    expect(canContinue(answer('\uFFFD'))).toBe(false);
    expect(canContinue(answer('Half', { status: 'error' }))).toBe(false);
    expect(canContinue({ ...answer('Question'), role: 'user' })).toBe(false);
  });
  it('says "cut off" only of an answer that ended whole at the limit: in the history too, not of one stopped during Continue', () => {
    const stored = (over: object) => ({ ...answer('Once upon', over), id: 'm', sessionId: 's', seq: 1, timestamp: '2026-12-08T00:00:00.000Z' });
    expect(isCutOff(answer('Once upon'))).toBe(true);
    expect(toHistoryMessage(stored({})).finish_reason).toBe('length');
    // Stopped while Continue went on: its details still say how the part before ended; the answer is stopped.
    expect(isCutOff(answer('Once upon', { status: 'stopped' }))).toBe(false);
    expect(toHistoryMessage(stored({ status: 'stopped' }))).toMatchObject({ status: 'stopped' });
    expect(toHistoryMessage(stored({ status: 'stopped' })).finish_reason).toBeUndefined();
    expect(isCutOff({ ...answer('Question'), role: 'user' })).toBe(false);
  });
  it('leaves a character the cut split in two out of the text it goes on from', () => {
    expect(continuationPrefix('Café \uFFFD')).toBe('Café ');
    expect(continuationPrefix('a\uFFFDb')).toBe('a\uFFFDb');
  });
  it('samples a regenerated answer on at its temperature with a fresh seed; a greedy one stays greedy', () => {
    const g = settings.generation;
    expect(continueSettings(g, { model: 'm', backend: 'b' }, () => 5)).toEqual(g);
    expect(continueSettings(g, { model: 'm', backend: 'b', temperature: 0.7, seed: 1 }, () => 5)).toMatchObject({ temperature: 0.7, seed: 5 });
    expect(continueSettings({ ...g, seed: 9 }, { model: 'm', backend: 'b', temperature: 0.7 }, () => 5)).toMatchObject({ seed: 9 });
  });
});
