/**
 * The picture as the inference server gets it: a data URL of a JPEG or a PNG, the two formats every server
 * decodes. llama.cpp's llama-server reads images with stb_image (JPEG, PNG, GIF, BMP; no WebP), vLLM with
 * Pillow. A JPEG or a PNG goes byte for byte as uploaded; anything else is decoded by sharp and sent as a still
 * of its first frame (an animated GIF or WebP is a still for the model anyway): a JPEG (quality 90) when it has
 * no transparency — a photo, like the lossy WebP most are — else a lossless PNG. A 4000×3000 photo-like WebP
 * as PNG was 8.2 MB on the wire; as JPEG about 1 MB.
 *
 * Image detail (GLIMPSE_IMAGE_DETAIL) is honoured by size: a picture larger than the detail's longest edge (low
 * 512, auto 2048, as the local engine's plan in src/engine/image.ts) is downscaled to it before it is sent,
 * in its own format when that is JPEG or PNG. The server still tiles what it gets its own way (llama.cpp's
 * SmolVLM projector resizes every picture to a 2048 longest edge unless `--image-max-tokens` limits it).
 *
 * sharp is imported on the first conversion only, as engines.ts does.
 */
import type { ImageDetail } from '../chat/backend';
import { sniff } from '../chat/images';
import { HIGH_LONGEST_EDGE, TILE } from '../engine/image';
import { ImageUnreadableError } from '../errors';

/** The longest edge sent for a detail level; null: the picture as it is. */
export function sentLongestEdge(detail: ImageDetail): number | null {
  if (detail === 'low') return TILE;
  if (detail === 'auto') return HIGH_LONGEST_EDGE;
  return null;
}

const AS_IS = new Set(['image/jpeg', 'image/png']);

const dataUrl = (type: string, bytes: Uint8Array) => `data:${type};base64,${Buffer.from(bytes).toString('base64')}`;

/** The bytes' type (never the file's label when the bytes say otherwise), else the blob's. */
function typeOf(blob: Blob, bytes: Uint8Array): string {
  return sniff(bytes) ?? blob.type;
}

/**
 * The first frame as a JPEG, or a PNG when it has transparency (sharp reads one page unless asked for more),
 * no larger than `maxEdge`; null when it is a JPEG or PNG already within it (sent as uploaded).
 */
async function toStill(bytes: Uint8Array, type: string, maxEdge: number | null): Promise<{ type: string; bytes: Uint8Array } | null> {
  const { default: sharp } = await import('sharp');
  try {
    let image = sharp(bytes);
    const { hasAlpha, width = 0, height = 0 } = await image.metadata();
    const shrink = maxEdge !== null && Math.max(width, height) > maxEdge;
    if (AS_IS.has(type) && !shrink) return null;
    if (shrink) image = image.resize({ width: maxEdge, height: maxEdge, fit: 'inside' });
    if (type === 'image/png' || hasAlpha) return { type: 'image/png', bytes: new Uint8Array(await image.png().toBuffer()) };
    return { type: 'image/jpeg', bytes: new Uint8Array(await image.jpeg({ quality: 90 }).toBuffer()) };
  } catch (err) {
    const what = type.startsWith('image/') ? `This ${type.slice(6).toUpperCase()} image` : 'This image';
    throw new ImageUnreadableError(`${what} could not be converted to JPEG or PNG for the inference server; send it as a JPEG or PNG.`,
      { mime: type }, { cause: err });
  }
}

/** The image as a data URL: JPEG and PNG within the detail's size unchanged, anything else as a JPEG or PNG still. */
export async function imageDataUrl(blob: Blob, detail: ImageDetail = 'high'): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const type = typeOf(blob, bytes);
  const still = await toStill(bytes, type, sentLongestEdge(detail));
  return still ? dataUrl(still.type, still.bytes) : dataUrl(type, bytes);
}

/**
 * imageDataUrl with the last conversion kept: a session's follow-ups send its picture again on every turn
 * (the server keeps no session), and a 12-megapixel WebP takes seconds to re-encode. One entry, so memory
 * stays at one picture; the REST API sends one turn at a time.
 */
export class EngineImages {
  private last: { key: string; url: Promise<string> } | null = null;

  dataUrl(image: { blob: Blob; hash: string }, detail: ImageDetail = 'high'): Promise<string> {
    const key = `${image.hash}:${detail}`;
    if (this.last?.key === key) return this.last.url;
    const url = imageDataUrl(image.blob, detail);
    const entry = { key, url };
    this.last = entry;
    url.catch(() => {
      if (this.last === entry) this.last = null;
    });
    return url;
  }
}
