/**
 * Image features are computed once per picture: the engine hands back what the vision encoder computed, and
 * a fresh engine (a reload, a server restart) given those features answers identically without running the
 * encoder. Features that do not fit (another encoder, truncated, altered shape) are ignored and recomputed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { hashBlob } from '../../../src/chat/images';
import { VlmEngine } from '../../../src/engine/engine';
import type { GenerateInput, ImageFeatures } from '../../../src/engine/protocol';
import { assistant, scriptSettings, user } from '../../fixtures/cache-script';
import { makeImage } from '../../fixtures/images';
import { FP32, loadTinyEngine } from '../../fixtures/engine';
import { MODEL_ID } from '../../fixtures/model/ensure';

let photo: { blob: Blob; hash: string };

// The last-position-logits model: every comparison here is between two engines on the same files, and a
// 5-frame picture makes each prefill 330 positions whose 49,280 logits nobody reads (the faithful model's
// stored-features path runs end to end in test/e2e/engine-real.test.ts, on WASM after the offline reload).
const engine = (dtypes = FP32): Promise<VlmEngine> => loadTinyEngine(dtypes, { logits: 'last' });

const input = (features?: ImageFeatures[], detail: 'low' | 'auto' | 'high' = 'auto'): GenerateInput => ({
  sessionId: 's',
  messages: [user('What is in this picture?', true), assistant('A test.'), user('And the colours?')],
  image: photo,
  ...(features ? { features } : {}),
  settings: { ...scriptSettings, imageDetail: detail, maxNewTokens: 6 },
});

beforeAll(async () => {
  const blob = await makeImage('png', 640, 480, 7);
  photo = { blob, hash: await hashBlob(blob) };
});

describe('image features kept with the picture', () => {
  it('a restarted engine given the stored features skips the vision encoder and answers identically', async () => {
    const first = await engine();
    const made = await first.generate(input());
    expect(made.stats.visionRan).toBe(true);
    // 640×480 at detail auto: resized to 1024 wide, both sides rounded up to tiles: 2 × 2 and the global frame.
    expect(made.features).toMatchObject({ key: `${MODEL_ID}|fp32|auto|1f`, rows: 2, cols: 2, dims: [5, 64, expect.any(Number)] });
    await first.unload();

    const restarted = await engine();
    const again = await restarted.generate(input([made.features!]));
    expect(again.stats).toMatchObject({ visionRan: false, featuresReused: true, imageTokens: 5 * 64 });
    expect(again.features).toBeUndefined();
    expect(again.text).toBe(made.text);
    await restarted.unload();
  });

  it('features that do not fit are ignored and recomputed, never fed', async () => {
    const first = await engine();
    const good = (await first.generate(input())).features!;
    await first.unload();
    const bad: ImageFeatures[] = [
      { ...good, data: good.data.slice(0, good.data.length - 1) }, // truncated
      { ...good, key: `${MODEL_ID}|q8|high` }, // another encoder
      { ...good, rows: 1, cols: 1 }, // a grid its data does not match
      { ...good, dims: [good.dims[0]!, 32, good.dims[2]! * 2] }, // altered shape
    ];
    const e = await engine();
    for (const f of bad) {
      await e.resetCache(); // as a fresh engine: no KV cache, no features in memory
      const out = await e.generate(input([f]));
      expect(out.stats.visionRan, JSON.stringify({ key: f.key, rows: f.rows, dims: f.dims, n: f.data.length })).toBe(true);
      expect(out.stats.featuresReused).toBe(false);
    }
    await e.unload();
  });

  it('the features of another detail or dtype are not used', async () => {
    const first = await engine();
    const auto = (await first.generate(input())).features!;
    await first.unload();
    const low = await engine();
    expect((await low.generate(input([auto], 'low'))).stats.visionRan).toBe(true);
    await low.unload();
    const q8 = await engine({ vision_encoder: 'q8', embed_tokens: 'q8', decoder_model_merged: 'q8' });
    expect((await q8.generate(input([auto]))).stats.visionRan).toBe(true);
    await q8.unload();
  });
});
