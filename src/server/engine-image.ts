/**
 * The picture as the inference server gets it: a data URL of a JPEG or a PNG, the two formats every server
 * decodes. llama.cpp's llama-server reads images with stb_image (JPEG, PNG, GIF, BMP; no WebP), vLLM with
 * Pillow. A JPEG or a PNG goes byte for byte as uploaded; anything else is decoded by sharp and sent as a still
 * of its first frame (an animated GIF or WebP is a still for the model anyway): a JPEG (quality 90) when it has
 * no transparency — a photo, like the lossy WebP most are — else a lossless PNG. A 4000×3000 photo-like WebP
 * as PNG was 8.2 MB on the wire; as JPEG about 1 MB.
 *
 * sharp is imported on the first conversion only, as engines.ts does.
 */
import { sniff } from '../chat/images';
import { ImageUnreadableError } from '../errors';

const AS_IS = new Set(['image/jpeg', 'image/png']);

const dataUrl = (type: string, bytes: Uint8Array) => `data:${type};base64,${Buffer.from(bytes).toString('base64')}`;

/** The bytes' type (never the file's label when the bytes say otherwise), else the blob's. */
function typeOf(blob: Blob, bytes: Uint8Array): string {
  return sniff(bytes) ?? blob.type;
}

/** The first frame as a JPEG, or a PNG when it has transparency (sharp reads one page unless asked for more). */
async function toStill(bytes: Uint8Array, type: string): Promise<{ type: string; bytes: Uint8Array }> {
  const { default: sharp } = await import('sharp');
  try {
    const image = sharp(bytes);
    const { hasAlpha } = await image.metadata();
    if (hasAlpha) return { type: 'image/png', bytes: new Uint8Array(await image.png().toBuffer()) };
    return { type: 'image/jpeg', bytes: new Uint8Array(await image.jpeg({ quality: 90 }).toBuffer()) };
  } catch (err) {
    const what = type.startsWith('image/') ? `This ${type.slice(6).toUpperCase()} image` : 'This image';
    throw new ImageUnreadableError(`${what} could not be converted to JPEG or PNG for the inference server; send it as a JPEG or PNG.`,
      { mime: type }, { cause: err });
  }
}

/** The image as a data URL: JPEG and PNG unchanged, any other type as a JPEG or PNG still. */
export async function imageDataUrl(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  const type = typeOf(blob, bytes);
  if (AS_IS.has(type)) return dataUrl(type, bytes);
  const still = await toStill(bytes, type);
  return dataUrl(still.type, still.bytes);
}

/**
 * imageDataUrl with the last conversion kept: a session's follow-ups send its picture again on every turn
 * (the server keeps no session), and a 12-megapixel WebP takes seconds to re-encode. One entry, so memory
 * stays at one picture; the REST API sends one turn at a time.
 */
export class EngineImages {
  private last: { hash: string; url: Promise<string> } | null = null;

  dataUrl(image: { blob: Blob; hash: string }): Promise<string> {
    if (this.last?.hash === image.hash) return this.last.url;
    const url = imageDataUrl(image.blob);
    const entry = { hash: image.hash, url };
    this.last = entry;
    url.catch(() => {
      if (this.last === entry) this.last = null;
    });
    return url;
  }
}
