import { ImageTooLargeError, ImageUnreadableError, UnsupportedImageError } from '../errors';
import { gifFrames, pngFrames, webpFrames, type Frame, type Frames } from './frames';

/**
 * Checks an image before anything is stored or sent to the model: the real type from its first bytes
 * (never the file name or the claimed MIME type), and the pixel size of every frame from the file's
 * structure, without decoding it (a PNG that claims 30000×30000, or a 35-byte GIF whose 10×10 screen holds a
 * 16000×16000 frame, must be refused before a decoder allocates gigabytes).
 */

export interface ImageLimits {
  /** Largest file accepted, in bytes. */
  maxBytes: number;
  /** Largest width or height accepted, in pixels. */
  maxSide: number;
  /** Largest pixel count accepted. */
  maxPixels: number;
  /** The types this reader decodes (default: all of {@link IMAGE_MIMES}, the page's); every refusal names them. */
  types?: readonly ImageMime[];
  /** Who reads them, in the refusals (default "Glimpse"; the REST API says "The REST API"). */
  reader?: string;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = {
  maxBytes: 20 * 1024 * 1024,
  maxSide: 12_000,
  maxPixels: 50_000_000,
};

export type ImageMime = 'image/jpeg' | 'image/png' | 'image/webp' | 'image/gif' | 'image/bmp';

export interface ImageInfo {
  mime: ImageMime;
  width: number;
  height: number;
  /** An animated GIF/PNG/WebP: only its first frame is used. */
  animated: boolean;
  size: number;
}

/** Every type the header check knows; the page reads them all (the browser decodes), each server says which it reads. */
export const IMAGE_MIMES: readonly ImageMime[] = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/bmp'];

const FORMAT_NAMES: Record<ImageMime, string> = {
  'image/jpeg': 'JPEG', 'image/png': 'PNG', 'image/webp': 'WebP', 'image/gif': 'GIF', 'image/bmp': 'BMP',
};

/** The formats' names as a person reads them: "JPEG, PNG, WebP and GIF" (`or` for "not … or …"). */
export function formatNames(types: readonly ImageMime[], last: 'and' | 'or' = 'and'): string {
  const names = types.map((t) => FORMAT_NAMES[t]);
  return names.length < 2 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} ${last} ${names.at(-1)!}`;
}

/** "Glimpse reads JPEG, PNG, WebP, GIF and BMP images.", from the limits' own list. */
export function readsHint(limits: Pick<ImageLimits, 'types' | 'reader'>): string {
  return `${limits.reader ?? 'Glimpse'} reads ${formatNames(limits.types ?? IMAGE_MIMES)} images.`;
}

export async function inspectImage(blob: Blob, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<ImageInfo> {
  if (blob.size === 0) {
    throw new ImageUnreadableError('This file is empty (0 bytes). Choose the image again.', { size: 0 });
  }
  if (blob.size > limits.maxBytes) {
    throw new ImageTooLargeError(
      `This image is ${mb(blob.size)}; the limit is ${mb(limits.maxBytes)}. Resize or compress it and try again.`,
      { size: blob.size, maxBytes: limits.maxBytes },
    );
  }
  // JPEG's and BMP's size sit in the first few KB (JPEG's SOF can follow large EXIF blocks); the frames of a
  // GIF, PNG or WebP can be anywhere, so those are read whole (the byte limit above bounds that).
  const head = new Uint8Array(await blob.slice(0, Math.min(blob.size, 256 * 1024)).arrayBuffer());
  const mime = sniff(head);
  if (!mime) throw unsupported(head, blob.type, limits);
  if (limits.types && !limits.types.includes(mime)) {
    throw new UnsupportedImageError(
      `This file is a ${FORMAT_NAMES[mime]} image. ${readsHint(limits)} Convert it to PNG (no loss) and send it again.`,
      { mime, claimedType: blob.type },
    );
  }
  const whole = mime === 'image/jpeg' || mime === 'image/bmp' ? head : new Uint8Array(await blob.arrayBuffer());
  const dims = readFrames(mime, whole);
  if (!dims) {
    throw new ImageUnreadableError('This image looks damaged or cut short: its header could not be read.', { mime });
  }
  const { width, height, animated } = dims;
  if (width <= 0 || height <= 0) {
    throw new ImageUnreadableError('This image says it has no pixels; it is probably damaged.', { mime });
  }
  dims.frames.forEach((frame, i) => checkFrame(frame, i, dims.frames.length, limits));
  return { mime, width, height, animated, size: blob.size };
}

/** A frame passes when its own size and the canvas it needs at its offset are within the limits. */
function checkFrame(f: Frame, index: number, count: number, limits: ImageLimits): void {
  const sizes: [number, number][] = [[f.width, f.height], [f.left + f.width, f.top + f.height]];
  for (const [w, h] of sizes) {
    if (w <= limits.maxSide && h <= limits.maxSide && w * h <= limits.maxPixels) continue;
    const what = count > 1 && index > 0 ? `Frame ${index} of this image is` : 'This image is';
    const size = w === f.width && h === f.height ? `${w}×${h} pixels` : `${f.width}×${f.height} pixels placed at ${f.left},${f.top}`;
    throw new ImageTooLargeError(
      `${what} ${size}; the largest Glimpse accepts is ${limits.maxSide} pixels a side ` +
        `and ${Math.round(limits.maxPixels / 1e6)} megapixels. Resize it and try again.`,
      { width: w, height: h, frame: index, maxSide: limits.maxSide, maxPixels: limits.maxPixels },
    );
  }
}

/** SHA-256 of the bytes, hex: the key images are deduplicated and stored under. */
export async function hashBlob(blob: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await blob.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

function startsWith(bytes: Uint8Array, sig: number[], offset = 0): boolean {
  return sig.every((b, i) => bytes[offset + i] === b);
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

export function sniff(b: Uint8Array): ImageMime | null {
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'image/webp';
  if (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a') return 'image/gif';
  if (ascii(b, 0, 2) === 'BM' && b.length >= 26) return 'image/bmp';
  return null;
}

function unsupported(head: Uint8Array, claimed: string, limits: ImageLimits): UnsupportedImageError {
  const text = ascii(head, 0, Math.min(head.length, 512)).trimStart().toLowerCase();
  let what =
    (IMAGE_MIMES as readonly string[]).includes(claimed) ? `labelled ${claimed}, but its contents are not that kind of image`
    : claimed && claimed !== 'application/octet-stream' ? `a ${claimed} file`
    : 'not an image Glimpse can read';
  if (ascii(head, 4, 4) === 'ftyp') {
    const brand = ascii(head, 8, 4);
    what = /hei|mif|hev/.test(brand) ? 'a HEIC/HEIF photo' : /avi/.test(brand) ? 'an AVIF image' : 'a video or HEIF file';
  } else if (text.startsWith('<svg') || (text.startsWith('<?xml') && text.includes('<svg'))) {
    what = 'an SVG drawing (vector images can carry scripts and are not read)';
  } else if (startsWith(head, [0x49, 0x49, 0x2a, 0x00]) || startsWith(head, [0x4d, 0x4d, 0x00, 0x2a])) {
    what = 'a TIFF image';
  } else if (startsWith(head, [0x25, 0x50, 0x44, 0x46])) {
    what = 'a PDF document';
  }
  return new UnsupportedImageError(
    `This file is ${what}. ${readsHint(limits)} On iPhone, share the photo as JPEG ("Most Compatible").`,
    { claimedType: claimed },
  );
}

/** The name a person knows a type by ("BMP"). */
export const formatName = (mime: ImageMime): string => FORMAT_NAMES[mime];

/** JPEG and BMP hold one frame; GIF, PNG and WebP are walked frame by frame (frames.ts). */
function readFrames(mime: ImageMime, b: Uint8Array): Frames | null {
  if (mime === 'image/gif') return gifFrames(b);
  if (mime === 'image/png') return pngFrames(b);
  if (mime === 'image/webp') return webpFrames(b);
  const one = readSingle(mime, b);
  return one ? { ...one, animated: false, frames: [{ ...one, left: 0, top: 0 }] } : null;
}

function readSingle(mime: 'image/jpeg' | 'image/bmp', b: Uint8Array): { width: number; height: number } | null {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u16be = (o: number) => (o + 2 <= b.length ? view.getUint16(o) : -1);
  const i32le = (o: number) => (o + 4 <= b.length ? view.getInt32(o, true) : -1);
  switch (mime) {
    case 'image/bmp': {
      const width = i32le(18);
      const height = Math.abs(i32le(22));
      return width < 0 ? null : { width, height };
    }
    case 'image/jpeg': {
      // Walk the markers to the first SOFn (baseline, progressive, ...), which holds the frame size.
      let o = 2;
      while (o + 4 <= b.length) {
        if (b[o] !== 0xff) return null;
        const marker = b[o + 1]!;
        if (marker === 0xff) { o += 1; continue; }
        if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { o += 2; continue; }
        const len = u16be(o + 2);
        if (len < 2) return null;
        const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
        if (isSof) {
          const height = u16be(o + 5);
          const width = u16be(o + 7);
          if (width < 0 || height < 0) return null;
          return { width, height };
        }
        if (marker === 0xd9 || marker === 0xda) return null; // image data before any frame header
        o += 2 + len;
      }
      return null;
    }
  }
}

