/**
 * The UI end to end, in real headless Chromium against the BUILT app, with the simulated engine
 * (`?fake-engine`): new chat → attach image → ask → streamed answer → follow-up → reload → the chat and its
 * image are still there → delete. Also an axe-core check of the main views and screenshots (desktop and
 * 360-px phone, light and dark) into screenshots/ (git-ignored). The real engine's e2e lives with the engine.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath } from '../chromium';

const ROOT = resolve(import.meta.dirname, '../..');
const SHOTS = join(ROOT, 'screenshots');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 360, height: 740 };

let outDir: string;
let server: PreviewServer;
let baseUrl: string;
let photo: string;
let textFile: string;

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

/** A small "photo": hills under a sky, drawn as SVG and encoded as JPEG. */
async function makePhoto(path: string): Promise<void> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#f6b26b"/><stop offset="1" stop-color="#fde9c9"/></linearGradient></defs>
    <rect width="800" height="600" fill="url(#sky)"/><circle cx="560" cy="210" r="70" fill="#fff3d6"/>
    <path d="M0 420 Q200 300 400 400 T800 380 V600 H0Z" fill="#5b8c5a"/><path d="M0 500 Q250 420 500 500 T800 480 V600 H0Z" fill="#3d6b45"/>
  </svg>`;
  await sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toFile(path);
}

beforeAll(async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'glimpse-ui-e2e-'));
  outDir = join(tmp, 'dist');
  photo = join(tmp, 'hills.jpg');
  textFile = join(tmp, 'notes.png'); // a text file pretending to be a PNG
  await makePhoto(photo);
  await writeFile(textFile, 'just some notes, not an image');
  await mkdir(SHOTS, { recursive: true });
  await build({ root: ROOT, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  const port = await freePort();
  server = await preview({ root: ROOT, logLevel: 'warn', build: { outDir }, preview: { port, strictPort: true, host: '127.0.0.1' } });
  baseUrl = `http://127.0.0.1:${port}/`;
});

afterAll(async () => {
  await server?.close();
  if (outDir) await rm(resolve(outDir, '..'), { recursive: true, force: true });
});

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
}

