/**
 * The real thing, end to end: the BUILT app (served as static files from a subpath, like any static host),
 * the real engine worker running the generated tiny SmolVLM, downloaded from a local server laid out like
 * the Hugging Face hub. On WebGPU (SwiftShader) and on the WASM fallback (the same Chromium without the
 * WebGPU flag: navigator.gpu exists but gives no adapter).
 *
 * new chat → photo → ask → streamed answer → follow-up without the image → reload keeps chat and image →
 * offline reload still chats → delete. A request log shows exactly which model files each device asks for
 * and that nothing leaves the origin during a local chat. A download cut half-way is reported and a retry
 * completes it.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath } from '../chromium';
import { startHubServer, type HubServer } from '../fixtures/hub-server';
import { ensureTinyModel } from '../fixtures/model/ensure';
import { startStaticServer, type StaticServer } from '../fixtures/static-server';
import { ask, buildApp } from './helpers';

const SUBPATH = '/tools/glimpse/';
// Bounds a hang, not a speed: WebGPU on SwiftShader (the CPU) compiles its shaders on the first run; with the
// faithful model, which computes the 49,280-token vocabulary's logits on every prompt position, a first answer
// took 269 s here beside the other test files on 2 cores.
const ANSWER_TIMEOUT = 600_000;

const KEY_CANARY = 'sk-canary-e2e-5f0c1d2b9a7e4c3f';

let tmp: string;
let hub: HubServer;
let app: StaticServer;
let photo: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'glimpse-engine-e2e-'));
  hub = await startHubServer(await ensureTinyModel());
  photo = join(tmp, 'harbour.jpg');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"><rect width="640" height="480" fill="#7fb3d5"/>
    <rect y="300" width="640" height="180" fill="#1f618d"/><path d="M200 300 h160 l-30 40 h-100z" fill="#fdfefe"/><circle cx="520" cy="90" r="45" fill="#f9e79f"/></svg>`;
  await sharp(Buffer.from(svg)).jpeg({ quality: 88 }).toFile(photo);
  // Self-hosted weights are a build option: point the app at the local hub.
  // The proxy's API key sits in the environment of whoever builds; it must never reach the bundle.
  await buildApp(join(tmp, 'dist'), { VITE_MODEL_HOST: hub.url, OPENAI_API_KEY: KEY_CANARY });
  app = await startStaticServer(join(tmp, 'dist'), { prefix: SUBPATH });
});

afterAll(async () => {
  await app?.close();
  await hub?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const assistant = (page: Page) => page.locator('message-item[role-name="assistant"]');
const finished = (page: Page, n: number) =>
  assistant(page).nth(n).locator('button.regenerate').waitFor({ timeout: ANSWER_TIMEOUT });

/**
 * Short answers keep the run quick (the random model talks until max tokens); low detail = one frame.
 * `device`: Settings → Device (Auto would not pick SwiftShader, this machine's only WebGPU adapter).
 * `maxNewTokens`: 16 on WASM; 4 on SwiftShader, where each decode step took 14-17 s beside other tests
 * (every answer still streams, and the follow-ups decode from the cache).
 */
async function quickSettings(context: BrowserContext, device: 'auto' | 'webgpu', maxNewTokens: number): Promise<void> {
  await context.addInitScript(([device, maxNewTokens]) => {
    if (!localStorage.getItem('glimpse:settings')) {
      localStorage.setItem('glimpse:settings', JSON.stringify({ maxNewTokens, imageDetail: 'low', device }));
    }
  }, [device, maxNewTokens] as const);
}

function watchRequests(context: BrowserContext): string[] {
  const urls: string[] = [];
  context.on('request', (r) => urls.push(r.url()));
  return urls;
}

/** The stored details of the newest assistant message (IndexedDB, as the app keeps it). */
function lastReplyDetails(page: Page): Promise<Record<string, unknown>> {
  return page.evaluate(() => new Promise<Record<string, unknown>>((resolve, reject) => {
    const open = indexedDB.open('glimpse');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const all = open.result.transaction('messages').objectStore('messages').getAll();
      all.onsuccess = () => {
        const replies = (all.result as { role: string; timestamp: string; details?: Record<string, unknown> }[])
          .filter((m) => m.role === 'assistant')
          .sort((x, y) => x.timestamp.localeCompare(y.timestamp));
        open.result.close();
        resolve(replies.at(-1)?.details ?? {});
      };
    };
  }));
}

