/** The real downscale in Chromium: createImageBitmap + OffscreenCanvas, read back by decoding what is sent. */
import { describe, expect, it } from 'vitest';
import { encodeForRemote, PNG_MAX_BYTES } from '../../../src/remote/image';

async function picture(width: number, height: number, type: 'image/png' | 'image/jpeg', noisy = false): Promise<Blob> {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d')!;
  const g = ctx.createLinearGradient(0, 0, width, height);
  g.addColorStop(0, '#2453c7');
  g.addColorStop(1, '#f2b705');
  ctx.fillStyle = g;
  ctx.fillRect(0, 0, width, height);
  if (noisy) {
    const data = ctx.getImageData(0, 0, width, height);
    let x = 7;
    for (let i = 0; i < data.data.length; i++) if (i % 4 !== 3) data.data[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
    ctx.putImageData(data, 0, 0);
  }
  return canvas.convertToBlob({ type });
}

async function decode(url: string): Promise<{ type: string; width: number; height: number; bytes: number }> {
  const blob = await (await fetch(url)).blob();
  const bitmap = await createImageBitmap(blob);
  const out = { type: blob.type, width: bitmap.width, height: bitmap.height, bytes: blob.size };
  bitmap.close();
  return out;
}

describe('encodeForRemote (Chromium)', () => {
  it('a 4000×3000 photo: 512×384 at low, 1024×768 at auto and high, as JPEG', async () => {
    const photo = await picture(4000, 3000, 'image/jpeg');
    expect(await decode(await encodeForRemote(photo, 'low'))).toMatchObject({ type: 'image/jpeg', width: 512, height: 384 });
    expect(await decode(await encodeForRemote(photo, 'auto'))).toMatchObject({ type: 'image/jpeg', width: 1024, height: 768 });
    expect(await decode(await encodeForRemote(photo, 'high'))).toMatchObject({ type: 'image/jpeg', width: 1024, height: 768 });
  });

  it('a small PNG stays PNG at its own size (never upscaled)', async () => {
    const png = await picture(300, 200, 'image/png');
    expect(await decode(await encodeForRemote(png, 'high'))).toMatchObject({ type: 'image/png', width: 300, height: 200 });
  });

  it('a PNG too big to send as PNG goes as JPEG', async () => {
    const png = await picture(1400, 1400, 'image/png', true);
    const sent = await decode(await encodeForRemote(png, 'auto'));
    expect(sent).toMatchObject({ type: 'image/jpeg', width: 768, height: 768 });
    expect(sent.bytes).toBeLessThan(PNG_MAX_BYTES);
  });
});
