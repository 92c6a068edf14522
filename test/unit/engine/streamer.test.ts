/**
 * TokenStreamer: each token decoded once (the TextStreamer it replaced decoded every token since the last
 * newline again at each new token), pieces of whole characters that add up to the whole answer's decode.
 * With a byte-level decoder double, then through the engine on the tiny model with the real tokenizer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VlmEngine } from '../../../src/engine/engine';
import { TokenStreamer } from '../../../src/engine/streamer';
import { MID_CHARACTER_PROMPTS, scriptSettings, user } from '../../fixtures/cache-script';
import { loadTinyEngine } from '../../fixtures/engine';

/** Token i is the i-th byte of `text` in UTF-8: every multi-byte character is split across tokens. */
function byteTokens(text: string) {
  const bytes = new TextEncoder().encode(text);
  let decodedTokens = 0;
  const decoder = {
    decode(ids: bigint[]) {
      decodedTokens += ids.length;
      return new TextDecoder().decode(Uint8Array.from(ids, (id) => bytes[Number(id)]!));
    },
  };
  return { ids: Array.from(bytes, (_, i) => BigInt(i)), decoder, decoded: () => decodedTokens };
}

function stream(text: string) {
  const { ids, decoder, decoded } = byteTokens(text);
  const pieces: string[] = [];
  let counted = 0;
  const s = new TokenStreamer(decoder, { onText: (p) => pieces.push(p), onTokenId: () => counted++ });
  s.put([[999n, 998n]]); // the prompt: neither counted nor shown
  for (const id of ids) s.put([[id]]);
  s.end();
  return { pieces, counted, tokens: ids.length, decoded: decoded() };
}

describe('TokenStreamer', () => {
  it('holds a split character until it is whole; the pieces add up to the text', () => {
    const text = 'naïve café, 日本語 🙂🎉 and € — done';
    const { pieces, counted, tokens } = stream(text);
    expect(pieces.join('')).toBe(text);
    expect(pieces.some((p) => p.includes('\uFFFD'))).toBe(false);
    expect(pieces).toContain('🙂'); // 4 tokens, one piece
    expect(counted).toBe(tokens);
  });

  it('decodes each token about once, however long the answer (no newline to reset on)', () => {
    const text = 'word '.repeat(400) + 'é'.repeat(100);
    const { decoded, tokens } = stream(text);
    // Each token once, a split character's first byte twice: linear, where re-decoding the line would be ~tokens²/2.
    expect(decoded).toBeLessThanOrEqual(tokens * 2);
  });

  it('a byte sequence that never completes is shown after 4 tokens, not held for ever', () => {
    const { ids, decoder } = byteTokens('abc');
    const broken = { decode: (x: bigint[]) => (x.length && x.every((id) => id === 7n) ? '\uFFFD'.repeat(x.length) : decoder.decode(x)) };
    const pieces: string[] = [];
    const s = new TokenStreamer(broken, { onText: (p) => pieces.push(p) });
    s.put([[0n]]);
    for (let i = 0; i < 4; i++) s.put([[7n]]);
    expect(pieces).toEqual(['\uFFFD\uFFFD\uFFFD\uFFFD']);
    for (const id of ids) s.put([[id]]);
    s.end();
    expect(pieces.join('')).toBe('\uFFFD\uFFFD\uFFFD\uFFFDabc');
  });
});

describe('the engine streams with it (tiny model, real tokenizer)', () => {
  let engine: VlmEngine;
  beforeAll(async () => {
    engine = await loadTinyEngine();
  });
  afterAll(async () => {
    await engine?.unload();
  });

  it.each(MID_CHARACTER_PROMPTS)('the streamed pieces are the answer, one token count per token: %s', async (prompt) => {
    const pieces: string[] = [];
    const counts: number[] = [];
    const out = await engine.generate(
      { sessionId: 'streamer', messages: [user(prompt)], image: null, settings: { ...scriptSettings, maxNewTokens: 60 } },
      { noCache: true, onToken: (text, tokens) => (pieces.push(text), counts.push(tokens)) },
    );
    expect(pieces.join('').replace(/^ /, '')).toBe(out.text);
    // Counts rise with the tokens; most tokens bring their own piece.
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts.at(-1)).toBeLessThanOrEqual(out.stats.tokens);
    expect(pieces.length).toBeGreaterThan(out.stats.tokens / 2);
  });
});
