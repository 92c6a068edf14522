import { describe, expect, it } from 'vitest';
import { chooseDevice, chooseDtypes, expectedOnnxFiles } from '../../../src/engine/device';

const adapter = (features: string[], info: Record<string, unknown> = {}) => ({
  features: new Set(features),
  info,
});

describe('chooseDevice', () => {
  it('WebGPU only when requestAdapter gives an adapter', async () => {
    const gpu = { requestAdapter: async () => adapter(['shader-f16'], { vendor: 'acme', architecture: 'rdna' }) };
    expect(await chooseDevice({ gpu })).toMatchObject({ device: 'webgpu', shaderF16: true, fallback: false, adapter: 'acme rdna' });
  });

  it('falls back to WASM, saying why, when navigator.gpu exists but has no adapter', async () => {
    const choice = await chooseDevice({ gpu: { requestAdapter: async () => null } });
    expect(choice).toMatchObject({ device: 'wasm', fallback: true });
    expect(choice.reason).toMatch(/no graphics adapter/);
    expect(choice.reason).toMatch(/slower/);
  });

  it('falls back to WASM without navigator.gpu, and when requestAdapter throws', async () => {
    expect((await chooseDevice({})).reason).toMatch(/no WebGPU/);
    const throwing = { requestAdapter: async () => { throw new Error('blocked'); } };
    expect((await chooseDevice({ gpu: throwing })).device).toBe('wasm');
  });

  it('a software adapter is named as such', async () => {
    const gpu = { requestAdapter: async () => adapter([], { vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true }) };
    const choice = await chooseDevice({ gpu });
    expect(choice.shaderF16).toBe(false);
    expect(choice.reason).toMatch(/software adapter/);
    expect(choice.reason).toMatch(/full-precision/);
  });
});

describe('the exact files each device requests', () => {
  it('WebGPU with shader-f16', () => {
    expect(expectedOnnxFiles(chooseDtypes({ device: 'webgpu', shaderF16: true }))).toEqual([
      'onnx/vision_encoder_fp16.onnx',
      'onnx/embed_tokens_fp16.onnx',
      'onnx/decoder_model_merged_q4f16.onnx',
    ]);
  });
  it('WebGPU without shader-f16 never asks fp16', () => {
    expect(expectedOnnxFiles(chooseDtypes({ device: 'webgpu', shaderF16: false }))).toEqual([
      'onnx/vision_encoder.onnx',
      'onnx/embed_tokens.onnx',
      'onnx/decoder_model_merged_q4.onnx',
    ]);
  });
  it('WASM', () => {
    expect(expectedOnnxFiles(chooseDtypes({ device: 'wasm', shaderF16: false }))).toEqual([
      'onnx/vision_encoder_quantized.onnx',
      'onnx/embed_tokens_quantized.onnx',
      'onnx/decoder_model_merged_quantized.onnx',
    ]);
  });
});
