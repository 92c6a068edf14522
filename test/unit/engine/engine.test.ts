import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION, type GenerationSettings } from '../../../src/chat/backend';
import { makeContent, type ChatMessage } from '../../../src/chat/messages';
import { VlmEngine } from '../../../src/engine/engine';
import type { GenerateInput } from '../../../src/engine/protocol';
import { GenerationAbortedError, ImageUnreadableError, ModelFilesMissingError, PromptTooLongError, UnknownModelError } from '../../../src/errors';
import { hashBlob } from '../../../src/chat/images';
import { ensureTinyModel, MODEL_ID } from '../../fixtures/model/ensure';
import { makeImage } from '../../fixtures/images';
import { pictureFed } from '../../fixtures/cache-script';

const settings: GenerationSettings = { ...DEFAULT_GENERATION, maxNewTokens: 12, repetitionPenalty: 1.0, imageDetail: 'low' };
const user = (text: string, image = false): ChatMessage => ({ role: 'user', content: makeContent(text, image), timestamp: '' });
const assistant = (text: string): ChatMessage => ({ role: 'assistant', content: makeContent(text, false), timestamp: '' });

let engine: VlmEngine;
let root: string;
let imageA: { blob: Blob; hash: string };
let imageB: { blob: Blob; hash: string };

beforeAll(async () => {
  root = await ensureTinyModel();
  engine = new VlmEngine();
  await engine.load({
    model: MODEL_ID,
    device: 'cpu',
    dtypes: { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'fp32' },
    source: { kind: 'local', localModelPath: root },
  });
  const a = await makeImage('png', 300, 200, 1);
  const b = await makeImage('jpeg', 200, 300, 5);
  imageA = { blob: a, hash: await hashBlob(a) };
  imageB = { blob: b, hash: await hashBlob(b) };
});

function input(messages: ChatMessage[], image: { blob: Blob; hash: string } | null, s: Partial<GenerationSettings> = {}): GenerateInput {
  return { sessionId: 's', messages, image, settings: { ...settings, ...s } };
}

/** Runs the same prompt with no cache at all: the reference a cached answer must equal. */
async function reference(inp: GenerateInput): Promise<string> {
  const fresh = new VlmEngine();
  await fresh.load({
    model: MODEL_ID,
    device: 'cpu',
    dtypes: { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'fp32' },
    source: { kind: 'local', localModelPath: root },
  });
  const out = await fresh.generate(inp, { noCache: true });
  await fresh.unload();
  return out.text;
}

