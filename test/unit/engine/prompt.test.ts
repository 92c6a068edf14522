import { describe, expect, it } from 'vitest';
import { planReuse, renderSegments, type CacheState } from '../../../src/engine/prompt';

type M = { role: 'user' | 'assistant' | 'system'; text: string; image?: boolean };
// The SmolVLM template's shape, enough to check boundaries.
const render = (ms: M[], add: boolean) =>
  '<|im_start|>' +
  ms.map((m) => `${m.role[0]!.toUpperCase()}${m.role.slice(1)}:${m.image ? '<image>' : ' '}${m.text}<end_of_utterance>\n`).join('') +
  (add ? 'Assistant:' : '');

function cacheFor(ms: M[], answerRaw: string, imageKey: string | null): CacheState {
  const { text, boundaries } = renderSegments(ms, render);
  // One token per character keeps the arithmetic visible.
  const full = text + answerRaw;
  return {
    modelKey: 'm',
    text: full,
    ids: Array.from(full, (c) => c.charCodeAt(0)),
    checkpoints: [...boundaries.map((b) => ({ chars: b, tokens: b })), { chars: full.length, tokens: full.length }],
    pastLength: full.length - 1,
    image: imageKey ? { key: imageKey, at: text.indexOf('<image>') } : null,
  };
}

describe('renderSegments', () => {
  it('cuts at each message end and each generation prompt', () => {
    const ms: M[] = [{ role: 'user', text: 'hi' }, { role: 'assistant', text: 'yo' }, { role: 'user', text: 'q' }];
    const { text, boundaries } = renderSegments(ms, render);
    const cuts = boundaries.map((b) => text.slice(0, b).split('<|im_start|>')[1]);
    expect(cuts).toEqual([
      'User: hi<end_of_utterance>\n',
      'User: hi<end_of_utterance>\nAssistant:',
      'User: hi<end_of_utterance>\nAssistant: yo<end_of_utterance>\n',
      'User: hi<end_of_utterance>\nAssistant: yo<end_of_utterance>\nUser: q<end_of_utterance>\n',
      'User: hi<end_of_utterance>\nAssistant: yo<end_of_utterance>\nUser: q<end_of_utterance>\nAssistant:',
    ]);
    expect(boundaries[boundaries.length - 1]).toBe(text.length);
  });
});

describe('planReuse', () => {
  const first: M[] = [{ role: 'user', text: 'what is this?', image: true }];
  const cache = cacheFor(first, ' A cat.<end_of_utterance>', 'img|auto');

  it('a follow-up extends the cache entirely (answer included)', () => {
    const next = renderSegments([...first, { role: 'assistant', text: 'A cat.' }, { role: 'user', text: 'colour?' }], render);
    const plan = planReuse(cache, 'm', next.text, 'img|auto');
    expect(plan).toEqual({ keepTokens: cache.ids.length, keepChars: cache.text.length, reason: 'extend' });
  });

  it('regenerate cuts back to the prompt, before the old answer', () => {
    const again = renderSegments(first, render);
    const plan = planReuse(cache, 'm', again.text, 'img|auto');
    expect(plan.reason).toBe('cut');
    // The whole prompt but its last segment is kept; at least one token is always fed.
    expect(plan.keepChars).toBeLessThan(again.text.length);
    expect(plan.keepChars).toBeGreaterThan(again.text.indexOf('<image>'));
  });

  it('a different picture behind the same placeholder is not reused', () => {
    const same = renderSegments([...first, { role: 'assistant', text: 'A cat.' }, { role: 'user', text: 'x' }], render);
    expect(planReuse(cache, 'm', same.text, 'other|auto')).toMatchObject({ keepTokens: 0, reason: 'image-changed' });
    expect(planReuse(cache, 'm', same.text, 'img|high')).toMatchObject({ keepTokens: 0, reason: 'image-changed' });
  });

  it('another model or device starts over', () => {
    expect(planReuse(cache, 'other', cache.text + 'x', 'img|auto')).toMatchObject({ keepTokens: 0, reason: 'model-changed' });
    expect(planReuse(null, 'm', 'x', null)).toMatchObject({ keepTokens: 0, reason: 'empty' });
  });

  it('a change in the middle keeps the turns before it', () => {
    const three: M[] = [{ role: 'user', text: 'a' }, { role: 'assistant', text: 'b' }, { role: 'user', text: 'c' }];
    const c = cacheFor(three, ' d', null);
    const edited = renderSegments([{ role: 'user', text: 'a' }, { role: 'assistant', text: 'b' }, { role: 'user', text: 'C!' }], render);
    const plan = planReuse(c, 'm', edited.text, null);
    expect(plan.reason).toBe('cut');
    expect(edited.text.slice(0, plan.keepChars).endsWith('b<end_of_utterance>\n')).toBe(true);
  });
});
