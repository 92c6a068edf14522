import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeImage } from '../../fixtures/images';
import { FT_MODEL, startStack, type ErrorJson, type Stack } from './stack';

const TEXT_MODEL = 'ft:davinci-002:acme:captions:t1';
const MAX_IMAGE = 64 * 1024;

let s: Stack;
beforeAll(async () => {
  s = await startStack({ GLIMPSE_ALLOWED_MODELS: `gpt-4o-mini,${TEXT_MODEL}`, GLIMPSE_MAX_IMAGE_BYTES: String(MAX_IMAGE),
    GLIMPSE_MAX_BODY_BYTES: '4096' });
});
afterAll(() => s.close());
beforeEach(() => s.fake.reset());

/** A PNG of noise: it does not compress, so its size follows its pixels. */
async function noisyPng(side: number): Promise<Blob> {
  const raw = Buffer.alloc(side * side * 3);
  let x = 12345;
  for (let i = 0; i < raw.length; i++) raw[i] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
  return new Blob([new Uint8Array(await sharp(raw, { raw: { width: side, height: side, channels: 3 } }).png().toBuffer())],
    { type: 'image/png' });
}

const dataUrl = async (blob: Blob, type = blob.type) =>
  `data:${type};base64,${Buffer.from(await blob.arrayBuffer()).toString('base64')}`;
const image = (url: string) => ({ type: 'image_url', image_url: { url } });
const ask = (content: unknown[], extra: Record<string, unknown> = {}) =>
  s.post('/v1/chat/completions', { messages: [{ role: 'user', content }], ...extra });

async function refused(res: Response, param: string, code: string): Promise<ErrorJson['error']> {
  expect(res.status).toBe(400);
  const { error } = await res.json() as ErrorJson;
  expect(error).toMatchObject({ param, code });
  expect(error.message.startsWith(`${param}: `)).toBe(true);
  expect(s.fake.requests).toHaveLength(0);
  return error;
}

