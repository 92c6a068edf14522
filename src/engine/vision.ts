import { RawImage, type Processor, type Tensor } from '@huggingface/transformers';
import type { ImageDetail } from '../chat/backend';
import { ImageUnreadableError } from '../errors';
import { errorText, isOutOfMemory } from './error-facts';
import { planImage } from './image';

/** What the Idefics3 image processor gives for one picture: the frames, and the tile grid. */
export interface ImageInputs {
  pixel_values: Tensor;
  pixel_attention_mask: Tensor;
  rows: number[][];
  cols: number[][];
}

/** Decodes a picture and cuts it into the frames the vision encoder reads, at a detail level. */
export async function prepareImage(processor: Processor, blob: Blob, detail: ImageDetail): Promise<ImageInputs> {
  let image: RawImage;
  try {
    image = await RawImage.fromBlob(blob);
  } catch (err) {
    // Memory that ran out while decoding is not a damaged file: the caller names it (OutOfMemoryError).
    if (isOutOfMemory(err, errorText(err))) throw err;
    throw new ImageUnreadableError('The model could not read this image; it may be damaged. Try another file.', {
      cause: String(err),
    });
  }
  const plan = planImage(image.width, image.height, detail);
  const ip = processor.image_processor as unknown as {
    size: { longest_edge: number };
    (img: RawImage, o: { do_image_splitting: boolean; return_row_col_info: boolean }): Promise<ImageInputs>;
  };
  // The processor resizes the longest edge to size.longest_edge; "auto" must not upscale small images.
  const saved = ip.size;
  ip.size = { ...saved, longest_edge: plan.longestEdge };
  try {
    return await ip(image, { do_image_splitting: plan.doImageSplitting, return_row_col_info: true });
  } finally {
    ip.size = saved;
  }
}

/** The processor's tile grid for a prepared picture (0 × 0: one global frame). */
export function gridOf(inputs: ImageInputs): { rows: number; cols: number } {
  return { rows: inputs.rows[0]?.[0] ?? 0, cols: inputs.cols[0]?.[0] ?? 0 };
}

/** The processor's own expansion of one `<image>` placeholder (tiles, then the global frame). */
export function imagePromptString(rows: number, cols: number, tokensPerFrame: number): string {
  const fake = '<fake_token_around_image>';
  const img = '<image>'.repeat(tokensPerFrame);
  const global = `${fake}<global-img>${img}${fake}`;
  if (rows === 0 && cols === 0) return global;
  let out = '';
  for (let r = 1; r <= rows; r++) {
    for (let c = 1; c <= cols; c++) out += `${fake}<row_${r}_col_${c}>${img}`;
    out += '\n';
  }
  return `${out}\n${global}`;
}