describe('VlmEngine on the tiny model (onnxruntime-node)', () => {
  it('a follow-up reuses the KV cache: no vision encoder, no re-prefill, same greedy tokens', async () => {
    await engine.resetCache();
    const turn1 = input([user('What is in this picture?', true)], imageA);
    const first = await engine.generate(turn1);
    expect(first.stats.visionRan).toBe(true);
    expect(first.stats.imageTokens).toBe(64);
    expect(first.stats.cachedTokens).toBe(0);
    expect(first.stats.tokens).toBe(12);
    expect(first.text.length).toBeGreaterThan(0);

    const turn2 = input([user('What is in this picture?', true), assistant(first.text), user('And the colours?')], imageA);
    const second = await engine.generate(turn2);
    expect(second.stats.visionRan).toBe(false);
    // The first prompt (image included) and the answer's leading tokens came from the cache (the answer
    // starts with a space as a real model's do, so "Assistant: <answer>" re-encodes to the sampled tokens).
    expect(second.stats.cachedTokens).toBeGreaterThan(first.stats.promptTokens);
    expect(second.stats.promptTokens - second.stats.cachedTokens).toBeLessThan(first.stats.imageTokens);
    expect(second.text).toBe(await reference(turn2));
  });

  it('answers depend on the picture, so equal answers above are evidence (the model is not context-blind)', async () => {
    await engine.resetCache();
    const a = await engine.generate(input([user('Describe.', true)], imageA));
    const b = await engine.generate(input([user('Describe.', true)], imageB));
    expect(pictureFed(b.stats)).toBe(true); // same text, different picture: the cache was cut before the image
    expect(a.text).not.toBe(b.text);
  });

  it('a new image mid-session runs the vision encoder for that image only and matches a recompute', async () => {
    await engine.resetCache();
    const m1 = [user('First photo', true)];
    const r1 = await engine.generate(input(m1, imageA));
    const m2 = [user('First photo'), assistant(r1.text), user('Now this one', true)];
    const r2 = await engine.generate(input(m2, imageB));
    expect(pictureFed(r2.stats)).toBe(true);
    expect(r2.stats.imageTokens).toBe(64); // one image in context: the old one left the prompt
    expect(r2.text).toBe(await reference(input(m2, imageB)));
  });

  it('regenerate (same prompt again) and a changed system prompt rebuild only what changed', async () => {
    await engine.resetCache();
    const m = [user('Tell me about it', true)];
    const r1 = await engine.generate(input(m, imageA));
    const again = await engine.generate(input(m, imageA));
    expect(again.stats.visionRan).toBe(false);
    expect(again.text).toBe(r1.text);
    const system: ChatMessage = { role: 'system', content: makeContent('Answer in French.', false), timestamp: '' };
    const withSystem = await engine.generate(input([system, ...m], imageA));
    expect(withSystem.stats.cachedTokens).toBe(1); // the change is right after <|im_start|>
    expect(pictureFed(withSystem.stats)).toBe(true);
    expect(withSystem.text).toBe(await reference(input([system, ...m], imageA)));
  });

  it('the window sliding past the first turn is detected and matches a recompute', async () => {
    await engine.resetCache();
    const t1 = await engine.generate(input([user('one', true)], imageA));
    const t2 = await engine.generate(input([user('one', true), assistant(t1.text), user('two')], imageA));
    // The window drops turn one; the image moves to the first user message left.
    const slid = [user('two', true), assistant(t2.text), user('three')];
    const t3 = await engine.generate(input(slid, imageA));
    expect(t3.text).toBe(await reference(input(slid, imageA)));
  });

  it('image detail changes the token cost', async () => {
    await engine.resetCache();
    const big = await makeImage('png', 1024, 1024, 3);
    const img = { blob: big, hash: await hashBlob(big) };
    const low = await engine.generate(input([user('x', true)], img, { imageDetail: 'low', maxNewTokens: 1 }));
    const auto = await engine.generate(input([user('x', true)], img, { imageDetail: 'auto', maxNewTokens: 1 }));
    const high = await engine.generate(input([user('x', true)], img, { imageDetail: 'high', maxNewTokens: 1 }));
    expect([low.stats.imageTokens, auto.stats.imageTokens, high.stats.imageTokens]).toEqual([64, 5 * 64, 17 * 64]);
    const small = await makeImage('png', 400, 300, 3);
    const smallImg = { blob: small, hash: await hashBlob(small) };
    const autoSmall = await engine.generate(input([user('x', true)], smallImg, { imageDetail: 'auto', maxNewTokens: 1 }));
    expect(autoSmall.stats.imageTokens).toBe(64); // never upscaled past its own pixels
  });

  it('Stop keeps the partial answer and the engine stays usable', async () => {
    await engine.resetCache();
    const ctrl = new AbortController();
    let pieces = 0;
    const err = await engine
      .generate(input([user('Long answer please', true)], imageA, { maxNewTokens: 200 }), {
        signal: ctrl.signal,
        onToken: () => { if (++pieces === 3) ctrl.abort(); },
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenerationAbortedError);
    const partial = (err as GenerationAbortedError).data.partial as string;
    expect(partial.length).toBeGreaterThan(0);
    expect((err as GenerationAbortedError).data.stats).toMatchObject({ tokens: expect.any(Number) });
    const ok = await engine.generate(input([user('hi')], null));
    expect(ok.stats.tokens).toBe(12);
  });

  it('bad images and prompts are named errors, and the engine stays usable', async () => {
    const truncated = new Blob([(await imageA.blob.arrayBuffer()).slice(0, 60)], { type: 'image/png' });
    await expect(engine.generate(input([user('x', true)], { blob: truncated, hash: 't' }))).rejects.toBeInstanceOf(ImageUnreadableError);
    await expect(engine.generate(input([user('y'.repeat(40_000))], null))).rejects.toBeInstanceOf(PromptTooLongError);
    const ok = await engine.generate(input([user('still there?')], null));
    expect(ok.text.length).toBeGreaterThan(0);
  });

  it('a model that does not exist is a named error', async () => {
    const e = new VlmEngine();
    const err = await e
      .load({
        model: 'nobody/NoSuchModel',
        device: 'cpu',
        dtypes: { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'fp32' },
        source: { kind: 'local', localModelPath: root },
      })
      .catch((x: unknown) => x);
    expect([ModelFilesMissingError.errorName, UnknownModelError.errorName]).toContain((err as Error).name);
  });
});
