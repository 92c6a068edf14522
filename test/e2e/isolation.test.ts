/**
 * Multi-threaded WebAssembly on a static host that sends no COOP/COEP headers (GitHub Pages cannot): the
 * BUILT app on a plain file server, the model on a hub-layout server on another port (another origin). The
 * service worker adds the headers to the app's own responses, the first visit reloads once before the app
 * starts, and from then on the page is cross-origin isolated: ONNX Runtime runs on more than one thread (its
 * pthread workers are counted), the model still downloads from the other origin, the proxy still answers,
 * and an offline reload still works.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wasmThreads } from '../../src/engine/threads';
import { loadConfig } from '../../src/proxy/config';
import { startProxy } from '../../src/proxy/node';
import { chromiumArgs, chromiumPath } from '../chromium';
import { startFakeOpenAI, type FakeOpenAI } from '../fixtures/fake-openai';
import { startHubServer, type HubServer } from '../fixtures/hub-server';
import { ensureTinyModel } from '../fixtures/model/ensure';
import { startStaticServer, type StaticServer } from '../fixtures/static-server';
import { ask, buildApp, makePhoto } from './helpers';

const SUBPATH = '/glimpse/';
const ANSWER_TIMEOUT = 600_000;

let tmp: string;
let hub: HubServer;
let app: StaticServer;
let fake: FakeOpenAI;
let proxy: { url: string; close(): Promise<void> };
let browser: Browser;
let photo: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'glimpse-isolation-e2e-'));
  hub = await startHubServer(await ensureTinyModel());
  photo = join(tmp, 'photo.jpg');
  await makePhoto(photo);
  await buildApp(join(tmp, 'dist'), { VITE_MODEL_HOST: hub.url });
  app = await startStaticServer(join(tmp, 'dist'), { prefix: SUBPATH }); // no COOP/COEP: isolated: false
  fake = await startFakeOpenAI();
  proxy = await startProxy(
    loadConfig({ OPENAI_API_KEY: 'sk-isolation-e2e', OPENAI_BASE_URL: fake.baseURL, PORT: '0', GLIMPSE_ALLOWED_ORIGINS: app.origin }),
    { log: () => undefined },
  );
  browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs({ webgpu: false }) });
});

afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await fake?.close();
  await app?.close();
  await hub?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const assistant = (page: Page) => page.locator('message-item[role-name="assistant"]');
const finished = (page: Page, n: number) => assistant(page).nth(n).locator('button.regenerate').waitFor({ timeout: ANSWER_TIMEOUT });
const isolated = (page: Page) => page.evaluate(() => self.crossOriginIsolated).catch(() => null); // null while it reloads

async function openContext(settings: Record<string, unknown>): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript((s) => {
    if (!localStorage.getItem('glimpse:settings')) localStorage.setItem('glimpse:settings', JSON.stringify(s));
  }, settings);
  return context;
}

describe('the built app on a static host without COOP/COEP headers', () => {
  it('becomes cross-origin isolated on the first visit and answers on several WebAssembly threads', { timeout: 1_200_000 }, async () => {
    const context = await openContext({ maxNewTokens: 12, imageDetail: 'low' });
    const requests: string[] = [];
    const failures: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    context.on('requestfailed', (r) => failures.push(`${r.url()} ${r.failure()?.errorText ?? ''}`));
    context.on('response', (r) => {
      if (r.status() >= 400) failures.push(`${r.status()} ${r.url()}`);
    });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const documents: { isolatedHeaders: boolean; fromServiceWorker: boolean }[] = [];
    page.on('response', (r) => {
      if (r.request().resourceType() !== 'document') return;
      const h = r.headers();
      documents.push({
        isolatedHeaders: h['cross-origin-opener-policy'] === 'same-origin' && h['cross-origin-embedder-policy'] === 'credentialless',
        fromServiceWorker: r.fromServiceWorker(),
      });
    });

    // Two threads asked: the app's own choice is half the cores (1 on a 2-core machine, see src/engine/threads.ts).
    await page.goto(`${app.url}?wasm-threads=2`);
    // The first page came from the network without the headers; the app reloads itself once, into isolation.
    await expect.poll(() => isolated(page), { timeout: 120_000 }).toBe(true);
    await page.locator('chat-composer textarea').waitFor();
    expect(await page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
    expect(documents).toEqual([
      { isolatedHeaders: false, fromServiceWorker: false },
      { isolatedHeaders: true, fromServiceWorker: true },
    ]);

    // A WASM answer about a photo: the model comes from the hub on another origin (CORS, credentialless).
    await ask(page, 'What is in this photo?', photo);
    await finished(page, 0);
    expect(await assistant(page).nth(0).locator('article').textContent()).toMatch(/WASM|WebAssembly/);
    expect(requests.some((u) => u.startsWith(hub.url) && u.includes('/onnx/'))).toBe(true);
    // ONNX Runtime's threads: numThreads - 1 pthread workers beside the engine worker (none on one thread).
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const threads = wasmThreads({ isolated: true, cores, asked: 2 });
    expect(threads).toBe(2);
    const workers = page.workers().map((w) => w.url());
    expect(workers.filter((u) => u.startsWith(app.url + 'assets/worker'))).toHaveLength(1); // the engine worker
    expect(workers.filter((u) => u.startsWith('blob:'))).toHaveLength(threads - 1); // its ORT pthreads

    // Offline: the app's page is still isolated (the precached shell gets the headers too) and chats.
    await context.setOffline(true);
    await page.goto(app.url);
    await assistant(page).nth(0).waitFor();
    expect(await isolated(page)).toBe(true);
    await ask(page, 'And the sky?');
    await finished(page, 1);
    await context.setOffline(false);
    // Without the ask the engine runs on the app's own choice: half the cores, at most 4 (1 on 2 cores: no pthread).
    const own = page.workers().map((w) => w.url());
    expect(own.filter((u) => u.startsWith(app.url + 'assets/worker'))).toHaveLength(1);
    expect(own.filter((u) => u.startsWith('blob:'))).toHaveLength(wasmThreads({ isolated: true, cores }) - 1);

    expect(failures.filter((f) => !f.includes('ERR_INTERNET_DISCONNECTED'))).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('still reaches the proxy (remote backend) on another origin when isolated', { timeout: 300_000 }, async () => {
    const context = await openContext({ backend: 'remote', proxyUrl: proxy.url, maxNewTokens: 12 });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto(app.url);
    await expect.poll(() => isolated(page), { timeout: 120_000 }).toBe(true);
    await ask(page, 'Hello through the proxy');
    await finished(page, 0);
    expect(await assistant(page).nth(0).locator('article').textContent()).toContain('Hello through the proxy');
    expect(fake.requests.length).toBeGreaterThanOrEqual(1);
    await context.close();
  });
});
