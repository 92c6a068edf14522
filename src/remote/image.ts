/**
 * The picture as the remote model receives it: downscaled for the chosen detail the way OpenAI's own
 * detail levels read it (more pixels would be resized away on their side and only cost upload time),
 * re-encoded (which also drops EXIF, such as where the photo was taken) and sent inline as a data: URL.
 *
 *  - low: one 512 px view → longest side at most 512.
 *  - auto / high: OpenAI fits the image in 2048×2048, then its shortest side to 768 → the same here.
 *
 * A photo (JPEG, WebP) goes as JPEG; a PNG or GIF (screenshots, drawings, transparency) as PNG, unless the
 * PNG is large, then JPEG. Never upscaled. Runs in the page (createImageBitmap, OffscreenCanvas).
 */
import type { ImageDetail } from '../chat/backend';
import { ImageUnreadableError } from '../errors';

export interface Size {
  width: number;
  height: number;
}

export const LOW_MAX_SIDE = 512;
export const HIGH_MAX_SIDE = 2048;
export const HIGH_MAX_SHORT_SIDE = 768;
/** A PNG larger than this is sent as JPEG instead. */
export const PNG_MAX_BYTES = 1.5 * 2 ** 20;
export const JPEG_QUALITY = 0.85;

/** The size the remote model gets for a picture of `width`×`height` at `detail` (whole pixels, at least 1). */
export function remoteImageSize(width: number, height: number, detail: ImageDetail): Size {
  const long = Math.max(width, height);
  const short = Math.min(width, height);
  const scale = detail === 'low'
    ? Math.min(1, LOW_MAX_SIDE / long)
    : Math.min(1, HIGH_MAX_SIDE / long, HIGH_MAX_SHORT_SIDE / short);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** The type to encode a picture of `sourceType` as: PNG keeps graphics sharp and transparent, JPEG keeps photos small. */
export const remoteImageType = (sourceType: string): 'image/png' | 'image/jpeg' =>
  sourceType === 'image/png' || sourceType === 'image/gif' ? 'image/png' : 'image/jpeg';

/** Turns a picture into the data: URL sent to the remote model (the browser's implementation is the default). */
export type ImageEncoder = (blob: Blob, detail: ImageDetail) => Promise<string>;

export const encodeForRemote: ImageEncoder = async (blob, detail) => {
  const bitmap = await createImageBitmap(blob);
  try {
    const { width, height } = remoteImageSize(bitmap.width, bitmap.height, detail);
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new ImageUnreadableError('This browser cannot draw the picture to resize it (no 2D canvas).');
    ctx.fillStyle = '#fff'; // transparent areas: white, not JPEG's black
    ctx.fillRect(0, 0, width, height);
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, width, height);
    const type = remoteImageType(blob.type);
    let out = await canvas.convertToBlob({ type, quality: JPEG_QUALITY });
    if (type === 'image/png' && out.size > PNG_MAX_BYTES) {
      out = await canvas.convertToBlob({ type: 'image/jpeg', quality: JPEG_QUALITY });
    }
    return await toDataUrl(out);
  } finally {
    bitmap.close();
  }
};

/** `data:<type>;base64,…` of a blob, in chunks (a spread of millions of bytes overflows the stack). */
export async function toDataUrl(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:${blob.type};base64,${btoa(s)}`;
}
