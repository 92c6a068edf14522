import { Tensor } from '@huggingface/transformers';
import { EngineError } from '../errors';
import { visionShapeOf, type VisionShape } from './picture-memory';
import type { Device, VisionProgress } from './protocol';

export { visionShapeOf, type VisionShape };

/**
 * The vision encoder reads a picture's frames a few at a time. Its attention (MatMul + Softmax) holds
 * frames × heads × patches² float32 scores at once: at SigLIP-512/16 that is 48 MiB a frame, 816 MiB for the 17
 * frames of a picture at detail high, and WebAssembly memory never shrinks. Reading the frames in small
 * batches keeps the peak near one frame's, in the same time, and the features are concatenated back in the
 * processor's order (each frame's features depend on that frame alone).
 */

/** The WebGPU adapter limits a batch's buffers must fit in (ONNX Runtime asks the device for the adapter's). */
export interface GpuLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

/** SmolVLM-256M/500M's SigLIP: 12 heads, 512-pixel frames in 16-pixel patches. */
export const SIGLIP_512: VisionShape = visionShapeOf(null);

/** On a large GPU, still no more frames at once than this (beyond a few, batching gains nothing). */
export const MAX_GPU_FRAMES = 8;

/** Bytes of one frame's attention scores (float32), the largest tensor the encoder makes. */
export function attentionBytesPerFrame(shape: VisionShape): number {
  return shape.heads * shape.patches * shape.patches * 4;
}

/**
 * Frames per batch on a device: one on WebAssembly and Node's CPU (memory is the limit there, and one frame at
 * a time is as fast); on WebGPU as many as the adapter's buffer limits hold one attention-score tensor for,
 * at least one, at most MAX_GPU_FRAMES. Unknown limits count as small.
 */
export function framesPerBatch(device: Device, shape: VisionShape, limits: GpuLimits | null): number {
  if (device !== 'webgpu' || !limits) return 1;
  const fit = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const frames = Math.floor(fit / attentionBytesPerFrame(shape));
  return Math.max(1, Math.min(MAX_GPU_FRAMES, Number.isFinite(frames) ? frames : 1));
}

/** The adapter's limits as seen from here (the engine worker), or null without WebGPU. */
export async function readGpuLimits(): Promise<GpuLimits | null> {
  type Gpu = { requestAdapter(): Promise<{ limits: GpuLimits } | null> };
  const gpu = (globalThis as { navigator?: { gpu?: Gpu } }).navigator?.gpu;
  try {
    const adapter = await gpu?.requestAdapter();
    if (!adapter) return null;
    return { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize };
  } catch {
    return null;
  }
}

type TypedArray = Float32Array | Uint8Array | Uint16Array | Int32Array | BigInt64Array;
type EncodeFrames = (inputs: Record<string, unknown>) => Promise<Tensor>;

export interface BatchOptions {
  framesPerBatch: number;
  /** Called before each batch with the first frame it reads (1-based) and the picture's frame count. */
  onBatch?: (p: VisionProgress) => void;
}

/** Frames `from`..`to` (0-based, end excluded) of a [B, N, …] tensor, as [1, to - from, …] (B·N frames in order). */
export function framesOf(t: Tensor, from: number, to: number): Tensor {
  const [b = 1, n = 1, ...rest] = t.dims;
  const size = rest.reduce((a, d) => a * d, 1);
  if (to > b * n || from < 0 || from >= to) throw new EngineError(`Frames ${from}–${to} are outside a picture of ${b * n} frames.`);
  const data = t.data as TypedArray;
  return new Tensor(t.type, data.slice(from * size, to * size), [1, to - from, ...rest]);
}

