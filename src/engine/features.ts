import { Tensor } from '@huggingface/transformers';
import type { ImageDetail } from '../chat/backend';
import type { ImageFeatures } from './protocol';

/**
 * Image features: the vision encoder's output for a picture, computed once per picture, model, vision dtype
 * and detail. The engine keeps recent ones in memory; callers store them with the picture and hand them
 * back, and anything that does not fit exactly (another encoder, a truncated or altered blob) is ignored
 * and recomputed, never fed to the model.
 */

const MEMORY_ENTRIES = 8;

/**
 * Which encoder made features: they are only valid for exactly that one. The frames it read at once are part
 * of it: quantized encoders (q8) pick one activation scale per batch, so features read a frame at a time differ
 * slightly from one batch's, and a cached answer must equal a fresh one.
 */
export function featureKey(model: string, visionDtype: string, detail: ImageDetail, framesPerBatch = 1): string {
  return `${model}|${visionDtype}|${detail}|${framesPerBatch}f`;
}

/** Frames the processor makes for a tile grid: the tiles and one global frame, or just the global one. */
function framesOf(rows: number, cols: number): number {
  return rows === 0 && cols === 0 ? 1 : rows * cols + 1;
}

/** True when `f` can be fed as-is: right encoder, shape consistent with its grid, data complete. */
export function isUsable(f: ImageFeatures, key: string, tokensPerFrame: number, hidden: number): boolean {
  if (f.key !== key || !(f.data instanceof Float32Array)) return false;
  if (!Number.isInteger(f.rows) || !Number.isInteger(f.cols) || f.rows < 0 || f.cols < 0 || f.rows > 8 || f.cols > 8) return false;
  const [frames, tokens, width] = f.dims;
  if (f.dims.length !== 3 || frames !== framesOf(f.rows, f.cols) || tokens !== tokensPerFrame || width !== hidden) return false;
  return f.data.length === frames * tokens * width;
}

export function featuresTensor(f: ImageFeatures): Tensor {
  return new Tensor('float32', f.data, f.dims);
}

/** Recent pictures' features in memory, by picture hash and encoder key (least recently used dropped). */
export class FeatureMemory {
  private readonly entries = new Map<string, ImageFeatures>();

  get(hash: string, key: string): ImageFeatures | null {
    const id = `${hash}|${key}`;
    const f = this.entries.get(id);
    if (!f) return null;
    this.entries.delete(id); // most recently used goes last
    this.entries.set(id, f);
    return f;
  }

  put(hash: string, f: ImageFeatures): void {
    const id = `${hash}|${f.key}`;
    this.entries.delete(id);
    this.entries.set(id, f);
    for (const old of this.entries.keys()) {
      if (this.entries.size <= MEMORY_ENTRIES) break;
      this.entries.delete(old);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
