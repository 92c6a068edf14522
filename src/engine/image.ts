import type { ImageDetail } from '../chat/backend';

/**
 * Image detail: how many image tokens SmolVLM spends on a picture. The Idefics3 processor first resizes
 * the longest edge to `size.longest_edge`, then (with splitting) rounds each side up to a multiple of the
 * 512-px tile and cuts it into tiles plus one downscaled global frame; every frame costs 64 tokens.
 *
 *   low  - one 512 frame, 64 tokens.
 *   auto - tiles, but never upscaled past the image's own pixels (a 512×512 photo stays one frame).
 *   high - the model's default: the longest edge is upscaled to 2048, up to 4×4 tiles + 1 = 17 frames.
 */

export const TILE = 512;
export const TOKENS_PER_FRAME = 64;
export const HIGH_LONGEST_EDGE = 2048;

export interface ImagePlan {
  /** Processor options for this call. */
  doImageSplitting: boolean;
  /** size.longest_edge the processor resizes to. */
  longestEdge: number;
  rows: number;
  cols: number;
  frames: number;
  tokens: number;
}

/** The longest edge an image is resized to before tiling, for a detail level. */
export function longestEdgeFor(width: number, height: number, detail: ImageDetail): number {
  if (detail === 'high') return HIGH_LONGEST_EDGE;
  if (detail === 'low') return TILE;
  const side = Math.max(width, height);
  return Math.min(HIGH_LONGEST_EDGE, Math.max(TILE, Math.ceil(side / TILE) * TILE));
}

/** The frames and tokens an image of this size costs at a detail level (mirrors the processor's math). */
export function planImage(width: number, height: number, detail: ImageDetail): ImagePlan {
  const longestEdge = longestEdgeFor(width, height, detail);
  if (detail === 'low') {
    return { doImageSplitting: false, longestEdge, rows: 0, cols: 0, frames: 1, tokens: TOKENS_PER_FRAME };
  }
  // Resize so the longest edge is `longestEdge`, keeping the aspect ratio.
  const scale = longestEdge / Math.max(width, height);
  let w = Math.max(1, Math.round(width * scale));
  let h = Math.max(1, Math.round(height * scale));
  // Round both sides up to whole tiles, as Idefics3ImageProcessor.get_resize_for_vision_encoder does.
  const aspect = w / h;
  if (w >= h) {
    w = Math.ceil(w / TILE) * TILE;
    h = Math.ceil(Math.floor(w / aspect) / TILE) * TILE;
  } else {
    h = Math.ceil(h / TILE) * TILE;
    w = Math.ceil(Math.floor(h * aspect) / TILE) * TILE;
  }
  const rows = Math.max(1, h / TILE);
  const cols = Math.max(1, w / TILE);
  const split = rows * cols > 1;
  const frames = split ? rows * cols + 1 : 1;
  return {
    doImageSplitting: true,
    longestEdge,
    rows: split ? rows : 0,
    cols: split ? cols : 0,
    frames,
    tokens: frames * TOKENS_PER_FRAME,
  };
}
