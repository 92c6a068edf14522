import { Tensor } from '@huggingface/transformers';

/**
 * The model's KV cache as transformers.js returns it: `past_key_values.{i}.key/value` tensors of shape
 * [batch, kvHeads, positions, headDim], float32 or float16 (an fp16/q4f16 decoder's cache is float16:
 * Uint16Array data, or Float16Array where the platform has it), on the CPU or on the GPU.
 */
export type KvCache = Record<string, Tensor> & { dispose(): Promise<void> };

type TypedArray = Float32Array | Uint16Array | Float64Array | Int32Array;
type TypedArrayCtor = new (length: number) => TypedArray;

/** Positions the cache covers. */
export function pastLengthOf(past: KvCache): number {
  for (const [k, t] of Object.entries(past)) {
    if (k.startsWith('past_key_values.') && t instanceof Tensor) return t.dims.at(-2) ?? 0;
  }
  return 0;
}

/** The tensor's elements on the CPU (downloaded when it lives on the GPU), in their own element type. */
async function cpuData(t: Tensor): Promise<TypedArray> {
  if (t.location === 'gpu-buffer') {
    const ort = (t as unknown as { ort_tensor: { getData(): Promise<TypedArray> } }).ort_tensor;
    return ort.getData();
  }
  return t.data as TypedArray;
}

/** A copy of one [b, h, seq, d] tensor keeping the first `length` positions, same type and element array. */
async function sliceTensor(t: Tensor, length: number): Promise<Tensor> {
  const [b = 1, h = 1, seq = 0, d = 0] = t.dims;
  const data = await cpuData(t);
  const out = new (data.constructor as TypedArrayCtor)(b * h * length * d);
  for (let bh = 0; bh < b * h; bh++) {
    out.set(data.subarray(bh * seq * d, bh * seq * d + length * d), bh * length * d);
  }
  return new Tensor(t.type, out as Float32Array, [b, h, length, d]);
}

/**
 * The cache cut to its first `length` positions. The original is disposed either way: generate() mutates a
 * cache in place, so a half-used one must never be fed again.
 */
export async function sliceCache(past: KvCache, length: number): Promise<KvCache> {
  try {
    const entries: Record<string, Tensor> = {};
    for (const [name, t] of Object.entries(past)) {
      if (t instanceof Tensor) entries[name] = await sliceTensor(t, length);
    }
    const Ctor = past.constructor as new (e: Record<string, Tensor>) => KvCache;
    return new Ctor(entries);
  } finally {
    await disposeCache(past);
  }
}

export async function disposeCache(past: KvCache | null | undefined): Promise<void> {
  await past?.dispose().catch(() => undefined);
}