async function axeCheck(page: Page, view: string): Promise<void> {
  await page.addScriptTag({ path: join(ROOT, 'node_modules/axe-core/axe.min.js') });
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<AxeResult> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return { violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })) };
  });
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${view}: ${v.id} (${v.impact}) ${v.help} at ${JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))}`)).toEqual([]);
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });

describe.each([
  { name: 'webgpu', query: 'fake-engine', webgpu: true },
  { name: 'wasm', query: 'fake-engine=wasm', webgpu: false },
])('UI with the simulated engine ($name)', ({ name, query, webgpu }) => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs({ webgpu }) });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('new chat → image → ask → streamed answer → follow-up → reload keeps it → delete', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${baseUrl}?${query}&fake-download-ms=900&fake-token-ms=12`);

    // Empty state: what to do first, and the privacy promise.
    await expect.poll(() => page.locator('chat-view .empty').textContent()).toContain('Runs on your device; nothing is uploaded');
    await expect.poll(() => page.locator('model-status .line').textContent()).toContain(name === 'wasm' ? 'Running on WASM' : 'Running on WebGPU');

    // A wrong file is refused next to the composer, and the typed text stays.
    const box = page.locator('chat-composer textarea');
    await box.fill('What is in this photo?');
    await page.locator('chat-composer #picker').setInputFiles(textFile);
    await expect.poll(() => page.locator('chat-composer error-banner .banner').textContent()).toContain('can’t be used');
    expect(await box.inputValue()).toBe('What is in this photo?');

    // Attach the photo: a chip with its token cost.
    await page.locator('chat-composer #picker').setInputFiles(photo);
    await expect.poll(() => page.locator('chat-composer image-chip.pending .chip').textContent()).toMatch(/\d+ image tokens/);
    expect(await page.locator('chat-composer error-banner .banner').count()).toBe(0); // a good image clears it

    await box.press('Enter');
    // The question shows at once with its image; the answer waits for the download, then streams.
    await page.locator('message-item[role-name="user"] img.photo').waitFor();
    await expect.poll(() => page.locator('model-status .line').textContent(), { timeout: 10_000 }).toMatch(/Downloading|Ready|Generating/);
    await expect.poll(() => page.locator('message-item[role-name="assistant"] article').last().textContent(), { timeout: 20_000 }).toContain('You asked');
    await page.locator('message-item[role-name="assistant"] button.regenerate').waitFor({ timeout: 20_000 });
    const first = await page.locator('message-item[role-name="assistant"] article').first().textContent();
    expect(first).toContain('the photo');
    expect(first).toMatch(/tokens\/s/);
    await page.locator('message-item[role-name="assistant"] .code-block pre').first().waitFor();
    await expect.poll(() => page.locator('#announcer').textContent()).toContain('You asked');

    // The image stays in context for follow-ups.
    await page.locator('chat-composer image-chip.in-context').waitFor();
    await box.fill('And the colours?');
    await box.press('Enter');
    await expect.poll(() => page.locator('message-item[role-name="assistant"] article').nth(1).textContent(), { timeout: 20_000 }).toContain('And the colours?');
    await page.locator('message-item[role-name="assistant"]').nth(1).locator('button.regenerate').waitFor({ timeout: 20_000 });
    expect(await page.locator('session-item').count()).toBe(1);
    expect(await page.locator('session-item .title').first().textContent()).toContain('What is in this photo?');

    // Reload: the chat, its two answers and its image are still there.
    await page.reload();
    await page.locator('message-item[role-name="assistant"]').nth(1).waitFor();
    await expect.poll(() => page.locator('message-item img.photo').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(800);
    expect(await page.locator('message-item[role-name="user"]').count()).toBe(2);
    await page.locator('chat-composer image-chip.in-context').waitFor();

    // Delete: gone at once, Undo offered, then really deleted.
    await page.locator('session-item button.delete').click();
    await page.locator('session-list .toast').waitFor();
    expect(await page.locator('session-item').count()).toBe(0);
    await page.locator('session-list .toast').waitFor({ state: 'detached', timeout: 10_000 });
    await page.reload();
    await expect.poll(() => page.locator('session-list .none').textContent()).toContain('No chats yet');
    await page.locator('chat-view .empty').waitFor();

    expect(errors).toEqual([]);
    await context.close();
  });

  it('passes axe on the main views and saves screenshots', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      for (const [device, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
        // bypassCSP: the app's CSP (rightly) refuses the inline script axe is injected as.
        const context = await browser.newContext({ viewport, colorScheme: scheme, deviceScaleFactor: 1, bypassCSP: true });
        const page = await context.newPage();
        await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
        const tag = `${name}-${device}-${scheme}`;
        await page.goto(`${baseUrl}?${query}&fake-download-ms=600&fake-token-ms=4`);
        await page.locator('chat-view .empty').waitFor();
        await page.waitForTimeout(150);
        await axeCheck(page, `${tag} empty`);
        await shot(page, `${tag}-1-empty`);

        // A conversation about a photo.
        await page.locator('chat-composer #picker').setInputFiles(photo);
        await page.locator('chat-composer image-chip.pending').waitFor();
        await page.locator('chat-composer textarea').fill('What is in this photo?');
        await page.locator('chat-composer textarea').press('Enter');
        await page.locator('model-status .progress').waitFor({ timeout: 10_000 });
        await shot(page, `${tag}-2-downloading`);
        await page.locator('message-item[role-name="assistant"] button.regenerate').waitFor({ timeout: 20_000 });
        await page.locator('chat-view .scroller').evaluate((el) => (el.scrollTop = 0));
        await page.waitForTimeout(100);
        await shot(page, `${tag}-3-answer`);
        await page.locator('chat-composer textarea').fill('Is it morning or evening?');
        await page.locator('chat-composer textarea').press('Enter');
        await page.locator('message-item[role-name="assistant"]').nth(1).locator('button.regenerate').waitFor({ timeout: 20_000 });
        await page.waitForTimeout(150);
        await axeCheck(page, `${tag} conversation`);
        await shot(page, `${tag}-4-conversation`);

        // Settings open.
        await page.locator('app-root header button.settings').click();
        await page.locator('settings-panel dialog[open]').waitFor();
        await page.waitForTimeout(150);
        await axeCheck(page, `${tag} settings`);
        await shot(page, `${tag}-5-settings`);
        await page.keyboard.press('Escape');
        await page.locator('settings-panel dialog[open]').waitFor({ state: 'detached' });

        if (device === 'phone') {
          // The sidebar is a drawer with a toggle.
          expect(await page.locator('session-list').isVisible()).toBe(false);
          await page.locator('app-root header button.menu').click();
          await page.waitForTimeout(300);
          expect(await page.locator('session-list').isVisible()).toBe(true);
          await axeCheck(page, `${tag} drawer`);
          await shot(page, `${tag}-6-drawer`);
          await page.keyboard.press('Escape');
          await page.waitForTimeout(300);
          expect(await page.locator('session-list').isVisible()).toBe(false);
        }
        await context.close();
      }
    }
  });
});
