/**
 * A KV cache per chat: several recent chats keep theirs within a memory budget, least recently used evicted
 * first and disposed (not leaked); going back to a chat resumes from its cache.
 */
import { DynamicCache, Tensor } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashBlob } from '../../../src/chat/images';
import { VlmEngine } from '../../../src/engine/engine';
import type { KvCache } from '../../../src/engine/kv-cache';
import { cacheBytes, KvPool, type PooledCache } from '../../../src/engine/kv-pool';
import type { GenerateInput } from '../../../src/engine/protocol';
import { assistant, scriptSettings, user } from '../../fixtures/cache-script';
import { makeImage } from '../../fixtures/images';
import { loadTinyEngine } from '../../fixtures/engine';

/** A cache of `positions` float32 positions (2 tensors of [1, 1, positions, 4]) that counts its disposals. */
function fakeCache(positions: number, disposed: string[], name: string): PooledCache {
  const t = () => new Tensor('float32', new Float32Array(positions * 4), [1, 1, positions, 4]);
  const past = new DynamicCache({ 'past_key_values.0.key': t(), 'past_key_values.0.value': t() }) as unknown as KvCache;
  const dispose = past.dispose.bind(past);
  past.dispose = async () => {
    disposed.push(name);
    await dispose();
  };
  return { modelKey: 'm', ids: [], pastLength: positions, image: null, past };
}

describe('KvPool', () => {
  it('evicts the least recently used chats to fit the budget, disposing them', async () => {
    const disposed: string[] = [];
    const per = cacheBytes(fakeCache(100, [], 'x').past); // 3,200 bytes
    const pool = new KvPool(per * 3);
    for (const id of ['a', 'b', 'c']) await pool.put(id, fakeCache(100, disposed, id));
    pool.take('a'); // chat a generates…
    await pool.put('a', fakeCache(100, disposed, 'a2')); // …and comes back as the most recent
    await pool.put('d', fakeCache(100, disposed, 'd'));
    expect(disposed).toEqual(['b']);
    expect(['a', 'b', 'c', 'd'].filter((id) => pool.has(id))).toEqual(['a', 'c', 'd']);
    expect(pool.bytes).toBeLessThanOrEqual(pool.budget);

    await pool.setBudget(per);
    expect(disposed).toEqual(['b', 'c', 'a2']);
    // A cache bigger than the whole budget is not kept at all (and never fails the turn that made it).
    await pool.put('huge', fakeCache(1000, disposed, 'huge'));
    expect(pool.has('huge')).toBe(false);
    expect(disposed.at(-1)).toBe('huge');
    await pool.clear();
    expect(pool.size).toBe(0);
    expect(disposed).toContain('d');
  });
});

describe('a cache per chat (tiny model)', () => {
  let engine: VlmEngine;
  let photo: { blob: Blob; hash: string };
  const input = (sessionId: string, messages: GenerateInput['messages'], image = photo): GenerateInput =>
    ({ sessionId, messages, image, settings: scriptSettings });

  beforeAll(async () => {
    engine = await loadTinyEngine();
    const blob = await makeImage('png', 300, 200, 4);
    photo = { blob, hash: await hashBlob(blob) };
  });

  it('going back to chat A after a turn in chat B resumes A from its cache (no vision, no re-prefill)', async () => {
    await engine.resetCache();
    const a1 = await engine.generate(input('A', [user('Chat A: what is this?', true)]));
    await engine.generate(input('B', [user('Chat B: and this?', true)]));
    const a2 = await engine.generate(input('A', [user('Chat A: what is this?', true), assistant(a1.text), user('More?')]));
    expect(a2.stats.visionRan).toBe(false);
    expect(a2.stats.cachedTokens).toBeGreaterThan(a1.stats.promptTokens);
    expect(engine.kvUsage.chats).toBe(2);
  });

  it('five chats within a small budget: the oldest are evicted, memory stays within it, every turn succeeds', async () => {
    await engine.resetCache();
    const first = await engine.generate(input('c0', [user('hello 0', true)]));
    const one = engine.kvUsage.bytes;
    expect(one).toBeGreaterThan(0);
    await engine.setKvBudget(Math.floor(one * 2.5));
    for (let i = 1; i < 5; i++) {
      const out = await engine.generate(input(`c${i}`, [user(`hello ${i}`, true)]));
      expect(out.stats.tokens).toBeGreaterThan(0);
      expect(engine.kvUsage.bytes).toBeLessThanOrEqual(engine.kvUsage.budget);
    }
    expect(engine.kvUsage.chats).toBe(2);
    expect(engine.cachedTokensFor('c0')).toBe(0); // evicted: the next turn recomputes, correctly
    const back = await engine.generate(input('c0', [user('hello 0', true), assistant(first.text), user('again')]));
    // The picture's features were kept in memory: the evicted chat is rebuilt without the vision encoder.
    expect(back.stats).toMatchObject({ visionRan: false, featuresReused: true });
    await engine.setKvBudget(512 * 2 ** 20);
  });
});
