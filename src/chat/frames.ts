/**
 * Every frame of an image, read from its structure without decoding: a file's header says nothing about the
 * frames behind it (a GIF's 10×10 logical screen can hold a 16000×16000 image descriptor, an APNG's fcTL or a
 * WebP's ANMF or bitstream can ask for more than the canvas), and decoders allocate for each frame. The
 * walkers jump from block to block by their lengths, so a 20 MB file costs microseconds.
 * Shared by the page and the REST API (through images.ts).
 */

/** A frame's size and its offset on the canvas (decoders may grow the canvas to fit it). */
export interface Frame {
  width: number;
  height: number;
  left: number;
  top: number;
}

export interface Frames {
  /** The image's size as shown: the canvas (GIF screen, PNG header, WebP VP8X) or the only frame's. */
  width: number;
  height: number;
  animated: boolean;
  /** Every frame found (at least one), the canvas included as a frame at 0,0. */
  frames: Frame[];
}

const at0 = (width: number, height: number): Frame => ({ width, height, left: 0, top: 0 });
const u16le = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u24le = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16);
const u32le = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const u32be = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const tag = (b: Uint8Array, o: number) => String.fromCharCode(b[o]!, b[o + 1]!, b[o + 2]!, b[o + 3]!);

/** Skips GIF data sub-blocks (a length byte, that many bytes, … a zero); the offset after them. */
function skipSubBlocks(b: Uint8Array, i: number): number {
  while (i < b.length) {
    const n = b[i]!;
    i += 1 + n;
    if (n === 0) break;
  }
  return i;
}

/** GIF: the logical screen, then each image descriptor (0x2C) between extensions (0x21) up to the trailer. */
export function gifFrames(b: Uint8Array): Frames | null {
  if (b.length < 13) return null;
  const width = u16le(b, 6);
  const height = u16le(b, 8);
  const frames = [at0(width, height)];
  let i = 13 + (b[10]! & 0x80 ? 3 * 2 ** ((b[10]! & 7) + 1) : 0);
  let images = 0;
  while (i < b.length && b[i] !== 0x3b) {
    if (b[i] === 0x21) {
      i = skipSubBlocks(b, i + 2);
    } else if (b[i] === 0x2c) {
      if (i + 10 > b.length) return null; // a descriptor cut short
      frames.push({ left: u16le(b, i + 1), top: u16le(b, i + 3), width: u16le(b, i + 5), height: u16le(b, i + 7) });
      images += 1;
      const packed = b[i + 9]!;
      i = skipSubBlocks(b, i + 10 + (packed & 0x80 ? 3 * 2 ** ((packed & 7) + 1) : 0) + 1);
    } else {
      break; // garbage after the frames: decoders stop here too
    }
  }
  return images === 0 ? null : { width, height, animated: images > 1, frames };
}

/** PNG: IHDR, then every chunk by its length; each APNG fcTL is a frame with its own size and offset. */
export function pngFrames(b: Uint8Array): Frames | null {
  if (b.length < 24 || tag(b, 12) !== 'IHDR') return null;
  const width = u32be(b, 16);
  const height = u32be(b, 20);
  const frames = [at0(width, height)];
  let animated = false;
  for (let i = 8; i + 8 <= b.length;) {
    const length = u32be(b, i);
    const type = tag(b, i + 4);
    if (type === 'IEND') break;
    if (type === 'acTL') animated = true;
    if (type === 'fcTL' && i + 8 + 20 <= b.length) {
      const d = i + 8;
      frames.push({ width: u32be(b, d + 4), height: u32be(b, d + 8), left: u32be(b, d + 12), top: u32be(b, d + 16) });
    }
    i += 12 + length;
  }
  return { width, height, animated, frames };
}

/** The size a VP8 or VP8L bitstream (the chunk's data at `d`) says it decodes to. */
function bitstreamSize(b: Uint8Array, type: string, d: number): Frame | null {
  if (type === 'VP8 ' && d + 10 <= b.length && b[d + 3] === 0x9d && b[d + 4] === 0x01 && b[d + 5] === 0x2a) {
    return at0(u16le(b, d + 6) & 0x3fff, u16le(b, d + 8) & 0x3fff);
  }
  if (type === 'VP8L' && d + 5 <= b.length && b[d] === 0x2f) {
    const bits = u32le(b, d + 1);
    return at0((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  return null;
}

/** ANMF: its offset (×2) and size, and the bitstream inside it. */
function anmfFrames(b: Uint8Array, d: number, end: number): Frame[] {
  if (d + 16 > b.length) return [];
  const frame = { left: 2 * u24le(b, d), top: 2 * u24le(b, d + 3), width: u24le(b, d + 6) + 1, height: u24le(b, d + 9) + 1 };
  const inner: Frame[] = [frame];
  for (let i = d + 16; i + 8 <= Math.min(end, b.length); i += 8 + u32le(b, i + 4) + (u32le(b, i + 4) & 1)) {
    const size = bitstreamSize(b, tag(b, i), i + 8);
    if (size) inner.push({ ...size, left: frame.left, top: frame.top });
  }
  return inner;
}

/** WebP: every chunk of the RIFF; the VP8X canvas, each ANMF frame, every bitstream's own size. */
export function webpFrames(b: Uint8Array): Frames | null {
  const frames: Frame[] = [];
  let canvas: Frame | null = null;
  let animated = false;
  for (let i = 12; i + 8 <= b.length;) {
    const type = tag(b, i);
    const length = u32le(b, i + 4);
    const d = i + 8;
    if (type === 'VP8X' && d + 10 <= b.length) {
      canvas = at0(u24le(b, d + 4) + 1, u24le(b, d + 7) + 1);
      animated = (b[d]! & 0x02) !== 0;
      frames.push(canvas);
    } else if (type === 'ANMF') {
      frames.push(...anmfFrames(b, d, d + length));
    } else {
      const size = bitstreamSize(b, type, d);
      if (size) frames.push(size);
    }
    i = d + length + (length & 1);
  }
  const shown = canvas ?? frames[0];
  return shown ? { width: shown.width, height: shown.height, animated, frames } : null;
}
