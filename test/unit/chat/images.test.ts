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
