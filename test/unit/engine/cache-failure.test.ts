/**
 * A failure while preparing the KV cache (cutting it for regenerate, edit, a sliding window or a new image)
 * drops the cache and the turn is recomputed from the start: the answer still equals a fresh one, and the
 * next turns work. (Before, the error escaped unclassified and the broken cache was kept, so every retry
 * failed the same way.)
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_GENERATION, type GenerationSettings } from '../../../src/chat/backend';
import { makeContent, type ChatMessage } from '../../../src/chat/messages';
import { VlmEngine } from '../../../src/engine/engine';
import * as kv from '../../../src/engine/kv-cache';
import type { DtypeMap, GenerateInput } from '../../../src/engine/protocol';
import { loadTinyEngine } from '../../fixtures/engine';

vi.mock('../../../src/engine/kv-cache', async (original) => {
  const real = await original<typeof import('../../../src/engine/kv-cache')>();
  return { ...real, sliceCache: vi.fn(real.sliceCache) };
});

const settings: GenerationSettings = { ...DEFAULT_GENERATION, maxNewTokens: 8, repetitionPenalty: 1.0 };
const user = (text: string): ChatMessage => ({ role: 'user', content: makeContent(text, false), timestamp: '' });
const input = (messages: ChatMessage[]): GenerateInput => ({ sessionId: 's', messages, image: null, settings });

let engine: VlmEngine;
let fresh: VlmEngine;

beforeAll(async () => {
  const f16: DtypeMap = { vision_encoder: 'fp16', embed_tokens: 'fp16', decoder_model_merged: 'q4f16' };
  [engine, fresh] = [await loadTinyEngine(f16), await loadTinyEngine(f16)];
});

describe('a failure while cutting the KV cache', () => {
  it('drops the cache, recomputes the turn, and the next turns work', async () => {
    const first = [user('Tell me a story')];
    await engine.generate(input(first));
    expect(engine.cachedTokensFor('s')).toBeGreaterThan(0);

    vi.mocked(kv.sliceCache).mockRejectedValueOnce(new Error('A float16 tensor\'s data must be type of function Uint16Array()'));
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const regenerated = await engine.generate(input(first)); // regenerate: the cache must be cut
    warn.mockRestore();
    expect(vi.mocked(kv.sliceCache)).toHaveBeenCalled();
    expect(regenerated.stats.cachedTokens).toBe(0);
    expect(regenerated.text).toBe((await fresh.generate(input(first), { noCache: true })).text);

    // The cache was rebuilt by that turn and cuts normally again.
    const edited = [user('Tell me a poem')];
    const next = await engine.generate(input(edited));
    expect(next.stats.cachedTokens).toBeGreaterThan(0);
    expect(next.text).toBe((await fresh.generate(input(edited), { noCache: true })).text);
  });
});
