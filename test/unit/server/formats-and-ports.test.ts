/**
 * What each server says it reads is what it reads (one list per server, used by every message), and a server
 * whose port is taken says which port and which setting moves it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectImage } from '../../../src/chat/images';
import { checkImageUrl } from '../../../src/proxy/images';
import { loadConfig } from '../../../src/proxy/config';
import { startProxy } from '../../../src/proxy/node';
import { loadApiConfig } from '../../../src/server/config';
import { startApiServer } from '../../../src/server/node';
import { makeImage } from '../../fixtures/images';
import { apiFetch, type ApiFetch } from './api-app';

const root = mkdtempSync(join(tmpdir(), 'glimpse-formats-'));
let api: ApiFetch;

/** A 24-bit BMP of 2×2 pixels (the page reads it; sharp, which the REST API decodes with, does not). */
function bmp(): Blob {
  const b = Buffer.alloc(54 + 16, 0x80);
  b.write('BM', 0, 'ascii');
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(2, 18);
  b.writeInt32LE(2, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  return new Blob([new Uint8Array(b)]);
}

const OTHERS: Record<string, Blob> = {
  PDF: new Blob(['%PDF-1.4\n1 0 obj\n']),
  SVG: new Blob(['<svg xmlns="http://www.w3.org/2000/svg"></svg>']),
  HEIC: new Blob([new Uint8Array([0, 0, 0, 24, ...Buffer.from('ftypheic'), 0, 0, 0, 0])]),
  BMP: bmp(),
};

beforeAll(async () => {
  api = await apiFetch(loadApiConfig({ DATA_DIR: join(root, 'data') }));
});

afterAll(async () => {
  await api?.close();
  rmSync(root, { recursive: true, force: true });
});

async function send(image: Blob): Promise<{ status: number; message: string }> {
  const body = new FormData();
  body.append('message', 'What is this?');
  body.append('image', image, 'upload');
  const res = await api(new Request('http://127.0.0.1/chat', { method: 'POST', body }));
  const json = (await res.json()) as { error?: { message: string } };
  return { status: res.status, message: json.error?.message ?? '' };
}

describe('the image formats each server reads', () => {
  it('the REST API reads JPEG, PNG, WebP and GIF, and every refusal names exactly those', async () => {
    for (const format of ['jpeg', 'png', 'webp', 'gif'] as const) {
      expect((await send(await makeImage(format, 16, 12))).status, format).toBe(200);
    }
    for (const [what, blob] of Object.entries(OTHERS)) {
      const { status, message } = await send(blob);
      expect(status, what).toBe(415);
      expect(message, what).toContain('The REST API reads JPEG, PNG, WebP and GIF images.');
      expect(message, what).not.toMatch(/reads[^.]*BMP/);
    }
    expect((await send(OTHERS.BMP!)).message).toMatch(/a BMP image.*convert it to PNG/i);
  });

  it('the page reads BMP too, and says so', async () => {
    await expect(inspectImage(bmp())).resolves.toMatchObject({ mime: 'image/bmp' });
    await expect(inspectImage(OTHERS.PDF!)).rejects.toThrow('Glimpse reads JPEG, PNG, WebP, GIF and BMP images.');
  });

  it('the proxy names its own list (PNG, JPEG, WebP and GIF) when it refuses', async () => {
    const b64 = Buffer.from(await bmp().arrayBuffer()).toString('base64');
    expect(checkImageUrl(`data:image/bmp;base64,${b64}`, 1e6)?.message).toMatch(/accepted: PNG, JPEG, WebP and GIF/);
    expect(checkImageUrl(`data:image/png;base64,${b64}`, 1e6)?.message).toMatch(/its bytes are a BMP image, not a PNG, JPEG, WebP or GIF image/);
  });
});

describe('a port already in use', () => {
  let busy: Server;
  let port: number;
  beforeAll(async () => {
    busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    port = (busy.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => busy.close(() => r())));

  it('the REST API names the port and PORT', async () => {
    const config = loadApiConfig({ DATA_DIR: join(root, 'busy'), PORT: String(port) });
    const err = await startApiServer(config, { log: () => undefined }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} is already in use.*PORT=`));
  });

  it('the proxy names the port and PORT', async () => {
    const config = loadConfig({ OPENAI_API_KEY: 'sk-test-0123456789', PORT: String(port) });
    const err = await startProxy(config, { log: () => undefined }).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port} is already in use.*PORT=`));
  });
});
