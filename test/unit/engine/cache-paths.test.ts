/**
 * Cached answers equal fresh answers on every dtype path the app requests, on the faithful test model
 * (real tokenizer and chat template; fp16/q4f16 decoders with a float16 KV cache; 4-bit and 8-bit graphs).
 * Node runs each path's files on onnxruntime's CPU provider; test/browser/engine runs WASM and WebGPU.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { hashBlob } from '../../../src/chat/images';
import { VlmEngine } from '../../../src/engine/engine';
import type { DtypeMap } from '../../../src/engine/protocol';
import { cutMidCharacter, turnOn, typedControlTokens, wholeConversation, type Picture } from '../../fixtures/cache-script';
import { makeImage } from '../../fixtures/images';
import { ensureTinyModel, MODEL_ID } from '../../fixtures/model/ensure';

const all = (d: DtypeMap['decoder_model_merged']): DtypeMap => ({ vision_encoder: d, embed_tokens: d, decoder_model_merged: d });
const PATHS: [string, DtypeMap][] = [
  ['fp32 (Node, the reference)', all('fp32')],
  ['WebGPU + shader-f16 files (fp16 vision/embeddings, q4f16 decoder)', { vision_encoder: 'fp16', embed_tokens: 'fp16', decoder_model_merged: 'q4f16' }],
  ['fp16 everywhere', all('fp16')],
  ['WebGPU without f16 files (fp32 vision/embeddings, q4 decoder)', { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'q4' }],
  ['WASM files (q8 everywhere)', all('q8')],
];

let root: string;
let imageA: Picture;
let imageB: Picture;

beforeAll(async () => {
  root = await ensureTinyModel();
  const a = await makeImage('png', 300, 200, 1);
  const b = await makeImage('jpeg', 200, 300, 5);
  imageA = { blob: a, hash: await hashBlob(a) };
  imageB = { blob: b, hash: await hashBlob(b) };
});

async function loaded(dtypes: DtypeMap): Promise<VlmEngine> {
  const e = new VlmEngine();
  await e.load({ model: MODEL_ID, device: 'cpu', dtypes, source: { kind: 'local', localModelPath: root } });
  return e;
}

describe.each(PATHS)('cached == fresh: %s', (_name, dtypes) => {
  let cached: VlmEngine;
  let fresh: VlmEngine;
  const turn = turnOn((i) => cached.generate(i), (i) => fresh.generate(i, { noCache: true }));
  beforeAll(async () => {
    [cached, fresh] = [await loaded(dtypes), await loaded(dtypes)];
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
    await cutMidCharacter(turn, (i) => fresh.generate(i, { noCache: true }));
  });
});
