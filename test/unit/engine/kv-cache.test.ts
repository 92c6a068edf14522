/**
 * Cutting a KV cache keeps its element type: an fp16/q4f16 decoder's cache is float16 (Uint16Array data in
 * Node). Copying it into a Float32Array threw "A float16 tensor's data must be type of function
 * Uint16Array()" on every regenerate, edit, window slide or new image of the path most GPU users take.
 */
import { DynamicCache, Tensor } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { pastLengthOf, sliceCache, type KvCache } from '../../../src/engine/kv-cache';

function cache(type: 'float16' | 'float32', positions: number): KvCache {
  const n = 2 * 3 * positions * 4;
  const data = type === 'float16' ? Uint16Array.from({ length: n }, (_, i) => i) : Float32Array.from({ length: n }, (_, i) => i);
  const t = () => new Tensor(type, data.slice(), [2, 3, positions, 4]);
  return new DynamicCache({ 'past_key_values.0.key': t(), 'past_key_values.0.value': t() }) as unknown as KvCache;
}

describe('sliceCache', () => {
  it.each(['float16', 'float32'] as const)('keeps the first positions of every head, as %s', async (type) => {
    const cut = await sliceCache(cache(type, 5), 2);
    expect(pastLengthOf(cut)).toBe(2);
    const key = cut['past_key_values.0.key']!;
    expect(key.type).toBe(type);
    expect(key.data).toBeInstanceOf(type === 'float16' ? Uint16Array : Float32Array);
    // Head (b=0, h=1) starts at element 1*5*4 = 20 in the original; its first 2 positions are 20..27.
    expect(Array.from(key.data as ArrayLike<number>).slice(8, 16)).toEqual([20, 21, 22, 23, 24, 25, 26, 27]);
  });
});
