/**
 * The vision encoder reads a picture's frames in batches sized to the device (issue 21): the batching itself
 * (order, shapes, sizes from adapter limits), then the engine on the tiny model, fp32: a 17-frame picture read
 * one frame at a time gives the one-batch way's features, and the frames being read are reported as events.
 */
import { Tensor } from '@huggingface/transformers';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashBlob } from '../../../src/chat/images';
import { createHandler } from '../../../src/engine/handler';
import type { EngineResponse, GenerateInput, VisionProgress } from '../../../src/engine/protocol';
import {
  attentionBytesPerFrame,
  concatFrames,
  encodeInBatches,
  framesPerBatch,
  MAX_GPU_FRAMES,
  SIGLIP_512,
  visionShapeOf,
} from '../../../src/engine/vision-batches';
import { isError, EngineError } from '../../../src/errors';
import { assistant, scriptSettings, user } from '../../fixtures/cache-script';
import { FP32, loadTinyEngine } from '../../fixtures/engine';
import { makeImage } from '../../fixtures/images';

const MiB = 2 ** 20;

/** [1, n, 3, 2, 2] frames whose every value is the frame's index, and a [1, n, 2, 2] mask. */
function frames(n: number): { pixel_values: Tensor; pixel_attention_mask: Tensor } {
  const per = 3 * 2 * 2;
  const pixels = Float32Array.from({ length: n * per }, (_, i) => Math.floor(i / per));
  const mask = Uint8Array.from({ length: n * 4 }, (_, i) => (Math.floor(i / 4) % 2 === 0 ? 1 : 0));
  return { pixel_values: new Tensor('float32', pixels, [1, n, 3, 2, 2]), pixel_attention_mask: new Tensor('bool', mask, [1, n, 2, 2]) };
}

/** A stand-in encoder: [k, 2 tokens, 3 wide] features from each frame's index and mask; records each call. */
function fakeEncoder() {
  const calls: { pixels: number[]; mask: number[]; frameIds: number[]; extra: unknown }[] = [];
  const encode = async (inputs: Record<string, unknown>): Promise<Tensor> => {
    const p = inputs.pixel_values as Tensor;
    const m = inputs.pixel_attention_mask as Tensor;
    const k = p.dims[1]!;
    const ids = Array.from({ length: k }, (_, f) => (p.data as Float32Array)[f * 12]!);
    calls.push({ pixels: [...p.dims], mask: [...m.dims], frameIds: ids, extra: inputs.extra });
    const out = new Float32Array(k * 6);
    for (let f = 0; f < k; f++) for (let j = 0; j < 6; j++) out[f * 6 + j] = ids[f]! * 10 + j + (m.data as Uint8Array)[f * 4]! / 2;
    return new Tensor('float32', out, [k, 2, 3]);
  };
  return { calls, encode };
}

describe('how many frames the vision encoder reads at once', () => {
  it('one on WebAssembly and on the CPU, whatever the limits', () => {
    const big = { maxStorageBufferBindingSize: 4 * 2 ** 30, maxBufferSize: 4 * 2 ** 30 };
    expect(framesPerBatch('wasm', SIGLIP_512, big)).toBe(1);
    expect(framesPerBatch('cpu', SIGLIP_512, big)).toBe(1);
  });

  it('on WebGPU, as many as the smaller of the two buffer limits holds attention scores for', () => {
    // SigLIP-512/16: 12 heads × 1024² patches × 4 bytes = 48 MiB a frame.
    expect(attentionBytesPerFrame(SIGLIP_512)).toBe(48 * MiB);
    // WebGPU's defaults: 128 MiB per binding, 256 MiB per buffer → 2 frames.
    expect(framesPerBatch('webgpu', SIGLIP_512, { maxStorageBufferBindingSize: 128 * MiB, maxBufferSize: 256 * MiB })).toBe(2);
    expect(framesPerBatch('webgpu', SIGLIP_512, { maxStorageBufferBindingSize: 1024 * MiB, maxBufferSize: 200 * MiB })).toBe(4);
    // A phone GPU below one frame's scores still reads one frame (never zero), and a big GPU is capped.
    expect(framesPerBatch('webgpu', SIGLIP_512, { maxStorageBufferBindingSize: 32 * MiB, maxBufferSize: 32 * MiB })).toBe(1);
    expect(framesPerBatch('webgpu', SIGLIP_512, { maxStorageBufferBindingSize: 2 ** 32, maxBufferSize: 2 ** 34 })).toBe(MAX_GPU_FRAMES);
    // Limits unknown (no adapter seen from the worker): small.
    expect(framesPerBatch('webgpu', SIGLIP_512, null)).toBe(1);
  });

  it('reads the shape from config.json, SigLIP-512 where it says nothing', () => {
    expect(visionShapeOf({ vision_config: { num_attention_heads: 16, image_size: 384, patch_size: 14 } })).toMatchObject({ heads: 16, patches: 27 * 27 });
    expect(visionShapeOf({})).toEqual(SIGLIP_512);
  });
});

