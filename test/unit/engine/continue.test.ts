import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION, type GenerationSettings } from '../../../src/chat/backend';
import { hashBlob } from '../../../src/chat/images';
import { makeContent, type ChatMessage } from '../../../src/chat/messages';
import type { VlmEngine } from '../../../src/engine/engine';
import { commonPrefixLength } from '../../../src/engine/prompt';
import type { GenerateInput } from '../../../src/engine/protocol';
import { CannotContinueError } from '../../../src/errors';
import { makeImage } from '../../fixtures/images';
import { FP32, loadTinyEngine } from '../../fixtures/engine';

/**
 * Continue on the real engine (tiny model, fp32, greedy): an answer cut at the token limit is extended from
 * the KV cache, no re-prefill and no vision encoder, and the whole answer equals one answer given twice the
 * tokens, and a fresh engine's continuation of the same text.
 */
const settings: GenerationSettings = { ...DEFAULT_GENERATION, maxNewTokens: 10, repetitionPenalty: 1.0, imageDetail: 'low' };
const user = (text: string, image = false): ChatMessage => ({ role: 'user', content: makeContent(text, image), timestamp: '' });
const assistant = (text: string): ChatMessage => ({ role: 'assistant', content: makeContent(text, false), timestamp: '' });
let picture: { blob: Blob; hash: string };
const loaded = (): Promise<VlmEngine> => loadTinyEngine(FP32);

function input(sessionId: string, messages: ChatMessage[], s: Partial<GenerationSettings> = {}, continueAnswer = false): GenerateInput {
  return { sessionId, messages, image: picture, settings: { ...settings, ...s }, ...(continueAnswer ? { continueAnswer } : {}) };
}

beforeAll(async () => {
  const blob = await makeImage('png', 300, 200, 1);
  picture = { blob, hash: await hashBlob(blob) };
});

describe('Continue on the engine', () => {
  it('extends a cut-off answer from the KV cache, equal to one answer given twice the tokens', async () => {
    const engine = await loaded();
    const question = [user('Describe this picture in detail.', true)];
    const first = await engine.generate(input('c', question));
    expect(first.stats.finishReason).toBe('length');
    expect(first.stats.tokens).toBe(10);
    const cachedIds = [...engine.cachedIdsFor('c')];

    const cont = input('c', [...question, assistant(first.text)], {}, true);
    const canonical = await engine.tokenize(cont);
    const streamed: string[] = [];
    const second = await engine.generate(cont, { onToken: (t) => streamed.push(t) });

    // The whole answer: what it had, then more of the same.
    expect(second.text.startsWith(first.text)).toBe(true);
    expect(second.text.length).toBeGreaterThan(first.text.length);
    expect(first.text + streamed.join('')).toBe(second.text);
    expect(second.stats.finishReason).toBe('length');
    // No re-prefill: the whole cache is kept (the picture too), only the last sampled token is fed.
    expect(second.stats.visionRan).toBe(false);
    expect(second.stats.promptTokens).toBe(cachedIds.length);
    expect(second.stats.cachedTokens).toBe(cachedIds.length - 1);
    // This answer has characters cut in two (the tiny model writes byte fragments): re-tokenizing its text
    // would have cut the cache before them, and given another answer.
    expect(commonPrefixLength(cachedIds, canonical)).toBeLessThan(cachedIds.length - 1);

    // As if it had been given 20 tokens at once (greedy, fp32).
    const once = await (await loaded()).generate(input('x', question, { maxNewTokens: 20 }), { noCache: true });
    expect(second.text).toBe(once.text);
    await engine.unload();
  });

  it('after a reload (no cache) it continues the stored text as a fresh start would, and the cache then holds it', async () => {
    const engine = await loaded();
    const question = [user('What colours are there?', true)];
    const first = await (await loaded()).generate(input('r', question), { noCache: true });
    const cont = input('r', [...question, assistant(first.text)], {}, true);
    const canonical = await engine.tokenize(cont);
    const second = await engine.generate(cont);
    expect(second.stats.promptTokens).toBe(canonical.length);
    expect(second.stats.cachedTokens).toBe(0);
    expect(second.stats.visionRan).toBe(true);
    expect(second.text.startsWith(first.text.replace(/\uFFFD+$/u, ''))).toBe(true);
    const fresh = await (await loaded()).generate(cont, { noCache: true });
    expect(second.text).toBe(fresh.text);
    // Continue again: now from this engine's cache, whole.
    const third = await engine.generate(input('r', [...question, assistant(second.text)], {}, true));
    expect(third.stats.cachedTokens).toBe(third.stats.promptTokens - 1);
    expect(third.text.startsWith(second.text.replace(/\uFFFD+$/u, ''))).toBe(true);
    await engine.unload();
  });

  it('renders the prompt open-ended: the answer text, no end of turn after it', async () => {
    const engine = await loaded();
    const question = [user('Hello there', false)];
    const ids = await engine.tokenize({ ...input('p', [...question, assistant('It is a cat')], {}, true), image: null });
    const closed = await engine.tokenize({ ...input('p', [...question, assistant('It is a cat'), user('More')]), image: null });
    const shared = commonPrefixLength(ids, closed);
    // The open prompt is a prefix of the closed conversation, up to the answer's text: the end of turn is not in it.
    expect(shared).toBe(ids.length);
    expect(closed.length).toBeGreaterThan(ids.length);
    await engine.unload();
  });

  it('a continuation that would have nothing to go on from is a named error, and the engine stays usable', async () => {
    const engine = await loaded();
    const noText = { ...input('e', [user('Hi'), assistant('')], {}, true), image: null };
    await expect(engine.generate(noText)).rejects.toBeInstanceOf(CannotContinueError);
    const endsWithQuestion = { ...input('e', [user('Hi')], {}, true), image: null };
    await expect(engine.generate(endsWithQuestion)).rejects.toBeInstanceOf(CannotContinueError);
    const ok = await engine.generate({ ...input('e', [user('Hi')]), image: null });
    expect(ok.text.length).toBeGreaterThan(0);
    await engine.unload();
  });
});
