/**
 * Property: over many generated conversations and edits (follow-ups, regenerate, edit, the window sliding, a
 * new picture), with texts full of unicode, code and typed control tokens, the engine that keeps its cache
 * answers exactly like an engine that starts fresh every turn (fp32, the tiny faithful model).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../../src/chat/messages';
import { hashBlob } from '../../../src/chat/images';
import { VlmEngine } from '../../../src/engine/engine';
import { assistant, scriptSettings, user, type Picture } from '../../fixtures/cache-script';
import { makeImage } from '../../fixtures/images';
import { loadTinyEngine } from '../../fixtures/engine';

const PIECES = [' the', 'cat', ' ', '\n', 'é', '日本', '🙂', '```ts\nlet x = 1;\n```', '42', '<image>', '<end_of_utterance>',
  '<|im_start|>', 'Assistant:', 'User:', '<row_1_col_1>', 'naïve', '"', '—', '\t'];

/** xorshift32, seeded: the same conversations on every run. */
function rng(seed: number): () => number {
  let x = seed * 2654435761 || 1;
  return () => {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const text = (r: () => number) => {
  let s = '';
  for (let i = 1 + Math.floor(r() * 6); i > 0; i--) s += PIECES[Math.floor(r() * PIECES.length)];
  return s.trim() ? s : 'x';
};

let cached: VlmEngine;
let fresh: VlmEngine;
let pictures: Picture[];

beforeAll(async () => {
  [cached, fresh] = [await loadTinyEngine(undefined, { logits: 'last' }), await loadTinyEngine(undefined, { logits: 'last' })];
  pictures = await Promise.all([1, 2].map(async (seed) => {
    const blob = await makeImage('png', 96, 64, seed);
    return { blob, hash: await hashBlob(blob) };
  }));
});

afterAll(async () => {
  await cached?.unload();
  await fresh?.unload();
});

describe('cached == fresh over generated conversations', () => {
  it('12 conversations × 6 random steps', async () => {
    let steps = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const r = rng(seed);
      let picture: Picture | null = seed % 3 === 0 ? pictures[0]! : null;
      let m: ChatMessage[] = [user(text(r), picture !== null)];
      let last = '';
      for (let step = 0; step < 6; step++) {
        const input = { sessionId: `p${seed}`, messages: m, image: picture, settings: { ...scriptSettings, maxNewTokens: 6 } };
        const a = await cached.generate(input);
        const b = await fresh.generate(input, { noCache: true });
        expect(a.text, `seed ${seed} step ${step}: ${JSON.stringify(m.map((x) => x.content))}`).toBe(b.text);
        expect(a.stats.promptTokens).toBe(b.stats.promptTokens);
        steps++;
        last = a.text;
        const op = r();
        if (op < 0.45) m = [...m, assistant(last), user(text(r))]; // follow-up
        else if (op < 0.6) m = [...m]; // regenerate
        else if (op < 0.75) m = [...m.slice(0, -1), user(text(r), m.at(-1)!.content.some((p) => p.type === 'image'))]; // edit
        else if (op < 0.9 && m.length >= 3) m = [user(text(r), picture !== null), ...m.slice(3)]; // the window slides
        else {
          picture = pictures[1]!; // a new picture replaces the old one
          m = [...m.map((x) => ({ ...x, content: x.content.filter((p) => p.type !== 'image') })), assistant(last), user(text(r), true)];
        }
      }
    }
    expect(steps).toBe(72);
  }, 600_000);
});
