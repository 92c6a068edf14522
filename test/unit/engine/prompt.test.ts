import { describe, expect, it } from 'vitest';
import { commonPrefixLength, planReuse, type CacheState } from '../../../src/engine/prompt';

// One token per character keeps the arithmetic visible: ids are char codes.
const ids = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** The cache after a turn: prompt ids plus the sampled answer, the last sampled token not yet in the KV. */
function cacheFor(prompt: string, answer: string, image: { key: string; at: number } | null): CacheState {
  const all = ids(prompt + answer);
  return { modelKey: 'm', ids: all, pastLength: all.length - 1, image: image && { ...image, expansion: 'III' } };
}

describe('planReuse (token ids)', () => {
  const prompt = 'U:III what?|A:';
  const img = { key: 'img|auto', at: 2 };
  const cache = cacheFor(prompt, ' A cat.$', img);

  it('a follow-up whose ids extend the cache keeps all of it', () => {
    const next = ids(`${prompt} A cat.$U: colour?|A:`);
    expect(planReuse(cache, 'm', next, img)).toEqual({ keepTokens: cache.pastLength, reason: 'extend' });
  });

  it('the cut is at the first differing id, whatever the texts look like', () => {
    // The stored answer re-encodes differently from what was sampled (a split the tokenizer would not make).
    const next = ids(`${prompt} A cot.$U: x|A:`);
    const plan = planReuse(cache, 'm', next, img);
    expect(plan).toEqual({ keepTokens: commonPrefixLength(cache.ids, next), reason: 'cut' });
    expect(plan.keepTokens).toBe(prompt.length + 4);
  });

  it('regenerate (the same prompt) keeps all but the last prompt token', () => {
    expect(planReuse(cache, 'm', ids(prompt), img)).toEqual({ keepTokens: prompt.length - 1, reason: 'cut' });
  });

  it('a different picture (or detail) behind the same placeholder ids is cut before the picture', () => {
    const next = ids(`${prompt} A cat.$U: x|A:`);
    expect(planReuse(cache, 'm', next, { key: 'other|auto', at: 2 })).toEqual({ keepTokens: 2, reason: 'image-changed' });
    expect(planReuse(cache, 'm', next, { key: 'img|high', at: 2 })).toEqual({ keepTokens: 2, reason: 'image-changed' });
    expect(planReuse(cache, 'm', next, null)).toEqual({ keepTokens: 2, reason: 'image-changed' });
  });

  it('another model or device, or no cache, starts over', () => {
    expect(planReuse(cache, 'other', ids(`${prompt}xx`), img)).toEqual({ keepTokens: 0, reason: 'model-changed' });
    expect(planReuse(null, 'm', ids('x'), null)).toEqual({ keepTokens: 0, reason: 'empty' });
  });

  it('a change at the very start keeps nothing', () => {
    expect(planReuse(cache, 'm', ids(`S:be brief|${prompt}`), img).keepTokens).toBe(0);
  });

  it('never keeps the whole new prompt: at least one token is fed', () => {
    const c = cacheFor('abcdef', 'gh', null);
    expect(planReuse(c, 'm', ids('abc'), null).keepTokens).toBe(2);
  });
});