describe('image parts on /v1/chat/completions', () => {
  it('the config: GPT-4o-family names read images unless GLIMPSE_IMAGE_MODELS says otherwise; /health says so', async () => {
    expect(s.config.imageModels).toEqual([FT_MODEL, 'gpt-4o-mini']);
    const health = await (await fetch(`${s.proxy.url}/health`)).json() as Record<string, unknown>;
    expect(health).toMatchObject({ default_model: FT_MODEL, default_model_reads_images: true,
      image_models: [FT_MODEL, 'gpt-4o-mini'] });
  });

  it.each(['png', 'jpeg'] as const)('forwards a valid %s, once, as [image_url, text]', async (format) => {
    const url = await dataUrl(await makeImage(format, 40, 30));
    const res = await ask([{ type: 'text', text: 'What is ' }, image(url), { type: 'text', text: 'this?' }]);
    expect(res.status).toBe(200);
    const sent = s.fake.requests[0]?.body.messages as { role: string; content: unknown }[];
    expect(sent.at(-1)).toEqual({ role: 'user',
      content: [{ type: 'image_url', image_url: { url } }, { type: 'text', text: 'What is this?' }] });
  });

  it('keeps the detail asked for and sends an image without text as the image alone', async () => {
    const url = await dataUrl(await makeImage('webp', 8, 8));
    const res = await ask([{ type: 'image_url', image_url: { url, detail: 'low' } }, { type: 'text', text: '' }]);
    expect(res.status).toBe(200);
    const sent = s.fake.requests[0]?.body.messages as { content: unknown }[];
    expect(sent.at(-1)?.content).toEqual([{ type: 'image_url', image_url: { url, detail: 'low' } }]);
  });

  it('a body bigger than GLIMPSE_MAX_BODY_BYTES passes when the image makes the difference', async () => {
    const png = await noisyPng(60);
    expect(png.size).toBeGreaterThan(4096);
    expect((await ask([image(await dataUrl(png)), { type: 'text', text: 'hi' }])).status).toBe(200);
  });

  it('refuses a remote URL: the proxy never fetches one', async () => {
    for (const url of ['https://example.com/cat.png', 'http://127.0.0.1:1/x.png', 'HTTPS://EXAMPLE.COM/a']) {
      const e = await refused(await ask([image(url)]), 'messages[0].content[0].image_url.url', 'image_url_not_allowed');
      expect(e.message).toMatch(/data: URL/);
    }
  });

  it('refuses an image over GLIMPSE_MAX_IMAGE_BYTES (decoded size)', async () => {
    const big = await noisyPng(148); // just over the limit (far over it, the body itself is a 413)
    expect(big.size).toBeGreaterThan(MAX_IMAGE);
    const e = await refused(await ask([image(await dataUrl(big))]), 'messages[0].content[0].image_url.url', 'image_too_large');
    expect(e.message).toMatch(/GLIMPSE_MAX_IMAGE_BYTES/);
  });

  it('checks the bytes, not the declared type', async () => {
    const at = 'messages[0].content[0].image_url.url';
    const text = `data:image/png;base64,${Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>').toString('base64')}`;
    expect((await refused(await ask([image(text)]), at, 'invalid_image')).message).toMatch(/not a PNG, JPEG, WebP or GIF/);
    s.fake.reset();
    const jpeg = await dataUrl(await makeImage('jpeg'), 'image/png');
    expect((await refused(await ask([image(jpeg)]), at, 'invalid_image')).message).toMatch(/declares image\/png but its bytes are image\/jpeg/);
    s.fake.reset();
    await refused(await ask([image(await dataUrl(await makeImage('png'), 'image/svg+xml'))]), at, 'unsupported_image');
    s.fake.reset();
    await refused(await ask([image('data:image/png;base64,iVBORw0KGgo!!!')]), at, 'invalid_image');
    s.fake.reset();
    await refused(await ask([image('data:image/png,%89PNG')]), at, 'invalid_image');
  });

  it('refuses a second image, in the same message or another', async () => {
    const url = await dataUrl(await makeImage('png', 8, 8));
    await refused(await ask([image(url), image(url)]), 'messages[0].content[1]', 'too_many_images');
    s.fake.reset();
    const res = await s.post('/v1/chat/completions', { messages: [
      { role: 'user', content: [image(url), { type: 'text', text: 'a' }] }, { role: 'assistant', content: 'b' },
      { role: 'user', content: [{ type: 'text', text: 'c' }, image(url)] }] });
    await refused(res, 'messages[2].content[1]', 'too_many_images');
  });

  it('refuses an image to a text-only model, and one in a message that is not the user\'s', async () => {
    const url = await dataUrl(await makeImage('png', 8, 8));
    const e = await refused(await ask([image(url)], { model: TEXT_MODEL }), 'messages[0].content[0]', 'model_text_only');
    expect(e.message).toContain(TEXT_MODEL);
    s.fake.reset();
    expect((await ask([{ type: 'text', text: 'hi' }], { model: TEXT_MODEL })).status).toBe(200); // text still goes
    s.fake.reset();
    const res = await s.post('/v1/chat/completions', { messages: [{ role: 'assistant', content: [image(url)] }] });
    await refused(res, 'messages[0].content[0]', 'invalid_value');
  });
});

describe('GLIMPSE_IMAGE_MODELS', () => {
  it('names the models that read images exactly; none keeps every image out', async () => {
    const only = await startStack({ GLIMPSE_IMAGE_MODELS: 'gpt-4o-mini, not-allowed' });
    const none = await startStack({ GLIMPSE_IMAGE_MODELS: 'none' });
    try {
      expect(only.config.imageModels).toEqual(['gpt-4o-mini']);
      expect(none.config.imageModels).toEqual([]);
      const url = await dataUrl(await makeImage('png', 8, 8));
      const res = await none.post('/v1/chat/completions', { messages: [{ role: 'user', content: [image(url)] }] });
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorJson).error.code).toBe('model_text_only');
      const health = await (await fetch(`${none.proxy.url}/health`)).json() as Record<string, unknown>;
      expect(health.default_model_reads_images).toBe(false);
    } finally {
      await only.close();
      await none.close();
    }
  });
});
