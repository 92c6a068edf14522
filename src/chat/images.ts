import { ImageTooLargeError, ImageUnreadableError, UnsupportedImageError } from '../errors';

/**
 * Checks an image before anything is stored or sent to the model: the real type from its first bytes
 * (never the file name or the claimed MIME type), and its pixel size from the header, without decoding it
 * (a PNG that claims 30000×30000 must be refused before a decoder allocates 3.6 GB).
 */

export interface ImageLimits {
  /** Largest file accepted, in bytes. */
  maxBytes: number;
  /** Largest width or height accepted, in pixels. */
  maxSide: number;
  /** Largest pixel count accepted. */
  maxPixels: number;
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

const SUPPORTED_HINT = 'Glimpse reads JPEG, PNG, WebP, GIF and BMP images.';

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
  // Headers we read sit in the first few KB, except JPEG's SOF marker which can follow large EXIF blocks.
  const head = new Uint8Array(await blob.slice(0, Math.min(blob.size, 256 * 1024)).arrayBuffer());
  const mime = sniff(head);
  if (!mime) throw unsupported(head, blob.type);
  const dims = readDimensions(mime, head);
  if (!dims) {
    throw new ImageUnreadableError('This image looks damaged or cut short: its header could not be read.', { mime });
  }
  const { width, height, animated } = dims;
  if (width <= 0 || height <= 0) {
    throw new ImageUnreadableError('This image says it has no pixels; it is probably damaged.', { mime });
  }
  if (width > limits.maxSide || height > limits.maxSide || width * height > limits.maxPixels) {
    throw new ImageTooLargeError(
      `This image is ${width}×${height} pixels; the largest Glimpse accepts is ${limits.maxSide} pixels a side ` +
        `and ${Math.round(limits.maxPixels / 1e6)} megapixels. Resize it and try again.`,
      { width, height, maxSide: limits.maxSide, maxPixels: limits.maxPixels },
    );
  }
  return { mime, width, height, animated, size: blob.size };
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

function unsupported(head: Uint8Array, claimed: string): UnsupportedImageError {
  const text = ascii(head, 0, Math.min(head.length, 512)).trimStart().toLowerCase();
  const SUPPORTED = ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/bmp'];
  let what =
    SUPPORTED.includes(claimed) ? `labelled ${claimed}, but its contents are not that kind of image`
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
    `This file is ${what}. ${SUPPORTED_HINT} On iPhone, share the photo as JPEG ("Most Compatible").`,
    { claimedType: claimed },
  );
}

type Dims = { width: number; height: number; animated: boolean } | null;

function readDimensions(mime: ImageMime, b: Uint8Array): Dims {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u16be = (o: number) => (o + 2 <= b.length ? view.getUint16(o) : -1);
  const u32be = (o: number) => (o + 4 <= b.length ? view.getUint32(o) : -1);
  const u16le = (o: number) => (o + 2 <= b.length ? view.getUint16(o, true) : -1);
  const i32le = (o: number) => (o + 4 <= b.length ? view.getInt32(o, true) : -1);
  switch (mime) {
    case 'image/png': {
      if (ascii(b, 12, 4) !== 'IHDR') return null;
      const width = u32be(16);
      const height = u32be(20);
      if (width < 0 || height < 0) return null;
      return { width, height, animated: findAscii(b, 'acTL', 33) };
    }
    case 'image/gif': {
      const width = u16le(6);
      const height = u16le(8);
      if (width < 0 || height < 0) return null;
      return { width, height, animated: countGifFrames(b) > 1 };
    }
    case 'image/bmp': {
      const width = i32le(18);
      const height = Math.abs(i32le(22));
      return width < 0 ? null : { width, height, animated: false };
    }
    case 'image/webp': {
      const chunk = ascii(b, 12, 4);
      if (chunk === 'VP8 ') {
        if (!startsWith(b, [0x9d, 0x01, 0x2a], 23)) return null;
        return { width: u16le(26) & 0x3fff, height: u16le(28) & 0x3fff, animated: false };
      }
      if (chunk === 'VP8L') {
        if (b[20] !== 0x2f || b.length < 25) return null;
        const bits = view.getUint32(21, true);
        return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1, animated: false };
      }
      if (chunk === 'VP8X') {
        if (b.length < 30) return null;
        const w = 1 + (b[24]! | (b[25]! << 8) | (b[26]! << 16));
        const h = 1 + (b[27]! | (b[28]! << 8) | (b[29]! << 16));
        return { width: w, height: h, animated: (b[20]! & 0x02) !== 0 };
      }
      return null;
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
          return { width, height, animated: false };
        }
        if (marker === 0xd9 || marker === 0xda) return null; // image data before any frame header
        o += 2 + len;
      }
      return null;
    }
  }
}

function findAscii(b: Uint8Array, tag: string, from: number): boolean {
  const codes = Array.from(tag, (c) => c.charCodeAt(0));
  const end = Math.min(b.length - 4, 4096);
  for (let i = from; i < end; i++) if (startsWith(b, codes, i)) return true;
  return false;
}

/** Counts image descriptors (0x2C after a block boundary) cheaply; 2 is enough to know it is animated. */
function countGifFrames(b: Uint8Array): number {
  let frames = 0;
  for (let i = 13; i < b.length - 9 && frames < 2; i++) {
    // Graphic control extension (21 F9 04) precedes each frame in animated GIFs.
    if (b[i] === 0x21 && b[i + 1] === 0xf9 && b[i + 2] === 0x04) frames++;
  }
  return frames;
}
