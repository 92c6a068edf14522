import { describe, expect, it } from 'vitest';
import { hashBlob, inspectImage } from '../../../src/chat/images';
import { ImageTooLargeError, ImageUnreadableError, UnsupportedImageError } from '../../../src/errors';
import { makeImage, pngHeaderClaiming, textBlob } from '../../fixtures/images';

describe('inspectImage', () => {
  it.each(['png', 'jpeg', 'webp', 'gif'] as const)('reads type and size of a real %s from its header', async (fmt) => {
    const info = await inspectImage(await makeImage(fmt, 97, 41));
    expect(info).toMatchObject({ mime: `image/${fmt}`, width: 97, height: 41, animated: false });
  });

  it('uses the bytes, not the claimed type', async () => {
    const jpeg = await makeImage('jpeg', 10, 10);
    const lying = new Blob([jpeg], { type: 'image/png' });
    expect((await inspectImage(lying)).mime).toBe('image/jpeg');
  });

  it('refuses a zero-byte file', async () => {
    await expect(inspectImage(new Blob([]))).rejects.toThrow(ImageUnreadableError);
  });

  it('refuses a text file named .png', async () => {
    const err = await inspectImage(textBlob('hello, not an image')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedImageError);
    expect((err as Error).message).toMatch(/JPEG, PNG, WebP/);
  });

  it('names SVG and HEIC', async () => {
    await expect(inspectImage(textBlob('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 'image/svg+xml'))).rejects.toThrow(/SVG/);
    const heic = new Uint8Array(32);
    heic.set([0, 0, 0, 0x18], 0);
    heic.set(Array.from('ftypheic', (c) => c.charCodeAt(0)), 4);
    await expect(inspectImage(new Blob([heic], { type: 'image/heic' }))).rejects.toThrow(/HEIC/);
  });

  it('refuses a PNG that claims 30000×30000 before decoding it', async () => {
    const err = await inspectImage(pngHeaderClaiming(30000, 30000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageTooLargeError);
    expect((err as ImageTooLargeError).data).toMatchObject({ width: 30000, height: 30000 });
  });

  it('refuses files over the byte limit', async () => {
    const img = await makeImage('png', 32, 32);
    await expect(inspectImage(img, { maxBytes: 100, maxSide: 10_000, maxPixels: 1e9 })).rejects.toThrow(ImageTooLargeError);
  });

  it('refuses a truncated JPEG whose frame header is cut off', async () => {
    const jpeg = new Uint8Array(await (await makeImage('jpeg', 50, 50)).arrayBuffer());
    await expect(inspectImage(new Blob([jpeg.slice(0, 12)]))).rejects.toThrow(ImageUnreadableError);
  });

  it('flags an animated GIF', async () => {
    // Two frames, each preceded by a graphic control extension.
    const gce = [0x21, 0xf9, 0x04, 0x00, 0x0a, 0x00, 0x00, 0x00];
    const frame = [0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0x02, 0x02, 0x44, 0x01, 0x00];
    const bytes = [
      ...Array.from('GIF89a', (c) => c.charCodeAt(0)), 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255,
      ...gce, ...frame, ...gce, ...frame, 0x3b,
    ];
    expect((await inspectImage(new Blob([new Uint8Array(bytes)]))).animated).toBe(true);
  });

  it('hashes content, so the same bytes get the same key', async () => {
    const a = await makeImage('png', 8, 8, 1);
    const b = new Blob([await a.arrayBuffer()]);
    const c = await makeImage('png', 8, 8, 2);
    expect(await hashBlob(a)).toBe(await hashBlob(b));
    expect(await hashBlob(a)).not.toBe(await hashBlob(c));
    expect(await hashBlob(a)).toMatch(/^[0-9a-f]{64}$/);
  });
});

/**
 * Issue 15, item 2: a file's header says nothing about its frames. Each GIF image descriptor, APNG fcTL and
 * WebP ANMF carries its own size and decoders allocate for it: every frame must pass the limits before
 * anything is decoded, wherever it sits in the file.
 */
describe('inspectImage: every frame of every format', () => {
  const bytes = (...parts: (number[] | Uint8Array | string)[]) =>
    new Blob([new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? Array.from(p, (c) => c.charCodeAt(0)) : Array.from(p))))]);
  const u16 = (n: number) => [n & 0xff, n >> 8];
  const u24 = (n: number) => [n & 0xff, (n >> 8) & 0xff, n >> 16];
  const u32le = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
  const u32be = (n: number) => [n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  const gifHead = (w: number, h: number) => ['GIF89a', [...u16(w), ...u16(h), 0x80, 0, 0, 0, 0, 0, 255, 255, 255]];
  const gifFrame = (w: number, h: number, left = 0, top = 0) =>
    [[0x2c, ...u16(left), ...u16(top), ...u16(w), ...u16(h), 0x00, 0x02, 0x02, 0x4c, 0x01, 0x00]];
  const tooLarge = async (blob: Blob) => {
    const err = await inspectImage(blob).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageTooLargeError);
    return (err as Error).message;
  };

  it("refuses the issue's 35-byte GIF: a 10×10 screen holding a 16000×16000 frame", async () => {
    const gif = new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x0a, 0x00, 0x0a, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
      0xff, 0xff, 0xff, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3e, 0x80, 0x3e, 0x00, 0x02, 0x02, 0x4c, 0x01, 0x00, 0x3b]);
    expect(gif.length).toBe(35);
    expect(await tooLarge(new Blob([gif]))).toMatch(/16000×16000/);
  });

  it('refuses a GIF whose second frame is too large, or placed past the limits', async () => {
    await tooLarge(bytes(...gifHead(10, 10), ...gifFrame(10, 10), ...gifFrame(13_000, 10), [0x3b]));
    await tooLarge(bytes(...gifHead(10, 10), ...gifFrame(10, 10), ...gifFrame(10, 10, 65_000, 0), [0x3b]));
  });

  it('finds a huge GIF frame behind 300 KB of comment blocks', async () => {
    const comment = [0x21, 0xfe, ...Array.from({ length: 1200 }, () => [255, ...new Array<number>(255).fill(0x41)]).flat(), 0];
    await tooLarge(bytes(...gifHead(10, 10), ...gifFrame(10, 10), comment, ...gifFrame(16_000, 16_000), [0x3b]));
  });

  it('a GIF frame descriptor cut short is damaged', async () => {
    await expect(inspectImage(bytes(...gifHead(10, 10), [0x2c, 0, 0, 0, 0, 5]))).rejects.toThrow(ImageUnreadableError);
  });

  const chunk = (type: string, data: number[]) => [...u32be(data.length), ...Array.from(type, (c) => c.charCodeAt(0)), ...data, 0, 0, 0, 0];
  const png = (...chunks: number[][]) => bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], ...chunks, chunk('IEND', []));
  const ihdr = (w: number, h: number) => chunk('IHDR', [...u32be(w), ...u32be(h), 8, 2, 0, 0, 0]);
  const fctl = (seq: number, w: number, h: number, x = 0, y = 0) =>
    chunk('fcTL', [...u32be(seq), ...u32be(w), ...u32be(h), ...u32be(x), ...u32be(y), 0, 1, 0, 10, 0, 0]);

  it('refuses an APNG whose frame control asks for more than its header', async () => {
    const ok = await inspectImage(png(ihdr(100, 100), chunk('acTL', [...u32be(2), ...u32be(0)]), fctl(0, 100, 100), fctl(1, 50, 50, 10, 10)));
    expect(ok).toMatchObject({ width: 100, height: 100, animated: true });
    expect(await tooLarge(png(ihdr(100, 100), chunk('acTL', [...u32be(2), ...u32be(0)]), fctl(0, 100, 100), fctl(1, 20_000, 20_000)))).toMatch(/20000×20000/);
    await tooLarge(png(ihdr(100, 100), chunk('acTL', [...u32be(1), ...u32be(0)]), fctl(0, 100, 100, 50_000, 0)));
  });

  const riff = (...chunks: number[][]) => {
    const body = chunks.flat();
    return bytes('RIFF', u32le(body.length + 4), 'WEBP', body);
  };
  const wchunk = (type: string, data: number[]) =>
    [...Array.from(type, (c) => c.charCodeAt(0)), ...u32le(data.length), ...data, ...(data.length % 2 ? [0] : [])];
  const vp8x = (w: number, h: number, animated: boolean) => wchunk('VP8X', [animated ? 0x02 : 0, 0, 0, 0, ...u24(w - 1), ...u24(h - 1)]);
  const vp8l = (w: number, h: number) => {
    const bits = ((w - 1) & 0x3fff) | (((h - 1) & 0x3fff) << 14);
    return wchunk('VP8L', [0x2f, ...u32le(bits), 0, 0, 0]);
  };
  const anmf = (w: number, h: number, inner: number[]) => wchunk('ANMF', [...u24(0), ...u24(0), ...u24(w - 1), ...u24(h - 1), ...u24(100), 0, ...inner]);

  it('refuses an animated WebP with a frame larger than its canvas allows', async () => {
    const ok = await inspectImage(riff(vp8x(100, 100, true), wchunk('ANIM', [0, 0, 0, 0, 0, 0]), anmf(100, 100, vp8l(100, 100))));
    expect(ok).toMatchObject({ mime: 'image/webp', width: 100, height: 100, animated: true });
    expect(await tooLarge(riff(vp8x(100, 100, true), wchunk('ANIM', [0, 0, 0, 0, 0, 0]), anmf(100, 100, vp8l(100, 100)), anmf(16_000, 16_000, vp8l(16_000, 16_000))))).toMatch(/16000×16000/);
  });

  it('refuses a WebP whose bitstream is larger than its VP8X canvas says', async () => {
    await tooLarge(riff(vp8x(100, 100, false), vp8l(16_000, 16_000)));
  });
});
