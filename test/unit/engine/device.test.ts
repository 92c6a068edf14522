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

  it('Auto does not pick a software adapter: WebAssembly is faster than a GPU emulated on the processor', async () => {
    const swiftshader = { requestAdapter: async () => adapter([], { vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true }) };
    const choice = await chooseDevice({ gpu: swiftshader });
    expect(choice).toMatchObject({ device: 'wasm', fallback: true, cause: 'software-adapter', software: true, adapter: 'google swiftshader' });
    expect(choice.reason).toMatch(/software one/);
    expect(choice.reason).toMatch(/Choose GPU in Settings/);
    // Older browsers put isFallbackAdapter on the adapter itself, not on adapter.info.
    const older = { requestAdapter: async () => ({ features: new Set<string>(), isFallbackAdapter: true }) };
    expect(await chooseDevice({ gpu: older })).toMatchObject({ device: 'wasm', cause: 'software-adapter' });
  });

  it('GPU (asked for in Settings) takes the software adapter, and says so', async () => {
    const gpu = { requestAdapter: async () => adapter([], { vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true }) };
    const choice = await chooseDevice({ gpu }, { prefer: 'webgpu' });
    expect(choice).toMatchObject({ device: 'webgpu', fallback: false, cause: 'chosen', software: true, shaderF16: false });
    expect(choice.reason).toMatch(/software adapter/);
    expect(choice.reason).toMatch(/full-precision/);
  });

  it('GPU with no adapter still falls back to WebAssembly, saying the choice could not be honoured', async () => {
    const choice = await chooseDevice({ gpu: { requestAdapter: async () => null } }, { prefer: 'webgpu' });
    expect(choice).toMatchObject({ device: 'wasm', fallback: true, cause: 'no-adapter' });
    expect(choice.reason).toMatch(/^You chose the GPU in Settings, but WebGPU is present/);
    expect((await chooseDevice({}, { prefer: 'webgpu' })).reason).toMatch(/^You chose the GPU in Settings, but this browser has no WebGPU/);
  });

  it('CPU (WebAssembly) never asks for an adapter, and is not a fallback', async () => {
    let asked = 0;
    const gpu = { requestAdapter: async () => (asked++, adapter(['shader-f16'])) };
    expect(await chooseDevice({ gpu }, { prefer: 'wasm' })).toMatchObject({ device: 'wasm', fallback: false, cause: 'chosen' });
    expect(asked).toBe(0);
  });

  it('Auto takes a hardware adapter', async () => {
    const gpu = { requestAdapter: async () => adapter(['shader-f16'], { vendor: 'nvidia', architecture: 'ampere', isFallbackAdapter: false }) };
    expect(await chooseDevice({ gpu })).toMatchObject({ device: 'webgpu', cause: 'gpu', software: false, shaderF16: true });
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
