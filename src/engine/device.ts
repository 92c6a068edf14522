import type { DeviceChoice, DtypeMap } from './protocol';

/**
 * Where the model runs and at what precision.
 *
 * WebGPU only when `navigator.gpu.requestAdapter()` returns an adapter (`'gpu' in navigator` alone says
 * nothing: headless and blocklisted GPUs expose the object but no adapter). fp16 weights only where the
 * adapter has `shader-f16`; asking fp16 without it fails at session creation.
 */

interface GpuAdapterLike {
  features: { has(name: string): boolean };
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapterLike | null>;
}

const WASM_COST = 'Answers will be several times slower and use the processor instead of the graphics card.';

export async function chooseDevice(
  nav: object | undefined = typeof navigator === 'undefined' ? undefined : navigator,
): Promise<DeviceChoice> {
  const gpu = (nav as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) {
    return {
      device: 'wasm',
      fallback: true,
      shaderF16: false,
      reason: `This browser has no WebGPU, so Glimpse runs on WebAssembly. ${WASM_COST}`,
    };
  }
  let adapter: GpuAdapterLike | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    adapter = null;
  }
  if (!adapter) {
    return {
      device: 'wasm',
      fallback: true,
      shaderF16: false,
      reason: `WebGPU is present but no graphics adapter is available (disabled, blocklisted or headless), so Glimpse runs on WebAssembly. ${WASM_COST}`,
    };
  }
  const shaderF16 = adapter.features.has('shader-f16');
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture || info.description].filter(Boolean).join(' ') || 'your GPU';
  const software = info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
  return {
    device: 'webgpu',
    fallback: false,
    shaderF16,
    adapter: name,
    reason:
      `Running on WebGPU (${name}${software ? ', a software adapter: slower than a real GPU' : ''})` +
      (shaderF16 ? '.' : '; no 16-bit float support, so full-precision weights are used.'),
  };
}

/**
 * dtypes per device and per file. Keys must be exactly the ONNX file stems: a misspelled key is ignored
 * by transformers.js and silently loads fp32.
 * - WebGPU + shader-f16: fp16 vision and embeddings, q4f16 decoder (the smallest download that is fast).
 * - WebGPU without f16: fp32 vision and embeddings, q4 decoder (fp32 activations; q8 decoders are
 *   reported to produce gibberish on WebGPU, transformers.js #1317).
 * - WASM: q8 everywhere (int8 kernels are what WebAssembly SIMD is fast at).
 * - cpu (Node, onnxruntime-node): fp32, the reference.
 */
export function chooseDtypes(choice: Pick<DeviceChoice, 'device' | 'shaderF16'>): DtypeMap {
  switch (choice.device) {
    case 'webgpu':
      return choice.shaderF16
        ? { vision_encoder: 'fp16', embed_tokens: 'fp16', decoder_model_merged: 'q4f16' }
        : { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'q4' };
    case 'wasm':
      return { vision_encoder: 'q8', embed_tokens: 'q8', decoder_model_merged: 'q8' };
    case 'cpu':
      return { vision_encoder: 'fp32', embed_tokens: 'fp32', decoder_model_merged: 'fp32' };
  }
}

/** File-name suffix transformers.js appends for a dtype (as the hub names the files). */
export const DTYPE_SUFFIX: Record<DtypeMap[keyof DtypeMap], string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

/** The exact ONNX files a dtype map makes transformers.js request. */
export function expectedOnnxFiles(dtypes: DtypeMap): string[] {
  return (Object.keys(dtypes) as (keyof DtypeMap)[]).map((k) => `onnx/${k}${DTYPE_SUFFIX[dtypes[k]]}.onnx`);
}