const onnxFiles = (urls: string[]) =>
  [...new Set(urls.filter((u) => u.startsWith(hub.url) && u.includes('/onnx/')).map((u) => u.slice(u.indexOf('/onnx/') + 1)))].sort();

/**
 * WebGPU on SwiftShader loads the last-position-logits tiny model (same files, same answers:
 * test/unit/fixtures/last-logits.test.ts), so the prefill does not compute 49,280 logits per prompt position
 * on an emulated GPU; the faithful model runs on WebGPU in test/browser/engine/device.test.ts and on WASM here.
 */
describe.each([
  {
    device: 'webgpu',
    logits: 'last' as const,
    maxNewTokens: 4,
    webgpu: true,
    prefer: 'webgpu' as const,
    label: /WebGPU/,
    files: ['onnx/decoder_model_merged_q4.onnx', 'onnx/embed_tokens.onnx', 'onnx/vision_encoder.onnx'],
    // Each decode step on SwiftShader takes seconds: Continue's real-engine path is walked on WASM.
    tryContinue: false,
  },
  {
    device: 'wasm',
    logits: 'all' as const,
    maxNewTokens: 16,
    webgpu: false,
    prefer: 'auto' as const,
    label: /WASM|WebAssembly/,
    files: ['onnx/decoder_model_merged_quantized.onnx', 'onnx/embed_tokens_quantized.onnx', 'onnx/vision_encoder_quantized.onnx'],
    tryContinue: true,
  },
])('the built app with the real engine on $device', ({ webgpu, logits, maxNewTokens, prefer, label, files, tryContinue }) => {
  let browser: Browser;
  beforeAll(async () => {
    hub.setRoot(await ensureTinyModel(logits));
    browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs({ webgpu }) });
  });
  afterAll(async () => {
    await browser?.close();
    hub.setRoot(await ensureTinyModel());
  });

  it('chats about a photo, follows up from the cache, survives reload and going offline', { timeout: 2_400_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await quickSettings(context, prefer, maxNewTokens);
    const requests = watchRequests(context);
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(app.url);
    await expect.poll(() => page.locator('model-status .line').first().textContent()).toMatch(label);

    await ask(page, 'What is in this photo?', photo);
    await page.locator('message-item[role-name="user"] img.photo').waitFor();
    await finished(page, 0);
    const first = (await assistant(page).nth(0).locator('article').textContent()) ?? '';
    expect(first.length).toBeGreaterThan(10);
    expect(first).toMatch(label); // the per-reply details name the device
    expect(first).toMatch(/tokens\/s/);
    // Exactly the files this device needs, under the dtype names chosen for it.
    expect(onnxFiles(requests)).toEqual(files);
    // Nothing was fetched from anywhere but the app and the model host.
    expect(requests.filter((u) => !u.startsWith(app.origin) && !u.startsWith(hub.url) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);

    // A follow-up about the same image, without re-attaching it: no request leaves the origin.
    requests.length = 0;
    await page.locator('chat-composer image-chip.in-context').waitFor();
    await ask(page, 'What colour is the sky?');
    await finished(page, 1);
    expect(requests.filter((u) => !u.startsWith(app.origin) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);

    if (tryContinue) {
      // The random model never ends an answer: it is cut at the limit, and Continue grows it from the KV cache.
      const answer = assistant(page).nth(1);
      await expect.poll(() => answer.locator('.status.cut-off').textContent()).toBe(`Cut off at ${maxNewTokens} tokens`);
      const before = await lastReplyDetails(page);
      await answer.locator('button.continue').click();
      await answer.locator('button.continue').waitFor({ timeout: ANSWER_TIMEOUT }); // cut again, at twice the tokens
      await expect.poll(() => answer.locator('.status.cut-off').textContent()).toBe(`Cut off at ${2 * maxNewTokens} tokens`);
      const after = await lastReplyDetails(page);
      expect(after).toMatchObject({ continued: 1, tokens: 2 * maxNewTokens, visionRan: false, finishReason: 'length' });
      // No re-prefill: the whole cache was kept, only the last sampled token fed.
      expect(after.cachedTokens).toBe(Number(after.promptTokens) - 1);
      expect(Number(after.promptTokens)).toBe(Number(before.promptTokens) + maxNewTokens);
      await expect.poll(() => assistant(page).count()).toBe(2);
    }

    // Reload: the chat and its image are still there, and the model is known to be here (the Cache API).
    await page.reload();
    await assistant(page).nth(1).waitFor();
    await expect.poll(() => page.locator('model-status .line').first().textContent()).toContain('On this device · loads when you ask');
    await expect.poll(() => page.locator('message-item img.photo').first().evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(640);

    // Offline: once the service worker controls the page, the app and the cached model work without network.
    await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller), { timeout: 60_000 }).toBe(true);
    await context.setOffline(true);
    await page.reload();
    await assistant(page).nth(1).waitFor();
    // Offline users are never told to download what they have.
    await expect.poll(() => page.locator('model-status .line').first().textContent()).toContain('On this device · loads when you ask');
    await ask(page, 'Is there a boat?');
    await finished(page, 2);
    expect(((await assistant(page).nth(2).locator('article').textContent()) ?? '').length).toBeGreaterThan(10);
    // After the reload the engine had no cache, yet the picture was not read again: its features were kept
    // with it in IndexedDB (the engine's own stats, stored with the reply).
    expect(await lastReplyDetails(page)).toMatchObject({ visionRan: false, featuresReused: true });
    await context.setOffline(false);

    // Delete the chat.
    await page.locator('session-item button.delete').click();
    await expect.poll(() => page.locator('session-item').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('the built bundle', () => {
  it('carries no API key from the build environment, and a content security policy', async () => {
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        if (e.isDirectory()) await walk(join(dir, e.name));
        else files.push(join(dir, e.name));
      }
    };
    await walk(join(tmp, 'dist'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const text = await readFile(f, 'latin1');
      expect(text.includes(KEY_CANARY), f).toBe(false);
    }
    const html = await readFile(join(tmp, 'dist', 'index.html'), 'utf8');
    expect(html).toMatch(/http-equiv="Content-Security-Policy"/);
    expect(html).not.toMatch(/src="\//); // no absolute paths: the app works from any subpath
  });
});

describe('a model download cut half-way', () => {
  it('is reported, keeps the question, and a retry completes it', async () => {
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs({ webgpu: false }) });
    try {
      const context = await browser.newContext();
      await quickSettings(context, 'auto', 16);
      const page = await context.newPage();
      hub.cutNext(/decoder_model_merged_quantized\.onnx$/, 64 * 1024);
      await page.goto(app.url);
      await ask(page, 'Will this download?');
      // One card, in the failed answer, says what happened and offers Try again.
      const card = page.locator('message-item[role-name="assistant"] error-banner .message');
      await expect.poll(() => card.textContent(), { timeout: 60_000 }).toMatch(/could not be downloaded/);
      expect(await page.locator('model-status error-banner').count()).toBe(0);
      expect(await page.locator('model-status .state.error').textContent()).toBe('Model files missing');
      // The question is kept, the failed answer is marked as such.
      expect(await page.locator('message-item[role-name="user"]').count()).toBe(1);
      await page.locator('message-item[role-name="assistant"] button.retry').click();
      await expect.poll(() => page.locator('model-status .line').first().textContent(), { timeout: 60_000 }).toMatch(/Ready|Running on/);
      await context.close();
    } finally {
      await browser.close();
    }
  });
});

describe('the device on this machine', () => {
  it('Auto does not pick the software WebGPU adapter, and the status line says so', async () => {
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs({ webgpu: true }) });
    try {
      const page = await (await browser.newContext()).newPage();
      await page.goto(app.url);
      await expect.poll(() => page.locator('model-status .line').first().textContent()).toContain(
        'Will run on the processor (WebAssembly) — the only GPU here is a slow software one',
      );
      // The size offered is the WebAssembly path's (the files Auto will fetch), not the WebGPU one.
      await expect.poll(() => page.locator('model-status .line').first().textContent()).toContain('Not downloaded yet (263 MB, once)');
      expect(await page.locator('model-status .device a').textContent()).toBe('How to turn on the GPU');
    } finally {
      await browser.close();
    }
  });
});
