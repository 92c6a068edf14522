import type { DeviceChoice, DevicePreference, DtypeMap } from './protocol';

/**
 * Where the model runs and at what precision.
 *
 * WebGPU only when `navigator.gpu.requestAdapter()` returns an adapter (`'gpu' in navigator` alone says
 * nothing: headless and blocklisted GPUs expose the object but no adapter). fp16 weights only where the
 * adapter has `shader-f16`; asking fp16 without it fails at session creation.
 *
 * Auto never picks a software adapter (`isFallbackAdapter`, e.g. SwiftShader in VMs, headless Chromium and
 * Linux without GPU drivers): it emulates a GPU on the processor and measured 0.6 tokens/s where WebAssembly
 * on the same machine gave 24. The user can still ask for it (Settings → Device → GPU).
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

const wasm = (cause: NonNullable<DeviceChoice['cause']>, reason: string, fallback = true): DeviceChoice => ({
  device: 'wasm',
  fallback,
  shaderF16: false,
  cause,
  reason,
});

export interface ChooseDeviceOptions {
  /** What the user asked for in Settings (default Auto). */
  prefer?: DevicePreference;
}

export async function chooseDevice(
  nav: object | undefined = typeof navigator === 'undefined' ? undefined : navigator,
  { prefer = 'auto' }: ChooseDeviceOptions = {},
): Promise<DeviceChoice> {
  if (prefer === 'wasm') return wasm('chosen', 'Running on WebAssembly (the processor), as chosen in Settings.', false);
  const asked = prefer === 'webgpu' ? 'You chose the GPU in Settings, but ' : '';
  const gpu = (nav as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) {
    return wasm('no-webgpu', `${asked ? `${asked}this` : 'This'} browser has no WebGPU, so Glimpse runs on WebAssembly. ${WASM_COST}`);
  }
  const adapter = await requestAdapter(gpu);
  if (!adapter) {
    return wasm(
      'no-adapter',
      `${asked}WebGPU is present but no graphics adapter is available (disabled, blocklisted or headless), so Glimpse runs on WebAssembly. ${WASM_COST}`,
    );
  }
  const shaderF16 = adapter.features.has('shader-f16');
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture || info.description].filter(Boolean).join(' ') || 'your GPU';
  const software = info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
  if (software && prefer === 'auto') {
    const choice = wasm(
      'software-adapter',
      `The only WebGPU adapter here (${name}) is a software one that emulates a GPU on the processor, slower than ` +
        'WebAssembly, so Glimpse runs on WebAssembly. Choose GPU in Settings to use it anyway.',
    );
    return { ...choice, adapter: name, software: true };
  }
  return {
    device: 'webgpu',
    fallback: false,
    shaderF16,
    adapter: name,
    software,
    cause: prefer === 'webgpu' ? 'chosen' : 'gpu',
    reason:
      `Running on WebGPU (${name}${software ? ', a software adapter: slower than a real GPU' : ''})` +
      (prefer === 'webgpu' ? ', as chosen in Settings' : '') +
      (shaderF16 ? '.' : '; no 16-bit float support, so full-precision weights are used.'),
  };
}

async function requestAdapter(gpu: GpuLike): Promise<GpuAdapterLike | null> {
  try {
    return await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    return null;
  }
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
