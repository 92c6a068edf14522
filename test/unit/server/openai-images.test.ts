/**
 * GLIMPSE_ENGINE=openai: every picture reaches the inference server as a JPEG or PNG, the formats llama.cpp's
 * stb_image decodes (it has no WebP). The real REST server on 127.0.0.1 sends its turns to the fake inference
 * server (test/fixtures/fake-inference-server.ts); the test decodes what arrived with sharp.
 */
import sharp from 'sharp';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ChatResponse } from '../../../src/chat/service';
import { makeImage } from '../../fixtures/images';
import { useOpenAIApi } from '../../fixtures/openai-api';

const stack = useOpenAIApi('openai-images');

beforeEach(() => stack.fake.reset());

async function send(image: Blob, name: string, sessionId?: string): Promise<ChatResponse> {
  const form = new FormData();
  if (sessionId) form.set('session_id', sessionId);
  form.set('message', 'What is in this picture?');
  form.append('image', image, name);
  const res = await fetch(`${stack.api.url}/chat`, { method: 'POST', body: form });
  expect(res.status).toBe(200);
  return (await res.json()) as ChatResponse;
}

/** The one image of the last request: its data URL's type and its bytes. */
function received(): { type: string; bytes: Buffer } {
  const images = stack.fake.requests.at(-1)!.images;
  expect(images).toHaveLength(1);
  const m = /^data:(image\/[a-z]+);base64,(.+)$/.exec(images[0]!)!;
  return { type: m[1]!, bytes: Buffer.from(m[2]!, 'base64') };
}

const bytesOf = async (blob: Blob) => Buffer.from(await blob.arrayBuffer());

describe('the picture the inference server gets', () => {
  it('a photo WebP arrives as a JPEG of the same size and nearly the same pixels, and again so on a follow-up', async () => {
    const webp = await makeImage('webp', 320, 240, 5);
    const first = await send(webp, 'photo.webp');
    const got = received();
    expect(got.type).toBe('image/jpeg');
    expect(got.bytes.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    expect(await sharp(got.bytes).metadata()).toMatchObject({ format: 'jpeg', width: 320, height: 240 });
    const want = await sharp(await bytesOf(webp)).raw().toBuffer();
    const sent = await sharp(got.bytes).raw().toBuffer();
    let diff = 0;
    for (let i = 0; i < want.length; i++) diff += Math.abs(want[i]! - sent[i]!);
    expect(diff / want.length).toBeLessThan(8); // quality 90: the same picture, a few levels off per channel

    const form = new FormData();
    form.set('session_id', first.session_id);
    form.set('message', 'And the colours?');
    expect((await fetch(`${stack.api.url}/chat`, { method: 'POST', body: form })).status).toBe(200);
    expect(received()).toEqual(got);
  });

  it('a WebP with transparency arrives as a lossless PNG: the same pixels, alpha kept', async () => {
    const raw = Buffer.alloc(64 * 48 * 4);
    for (let i = 0; i < raw.length; i++) raw[i] = i % 4 === 3 ? (i >> 2) % 256 : (i * 13) % 251;
    const webp = await sharp(raw, { raw: { width: 64, height: 48, channels: 4 } }).webp({ lossless: true }).toBuffer();
    await send(new Blob([new Uint8Array(webp)], { type: 'image/webp' }), 'cutout.webp');
    const got = received();
    expect(got.type).toBe('image/png');
    expect(await sharp(got.bytes).metadata()).toMatchObject({ format: 'png', width: 64, height: 48, hasAlpha: true });
    const want = await sharp(webp).raw().toBuffer();
    expect((await sharp(got.bytes).raw().toBuffer()).equals(want)).toBe(true);
  });

  it('an animated GIF arrives as a still of its first frame', async () => {
    const frame = (background: string) => sharp({ create: { width: 40, height: 30, channels: 3, background } }).png().toBuffer();
    const gif = await sharp([await frame('#ff0000'), await frame('#0000ff')], { join: { animated: true } }).gif().toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(2);
    await send(new Blob([new Uint8Array(gif)], { type: 'image/gif' }), 'anim.gif');
    const got = received();
    expect(['image/png', 'image/jpeg']).toContain(got.type);
    const { data, info } = await sharp(got.bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ width: 40, height: 30 });
    for (const px of [data.subarray(0, 3), data.subarray(-3)]) {
      expect(px[0]).toBeGreaterThan(240); // red, not the second (blue) frame
      expect(px[2]).toBeLessThan(15);
    }
  });

  it('a JPEG and a PNG arrive byte for byte as uploaded, under their own type', async () => {
    for (const format of ['jpeg', 'png'] as const) {
      const image = await makeImage(format, 200, 150, 9);
      await send(image, `photo.${format}`);
      const got = received();
      expect(got.type).toBe(`image/${format}`);
      expect(got.bytes.equals(await bytesOf(image))).toBe(true);
    }
  });

  it('a JPEG labelled image/webp by its file name still goes as the JPEG it is', async () => {
    const jpeg = await makeImage('jpeg', 64, 48, 2);
    await send(new Blob([await bytesOf(jpeg)], { type: 'image/webp' }), 'photo.webp');
    const got = received();
    expect(got.type).toBe('image/jpeg');
    expect(got.bytes.equals(await bytesOf(jpeg))).toBe(true);
  });
});
