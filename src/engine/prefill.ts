import { Tensor } from '@huggingface/transformers';
import type { KvCache } from './kv-cache';
import type { ImageFeatures } from './protocol';
import type { Streamed, VisionStep } from './run';

/**
 * A picture's first turn prefills its 1,100 image tokens in chunks. The decoder export computes logits for
 * every prompt position ([1, tokens, 49,280] float32: 216 MB at 17 frames, and a q8 lm_head holds two or three
 * such tensors at once), so one pass over the whole prompt costs more memory than the vision encoder read a
 * frame at a time; chunks of PREFILL_CHUNK tokens bound it. Each chunk extends the KV cache as a follow-up turn
 * does (transformers.js is given the full ids, the cache, and the features of the image tokens in the chunk).
 */
export const PREFILL_CHUNK = 256;

/** One chunk: the prompt's first `end` tokens are in the cache after it; image-token rows `[rows[0], rows[1])`. */
export interface PrefillChunk {
  end: number;
  rows: [number, number];
}

/**
 * The chunks that prefill `ids` from `start` (the cached length), leaving the last 1..`size` tokens to the
 * answer's own generate call; none when the uncached part is not longer than `size`.
 */
export function prefillChunks(ids: readonly number[], start: number, imageTokenId: number, size = PREFILL_CHUNK): PrefillChunk[] {
  const chunks: PrefillChunk[] = [];
  if (!(size >= 1) || !Number.isFinite(size)) return chunks;
  let rows = 0;
  for (let from = start; ids.length - from > size; from += size) {
    const end = from + size;
    let n = 0;
    for (let i = from; i < end; i++) if (ids[i] === imageTokenId) n++;
    chunks.push({ end, rows: [rows, rows + n] });
    rows += n;
  }
  return chunks;
}

/** Rows `[from, to)` of a picture's features (one row per image token) as the features of a chunk. */
export function featureRows(f: ImageFeatures, from: number, to: number): ImageFeatures {
  const width = f.dims.at(-1)!;
  return { ...f, dims: [to - from, width], data: f.data.subarray(from * width, to * width) };
}

/** The vision step of the tokens after a chunked prefill: the image rows left, if any. */
export function restOf(f: ImageFeatures, chunks: PrefillChunk[]): VisionStep {
  const done = chunks.at(-1)?.rows[1] ?? 0;
  const total = f.data.length / f.dims.at(-1)!;
  return done < total ? { features: featureRows(f, done, total) } : null;
}

/** Features as the vision encoder returned them, for the picture's ImageFeatures. */
export function tensorData(t: Tensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
}

/**
 * Prefills `chunks` of `ids` onto `past` with `run` (a generate call for one token, never shown: the cache
 * after it holds the chunk, not the token). Returns the cache; on a failure the cache is the caller's to free.
 */
export async function prefill(
  ids: readonly number[],
  past: KvCache | null,
  features: ImageFeatures,
  chunks: PrefillChunk[],
  run: (ids: number[], past: KvCache | null, vision: VisionStep) => Promise<Streamed>,
  signal?: AbortSignal,
): Promise<KvCache | null> {
  let cache = past;
  for (const c of chunks) {
    if (signal?.aborted) break; // the answer's own call sees the abort and stops at once
    const vision: VisionStep = c.rows[1] > c.rows[0] ? { features: featureRows(features, c.rows[0], c.rows[1]) } : null;
    cache = (await run(ids.slice(0, c.end), cache, vision)).result.past_key_values;
  }
  return cache;
}