describe('encodeInBatches', () => {
  it('feeds [1, k, …] slices in order and concatenates the features exactly as one call would', async () => {
    const inputs = { ...frames(17), extra: 'kept' };
    const whole = fakeEncoder();
    const reference = await whole.encode(inputs);
    const batched = fakeEncoder();
    const seen: VisionProgress[] = [];
    const out = await encodeInBatches(inputs, batched.encode, { framesPerBatch: 4, onBatch: (p) => seen.push(p) });

    expect(batched.calls.map((c) => c.pixels)).toEqual([...Array(4).fill([1, 4, 3, 2, 2]), [1, 1, 3, 2, 2]]);
    expect(batched.calls.map((c) => c.mask)).toEqual([...Array(4).fill([1, 4, 2, 2]), [1, 1, 2, 2]]);
    expect(batched.calls.flatMap((c) => c.frameIds)).toEqual(Array.from({ length: 17 }, (_, i) => i));
    expect(batched.calls.every((c) => c.extra === 'kept')).toBe(true);
    expect(seen).toEqual([1, 5, 9, 13, 17].map((frame) => ({ frame, frames: 17 })));
    expect(out.dims).toEqual([17, 2, 3]);
    expect(Array.from(out.data as Float32Array)).toEqual(Array.from(reference.data as Float32Array));
  });

  it('one frame at a time reports every frame; a batch as large as the picture is one call', async () => {
    const one = fakeEncoder();
    const seen: number[] = [];
    await encodeInBatches(frames(5), one.encode, { framesPerBatch: 1, onBatch: (p) => seen.push(p.frame) });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(one.calls).toHaveLength(5);

    const all = fakeEncoder();
    const calls: VisionProgress[] = [];
    await encodeInBatches(frames(5), all.encode, { framesPerBatch: 8, onBatch: (p) => calls.push(p) });
    expect(all.calls).toHaveLength(1);
    expect(calls).toEqual([{ frame: 1, frames: 5 }]);
  });

  it('features of an unexpected shape are a named error, not a silent mix', () => {
    const a = new Tensor('float32', new Float32Array(6), [1, 2, 3]);
    const b = new Tensor('float32', new Float32Array(8), [1, 2, 4]);
    let err: unknown;
    try {
      concatFrames([a, b]);
    } catch (e) {
      err = e;
    }
    expect(isError(err, EngineError)).toBe(true);
    expect(String((err as Error).message)).toContain('[1, 2, 4]');
  });
});

describe('the engine reads a 17-frame picture one frame at a time (tiny model, fp32)', () => {
  let photo: { blob: Blob; hash: string };
  const input = (): GenerateInput => ({
    sessionId: 'v',
    messages: [user('What is in this picture?', true), assistant('A test.'), user('And the colours?')],
    image: photo,
    settings: { ...scriptSettings, imageDetail: 'high', maxNewTokens: 6 },
  });

  beforeAll(async () => {
    const blob = await makeImage('png', 512, 512, 3);
    photo = { blob, hash: await hashBlob(blob) };
  });

  it('gives the one-batch way’s features (float tolerance) and answer, reporting frame k of 17', async () => {
    const oneBatch = await loadTinyEngine(FP32, { visionFramesPerBatch: 17 });
    const whole = await oneBatch.generate(input(), { noCache: true });
    await oneBatch.unload();

    const engine = await loadTinyEngine(FP32);
    expect(engine.vision.frames).toBe(1); // the CPU reads one frame at a time
    const seen: VisionProgress[] = [];
    const framed = await engine.generate(input(), { noCache: true, onVision: (p) => seen.push(p) });
    expect(seen).toEqual(Array.from({ length: 17 }, (_, i) => ({ frame: i + 1, frames: 17 })));
    expect(framed.stats.visionRan).toBe(true);
    expect(framed.stats.visionMs).toBeGreaterThan(0);

    const a = whole.features!;
    const b = framed.features!;
    expect(b.dims).toEqual(a.dims);
    expect(b.dims[0]).toBe(17);
    let maxDiff = 0;
    for (let i = 0; i < a.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.data[i]! - b.data[i]!));
    expect(maxDiff).toBeLessThan(1e-4);
    expect(framed.text).toBe(whole.text);

    // The features kept with the picture are fed next time: the encoder does not run again, same answer.
    const again = await engine.generate({ ...input(), features: [b] }, { noCache: true, onVision: (p) => seen.push(p) });
    expect(again.stats).toMatchObject({ visionRan: false, featuresReused: true });
    expect(again.text).toBe(framed.text);
    expect(seen).toHaveLength(17);
    await engine.unload();
  });

  it('the worker handler sends the frames as typed vision events before the answer’s tokens', async () => {
    const messages: EngineResponse[] = [];
    const engine = await loadTinyEngine(FP32);
    const handle = createHandler((m) => messages.push(structuredClone(m)), engine);
    await handle({ id: 7, type: 'generate', input: input() });
    const vision = messages.filter((m) => m.type === 'vision');
    expect(vision.map((m) => (m.type === 'vision' ? `${m.frame}/${m.frames}` : ''))).toEqual(Array.from({ length: 17 }, (_, i) => `${i + 1}/17`));
    const firstToken = messages.findIndex((m) => m.type === 'token');
    expect(firstToken).toBeGreaterThan(messages.lastIndexOf(vision.at(-1)!));
    expect(messages.at(-1)).toMatchObject({ id: 7, type: 'done', call: 'generate' });
    await engine.unload();
  });
});