/** Joins [k, …] tensors along the first axis, in order. */
export function concatFrames(parts: Tensor[]): Tensor {
  const first = parts[0];
  if (!first) throw new EngineError('The vision encoder returned nothing.');
  if (parts.length === 1) return first;
  const rest = first.dims.slice(1);
  let rows = 0;
  for (const p of parts) {
    if (p.type !== first.type || p.dims.length !== first.dims.length || p.dims.slice(1).some((d, i) => d !== rest[i])) {
      throw new EngineError(`The vision encoder returned features of shape [${p.dims.join(', ')}], not [k, ${rest.join(', ')}].`);
    }
    rows += p.dims[0]!;
  }
  const Ctor = (first.data as TypedArray).constructor as new (n: number) => TypedArray;
  const out = new Ctor(rows * rest.reduce((a, d) => a * d, 1));
  let at = 0;
  for (const p of parts) {
    const data = p.data as TypedArray;
    (out as Float32Array).set(data as Float32Array, at);
    at += data.length;
  }
  return new Tensor(first.type, out, [rows, ...rest]);
}

function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && Array.isArray((x as Tensor).dims) && ArrayBuffer.isView((x as Tensor).data);
}

/**
 * Runs `encode` (the model's own encode_image) on the picture's frames `framesPerBatch` at a time and
 * returns what one call on all of them returns: the features of every frame, in the processor's order.
 */
export async function encodeInBatches(inputs: Record<string, unknown>, encode: EncodeFrames, opts: BatchOptions): Promise<Tensor> {
  const pixels = inputs.pixel_values;
  const mask = inputs.pixel_attention_mask;
  if (!isTensor(pixels) || pixels.dims.length !== 5) return encode(inputs);
  const frames = pixels.dims[0]! * pixels.dims[1]!;
  const step = Math.max(1, Math.floor(opts.framesPerBatch));
  if (step >= frames) {
    opts.onBatch?.({ frame: 1, frames });
    return encode(inputs);
  }
  const parts: Tensor[] = [];
  for (let from = 0; from < frames; from += step) {
    const to = Math.min(frames, from + step);
    opts.onBatch?.({ frame: from + 1, frames });
    const batch: Record<string, unknown> = { ...inputs, pixel_values: framesOf(pixels, from, to) };
    if (isTensor(mask)) batch.pixel_attention_mask = framesOf(mask, from, to);
    parts.push(await encode(batch));
  }
  return concatFrames(parts);
}

/**
 * The engine's vision step: how many frames it reads at once on the loaded device, who hears which frame is
 * being read, and how long the last picture took.
 */
export class VisionBatcher {
  private deviceFrames = 1;
  private listener: ((p: VisionProgress) => void) | null = null;
  /** Milliseconds the last picture took in the vision encoder (0 until one ran). */
  lastMs = 0;

  /** `forced`: a fixed batch size (tests and benchmarks compare with the one-batch way), else the device's. */
  constructor(private forced: number | null = null) {}

  /** Frames per batch now. */
  get frames(): number {
    return this.forced ?? this.deviceFrames;
  }

  /** Sizes the batches for a model just loaded on `device` (reads the adapter's limits on WebGPU). */
  async configure(device: Device, config: unknown): Promise<void> {
    const limits = device === 'webgpu' ? await readGpuLimits() : null;
    this.deviceFrames = framesPerBatch(device, visionShapeOf(config), limits);
  }

  /** A fixed batch size, or null for the device's (benchmarks alternate the two on one loaded model). */
  force(frames: number | null): void {
    this.forced = frames;
  }

  /** Who hears the frames of the pictures read until the next call (null: nobody). */
  listen(listener: ((p: VisionProgress) => void) | null): void {
    this.listener = listener;
  }

  /** The model's encode_image, reading frames in batches. */
  wrap(encode: EncodeFrames): EncodeFrames {
    return async (inputs) => {
      const t0 = performance.now();
      try {
        return await encodeInBatches(inputs, encode, { framesPerBatch: this.frames, onBatch: (p) => this.listener?.(p) });
      } finally {
        this.lastMs = performance.now() - t0;
      }
    };
  }
}
