/**
 * Stop on the WebAssembly path: the real worker and the generated tiny model in real Chromium. ONNX Runtime's
 * WASM run resolves without giving the worker's event loop a turn, so an abort posted to the worker must still be
 * read between two tokens, not after the answer is done.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_GENERATION, type GenerationSettings } from '../../../src/chat/backend';
import { makeContent } from '../../../src/chat/messages';
import { EngineClient } from '../../../src/engine/client';
import type { GenerateInput, GenerateStats } from '../../../src/engine/protocol';
import { GenerationAbortedError } from '../../../src/errors';

const MODEL = 'HuggingFaceTB/SmolVLM-256M-Instruct';
const source = { kind: 'local' as const, localModelPath: '/.models/tiny/' };
// The random tiny model talks until max tokens: a long answer it will not end by itself.
const settings: GenerationSettings = { ...DEFAULT_GENERATION, model: MODEL, maxNewTokens: 400, repetitionPenalty: 1 };
const input = (text: string): GenerateInput => ({
  sessionId: 'stop', image: null, settings,
  messages: [{ role: 'user', content: makeContent(text, false), timestamp: '' }],
});

/** Runs a long answer and aborts it once `after` tokens have streamed; what the page saw and what it got back. */
async function stopAfter(client: EngineClient, after: number, maxNewTokens = settings.maxNewTokens) {
  const ctrl = new AbortController();
  let streamed = 0;
  let atAbort = -1;
  const err = await client
    .generate({ ...input('Tell me a very long story.'), settings: { ...settings, maxNewTokens } }, {
      signal: ctrl.signal,
      onToken: (_text, tokens) => {
        streamed = tokens;
        if (atAbort < 0 && tokens >= after) {
          atAbort = tokens;
          ctrl.abort();
        }
      },
    })
    .catch((e: unknown) => e);
  return { err, atAbort, streamed };
}

describe('Stop in the real worker (tiny model)', () => {
  it('ends a long answer within 3 tokens of the abort, keeps the partial text, and the next answer runs', async () => {
    const client = new EngineClient({ source, model: MODEL, forceDevice: 'wasm' });
    try {
      await client.load();
      const { err, atAbort, streamed } = await stopAfter(client, 3);
      expect(atAbort).toBeGreaterThanOrEqual(3);
      expect((err as Error).name).toBe(GenerationAbortedError.errorName);
      const data = (err as GenerationAbortedError).data as { partial: string; stats: GenerateStats };
      expect(data.stats.device).toBe('wasm');
      // Within 3 tokens of the abort, against 400 without it.
      expect(data.stats.tokens).toBeLessThanOrEqual(atAbort + 3);
      expect(streamed).toBeLessThanOrEqual(atAbort + 3);
      expect(data.partial.length).toBeGreaterThan(0);
      // The worker is free again: a short answer right after runs to its end.
      const next = await client.generate({ ...input('hi'), settings: { ...settings, maxNewTokens: 5 } });
      expect(next.stats.tokens).toBe(5);
    } finally {
      client.dispose();
    }
  });

  it('WebGPU (SwiftShader): Stop still ends the answer within 3 tokens, partial kept', async () => {
    // SwiftShader runs WebGPU on the CPU at about a token a second: a shorter limit, still far past the stop.
    const client = new EngineClient({ source, model: MODEL, forceDevice: 'webgpu' });
    try {
      await client.load();
      const { err, atAbort } = await stopAfter(client, 2, 40);
      expect((err as Error).name).toBe(GenerationAbortedError.errorName);
      const data = (err as GenerationAbortedError).data as { partial: string; stats: GenerateStats };
      expect(data.stats.device).toBe('webgpu');
      expect(data.stats.tokens).toBeLessThanOrEqual(atAbort + 3);
      expect(data.partial.length).toBeGreaterThan(0);
    } finally {
      client.dispose();
    }
  }, 900_000); // bounds a hang: the first WebGPU run on SwiftShader compiles its shaders (minutes under load)
});
