/**
 * Regenerate varies the answer (src/chat/sampling.ts) and a seed repeats it, with the real engine: the tiny
 * generated model in onnxruntime-node, sampled by transformers.js's own sampler.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION, type GenerationSettings } from '../../../src/chat/backend';
import { makeContent, type ChatMessage } from '../../../src/chat/messages';
import { REGENERATE_TEMPERATURE, answerSettings, regenerateSettings } from '../../../src/chat/sampling';
import type { VlmEngine } from '../../../src/engine/engine';
import { FP32, loadTinyEngine } from '../../fixtures/engine';

const chat: GenerationSettings = { ...DEFAULT_GENERATION, maxNewTokens: 16, repetitionPenalty: 1.0, imageDetail: 'low' };
const question: ChatMessage[] = [{ role: 'user', content: makeContent('Tell me a story about the sea.', false), timestamp: '' }];

let engine: VlmEngine;

beforeAll(async () => {
  engine = await loadTinyEngine(FP32);
});

const answer = async (settings: GenerationSettings) =>
  (await engine.generate({ sessionId: 's', messages: question, image: null, settings })).text;

describe('Regenerate on the tiny model (onnxruntime-node)', () => {
  it('at temperature 0 two regenerates differ from each other and from the greedy answer; a seed repeats', async () => {
    const greedy = await answer(answerSettings(chat));
    expect(await answer(answerSettings(chat))).toBe(greedy); // temperature 0 alone: the same answer each time

    let n = 1;
    const seeds = () => n++; // fixed seeds, so the test is not at chance's mercy
    const first = regenerateSettings(chat, seeds);
    const second = regenerateSettings(chat, seeds);
    expect(first).toMatchObject({ temperature: REGENERATE_TEMPERATURE, seed: 1 });
    expect(second).toMatchObject({ temperature: REGENERATE_TEMPERATURE, seed: 2 });
    const a = await answer(first);
    const b = await answer(second);
    expect(a).not.toBe(b);
    expect([a, b]).not.toContain(greedy);
    // The same seed gives the same answer again (the engine seeds transformers.js's sampler).
    expect(await answer(first)).toBe(a);
    expect(await answer(second)).toBe(b);
  });

  it('a seed the user set asks for determinism: Regenerate keeps the settings and repeats the answer', async () => {
    const fixed = { ...chat, temperature: 0.9, seed: 42 };
    expect(regenerateSettings(fixed)).toEqual(fixed);
    const once = await answer(answerSettings(fixed));
    expect(await answer(regenerateSettings(fixed))).toBe(once);
  });

  it('a sampled first answer gets a fresh seed; a greedy one none', () => {
    expect(answerSettings({ ...chat, temperature: 0.5 }, () => 7).seed).toBe(7);
    expect(answerSettings(chat).seed).toBeUndefined();
  });
});
