import { describe, expect, it } from 'vitest';
import { remoteImageSize, remoteImageType, toDataUrl } from '../../../src/remote/image';

describe('remoteImageSize: what OpenAI would keep at each detail, never more', () => {
  it.each([
    // [width, height, detail, expected]
    [4000, 3000, 'low', [512, 384]],
    [3000, 4000, 'low', [384, 512]],
    [300, 200, 'low', [300, 200]], // never upscaled
    [4000, 3000, 'auto', [1024, 768]], // 2048×1536 fits the square, then the short side to 768
    [4000, 3000, 'high', [1024, 768]],
    [8000, 1000, 'high', [2048, 256]], // a panorama: the long side rules
    [1000, 3000, 'auto', [683, 2048]],
    [700, 500, 'high', [700, 500]],
    [1536, 1536, 'auto', [768, 768]],
    [20000, 10, 'low', [512, 1]], // at least one pixel
  ] as const)('%i×%i at %s → %j', (w, h, detail, [ew, eh]) => {
    const s = remoteImageSize(w, h, detail);
    expect([s.width, s.height]).toEqual([ew, eh]);
  });

  it('keeps graphics as PNG and photos as JPEG', () => {
    expect(remoteImageType('image/png')).toBe('image/png');
    expect(remoteImageType('image/gif')).toBe('image/png');
    expect(remoteImageType('image/jpeg')).toBe('image/jpeg');
    expect(remoteImageType('image/webp')).toBe('image/jpeg');
    expect(remoteImageType('image/bmp')).toBe('image/jpeg');
  });

  it('toDataUrl encodes large blobs whole', async () => {
    const bytes = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) % 256);
    const url = await toDataUrl(new Blob([bytes], { type: 'image/png' }));
    expect(url.startsWith('data:image/png;base64,')).toBe(true);
    expect(Buffer.from(url.slice(22), 'base64').equals(Buffer.from(bytes))).toBe(true);
  });
});
