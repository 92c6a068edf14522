/**
 * Cached answers equal fresh answers on every dtype path the app requests, on the faithful test model
 * (real tokenizer and chat template; fp16/q4f16 decoders with a float16 KV cache; 4-bit and 8-bit graphs).
 * Node runs each path's files on onnxruntime's CPU provider; test/browser/engine runs WASM and WebGPU.
 */
import { AutoTokenizer, type PreTrainedTokenizer } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { hashBlob } from '../../../src/chat/images';
import { VlmEngine } from '../../../src/engine/engine';
import type { DtypeMap } from '../../../src/engine/protocol';
import { API_DTYPES } from '../../../src/server/dtypes';
import {
  assistant, cutMidCharacter, MID_CHARACTER_PROMPTS, scriptSettings, turnOn, typedControlTokens, user, wholeConversation, type Picture,
} from '../../fixtures/cache-script';
import { makeImage } from '../../fixtures/images';
import { allFiles as all, loadTinyEngine } from '../../fixtures/engine';
import { MODEL_ID } from '../../fixtures/model/ensure';

/** Each path and whether its files compute a chunked prefill exactly like a whole one (see PathOptions). */
const PATHS: [string, DtypeMap, boolean][] = [
  ['fp32 (Node, the reference)', all('fp32'), true],
  ['WebGPU + shader-f16 files (fp16 vision/embeddings, q4f16 decoder)', { vision_encoder: 'fp16', embed_tokens: 'fp16', decoder_model_merged: 'q4f16' }, true],
  ['fp16 everywhere', all('fp16'), true],
  ['WebGPU without f16 files (fp32 vision/embeddings, q4 decoder)', { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'q4' }, true],
  ['REST API default, GLIMPSE_DTYPE=q4 (q8 vision/embeddings, q4 decoder)', API_DTYPES.q4, true],
  ['WASM files (q8 everywhere: per-tensor activation quantization)', all('q8'), false],
];

let imageA: Picture;
let imageB: Picture;

beforeAll(async () => {
  const a = await makeImage('png', 300, 200, 1);
  const b = await makeImage('jpeg', 200, 300, 5);
  imageA = { blob: a, hash: await hashBlob(a) };
  imageB = { blob: b, hash: await hashBlob(b) };
});


describe.each(PATHS)('cached == fresh: %s', (_name, dtypes, exact) => {
  let cached: VlmEngine;
  let fresh: VlmEngine;
  const turn = turnOn((i) => cached.generate(i), (i) => fresh.generate(i, { noCache: true }), { exact });
  beforeAll(async () => {
    [cached, fresh] = [await loadTinyEngine(dtypes), await loadTinyEngine(dtypes)];
  });
  afterAll(async () => {
    await cached?.unload();
    await fresh?.unload();
  });

  it('a whole conversation: follow-ups, unicode and code, typed control tokens, a new image, regenerate, edit, the window sliding', async () => {
    await cached.resetCache();
    await wholeConversation(turn, imageA, imageB);
  });

  it('a typed <image> with a photo attached is text, the vision encoder runs, and the next turn works', async () => {
    await cached.resetCache();
    await typedControlTokens(turn, imageA);
  });

  it('an answer cut mid-character (token limit or Stop) continues exactly as a fresh start would', async () => {
    await cached.resetCache();
    await cutMidCharacter(turn, () => cutInsideTheCache(cached));
  });
});

/**
 * A cut where the answer ends inside a character AND the stored text ("…\uFFFD") encodes, inside the part
 * the KV cache holds (all but the last sampled token), to other tokens than were sampled: an engine that kept
 * its sampled tokens would feed the model something a fresh start does not.
 */
async function cutInsideTheCache(engine: VlmEngine): Promise<{ prompt: string; cut: number }> {
  const tokenizer: PreTrainedTokenizer = await AutoTokenizer.from_pretrained(MODEL_ID);
  for (const prompt of MID_CHARACTER_PROMPTS) {
    const base = { sessionId: 'probe', image: null, settings: { ...scriptSettings, maxNewTokens: 60 } };
    const out = await engine.generate({ ...base, messages: [user(prompt)] });
    const sampled = engine.cachedIdsFor('probe');
    const promptTokens = out.stats.promptTokens;
    for (let n = 2; n <= sampled.length - promptTokens; n++) {
      const text = tokenizer.decode(sampled.slice(promptTokens, promptTokens + n), { skip_special_tokens: true }).replace(/^ /, '');
      if (!text.endsWith('\uFFFD')) continue;
      const canonical = await engine.tokenize({ ...base, messages: [user(prompt), assistant(text), user('continue')] });
      const held = promptTokens + n - 1; // what the KV cache holds after a cut at n
      if (canonical.slice(0, held).some((id, i) => id !== sampled[i])) return { prompt, cut: n };
    }
  }
  return { prompt: '', cut: 0 };
}
