/**
 * The REST API decodes every upload before storing anything. BMP passes the header check (the page reads it
 * with the browser's decoder) but sharp, which both Node engines decode with, has no BMP reader: it used to be
 * answered "may be damaged" (422). Now a clear 415 that says what to send instead.
 */
import { describe, expect, it } from 'vitest';
import { inspectImage } from '../../../src/chat/images';
import { ImageUnreadableError, UnsupportedImageError } from '../../../src/errors';
import { loadApiConfig } from '../../../src/server/config';
import { decodeCheckFor } from '../../../src/server/engines';
import { makeImage } from '../../fixtures/images';

/** A valid 24-bit uncompressed BMP of w×h grey pixels. */
function bmp(w: number, h: number): Blob {
  const row = Math.ceil((w * 3) / 4) * 4;
  const b = Buffer.alloc(54 + row * h, 0x80);
  b.write('BM', 0, 'ascii');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(0, 6);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(0, 30);
  b.writeUInt32LE(row * h, 34);
  b.fill(0, 38, 54);
  return new Blob([new Uint8Array(b)], { type: 'image/bmp' });
}

const engines = {
  local: loadApiConfig({}),
  openai: loadApiConfig({ GLIMPSE_ENGINE: 'openai', GLIMPSE_ENGINE_URL: 'http://127.0.0.1:9/v1', GLIMPSE_ENGINE_MODEL: 'smolvlm' }),
};

describe.each(Object.entries(engines))('the upload check (%s engine)', (_kind, config) => {
  const check = decodeCheckFor(config);

  it('refuses a BMP as unsupported, saying what to send instead', async () => {
    const image = bmp(8, 6);
    const info = await inspectImage(image);
    expect(info).toMatchObject({ mime: 'image/bmp', width: 8, height: 6 });
    const err = await check(image, info).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedImageError);
    expect((err as Error).message).toMatch(/not BMP: convert it to PNG/);
  });

  it('passes a whole PNG and refuses one cut short as unreadable', async () => {
    const png = await makeImage('png', 40, 30);
    await expect(check(png, await inspectImage(png))).resolves.toBeUndefined();
    const bytes = new Uint8Array(await png.arrayBuffer());
    const cut = new Blob([bytes.subarray(0, Math.floor(bytes.length * 0.6))], { type: 'image/png' });
    await expect(check(cut, await inspectImage(cut))).rejects.toBeInstanceOf(ImageUnreadableError);
  });
});
