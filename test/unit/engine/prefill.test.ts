/**
 * A picture's long first prompt is prefilled in chunks (issue 21: the export's logits for every position cost
 * more memory than the vision encoder read frame by frame). The chunks, then the engine on the tiny model,
 * fp32: chunked equals one pass, and a cached follow-up after a chunked turn equals a fresh one.
 */
import { describe, expect, it } from 'vitest';
import { hashBlob } from '../../../src/chat/images';
import { featureRows, prefillChunks, restOf } from '../../../src/engine/prefill';
import type { GenerateInput, ImageFeatures } from '../../../src/engine/protocol';
import { assistant, scriptSettings, user } from '../../fixtures/cache-script';
import { FP32, loadTinyEngine } from '../../fixtures/engine';
import { makeImage } from '../../fixtures/images';

const IMG = 9;

describe('prefillChunks', () => {
  it('chunks from the cached length, leaving 1..size tokens to the answer, with each chunk’s image rows', () => {
    // 3 text, 10 image, 4 text tokens; 2 of them cached.
    const ids = [1, 2, 3, ...Array<number>(10).fill(IMG), 4, 5, 6, 7];
    expect(prefillChunks(ids, 2, IMG, 4)).toEqual([
      { end: 6, rows: [0, 3] },
      { end: 10, rows: [3, 7] },
      { end: 14, rows: [7, 10] },
    ]);
    // 17 − 14 = 3 tokens left to the answer's call; a prompt not longer than one chunk is not chunked.
    expect(prefillChunks(ids, 13, IMG, 4)).toEqual([]);
    expect(prefillChunks(ids, 0, IMG, Infinity)).toEqual([]);
    expect(prefillChunks(ids, 0, IMG, 0)).toEqual([]);
  });

  it('feature rows and what is left after the chunks', () => {
    const f: ImageFeatures = { key: 'k', rows: 0, cols: 0, dims: [2, 5, 3], data: Float32Array.from({ length: 30 }, (_, i) => i) };
    expect(Array.from(featureRows(f, 3, 5).data)).toEqual([9, 10, 11, 12, 13, 14]);
    expect(featureRows(f, 3, 5).dims).toEqual([2, 3]);
    const rest = restOf(f, [{ end: 8, rows: [0, 7] }]);
    expect(rest && 'features' in rest ? Array.from(rest.features.data) : null).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29]);
    expect(restOf(f, [{ end: 12, rows: [0, 10] }])).toBeNull();
  });
});

describe('the engine prefills a 17-frame picture in chunks (tiny model, fp32)', () => {
  it('gives the one-pass answer, and a cached follow-up equals a fresh one', async () => {
    const blob = await makeImage('png', 512, 512, 4);
    const photo = { blob, hash: await hashBlob(blob) };
    const first = [user('What is in this picture?', true)];
    const input = (messages: GenerateInput['messages']): GenerateInput => ({
      sessionId: 'p', messages, image: photo, settings: { ...scriptSettings, imageDetail: 'high', maxNewTokens: 8 },
    });

    const onePass = await loadTinyEngine(FP32, { prefillChunkTokens: Infinity });
    const whole = await onePass.generate(input(first), { noCache: true });
    await onePass.unload();

    const engine = await loadTinyEngine(FP32);
    const chunked = await engine.generate(input(first));
    expect(chunked.stats).toMatchObject({ visionRan: true, imageTokens: 17 * 64 });
    expect(chunked.text).toBe(whole.text);
    expect(engine.cachedTokensFor('p')).toBeGreaterThan(17 * 64);

    const next = [...first, assistant(chunked.text), user('And the colours?')];
    const followup = await engine.generate(input(next));
    expect(followup.stats.visionRan).toBe(false);
    expect(followup.stats.cachedTokens).toBeGreaterThan(17 * 64);
    const fresh = await engine.generate(input(next), { noCache: true });
    expect(followup.text).toBe(fresh.text);
    await engine.unload();
  });
});
