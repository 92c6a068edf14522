/**
 * The UI end to end, in real headless Chromium against the BUILT app, with the simulated engine
 * (`?fake-engine`): new chat → attach image → ask → streamed answer → follow-up → reload → the chat and its
 * image are still there → delete. Also an axe-core check of the main views and screenshots (desktop and
 * 360-px phone, light and dark) into screenshots/ (git-ignored). The real engine's e2e lives with the engine.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath } from '../chromium';
import { DESKTOP, PHONE, axeCheck, buildAndPreview, makePhoto, shot, type BuiltApp } from './helpers';

let app: BuiltApp;
let baseUrl: string;
let photo: string;
let photo2: string;
let bigPhoto: string;
let textFile: string;

beforeAll(async () => {
  app = await buildAndPreview();
  baseUrl = app.baseUrl;
  photo = join(app.tmp, 'hills.jpg');
  textFile = join(app.tmp, 'notes.png'); // a text file pretending to be a PNG
  await makePhoto(photo);
  photo2 = join(app.tmp, 'hills-mirrored.jpg');
  await sharp(photo).flop().jpeg().toFile(photo2);
  // A 4000×3000 camera-sized JPEG: checking it takes a moment, long enough to press Enter before it ends.
  bigPhoto = join(app.tmp, 'camera.jpg');
  const noise = Buffer.alloc(400 * 300 * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) % 251;
  await sharp(noise, { raw: { width: 400, height: 300, channels: 3 } }).resize(4000, 3000).jpeg({ quality: 90 }).toFile(bigPhoto);
  await writeFile(textFile, 'just some notes, not an image');
});

afterAll(async () => {
  await app?.close();
});

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
    await expect.poll(() => page.locator('chat-view chat-empty section').textContent()).toContain('Runs on your device; nothing is uploaded');
    // Where it will run (not "Running" before it runs), and why when it is not the GPU.
    await expect.poll(() => page.locator('model-status .line').textContent()).toContain(
      name === 'wasm' ? 'Will run on the processor (WebAssembly) — the browser offers no GPU here' : 'Will run on WebGPU',
    );
    // Before anything downloads, how much this device will fetch (q8 files on WASM, fp16/q4f16 on WebGPU).
    const download = name === 'wasm' ? '263 MB' : '325 MB';
    await expect.poll(() => page.locator('chat-view chat-empty section').textContent()).toContain(`(${download} on this device)`);
    expect(await page.locator('model-status .line').textContent()).toContain(`(${download}, once)`);

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
    await expect.poll(() => page.locator('model-status .line').textContent(), { timeout: 60_000 }).toMatch(/Downloading|Starting|Ready|Preparing|Reading|Writing/);
    await expect.poll(() => page.locator('message-item[role-name="assistant"] article').last().textContent(), { timeout: 60_000 }).toContain('You asked');
    await page.locator('message-item[role-name="assistant"] button.regenerate').waitFor({ timeout: 60_000 });
    expect(await page.locator('model-status .line').textContent()).toContain(name === 'wasm' ? 'Running on the processor' : 'Running on WebGPU');
    const first = await page.locator('message-item[role-name="assistant"] article').first().textContent();
    expect(first).toContain('the photo');
    expect(first).toMatch(/tokens\/s/);
    await page.locator('message-item[role-name="assistant"] .code-block pre').first().waitFor();
    await expect.poll(() => page.locator('#announcer').textContent()).toContain('You asked');

    // The image stays in context for follow-ups.
    await page.locator('chat-composer image-chip.in-context').waitFor();
    await box.fill('And the colours?');
    await box.press('Enter');
    await expect.poll(() => page.locator('message-item[role-name="assistant"] article').nth(1).textContent(), { timeout: 60_000 }).toContain('And the colours?');
    await page.locator('message-item[role-name="assistant"]').nth(1).locator('button.regenerate').waitFor({ timeout: 60_000 });
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
    await page.locator('session-list .toast').waitFor({ state: 'detached', timeout: 60_000 });
    await page.reload();
    await expect.poll(() => page.locator('session-list .none').textContent()).toContain('No chats yet');
    await page.locator('chat-view chat-empty').waitFor();

    expect(errors).toEqual([]);
    await context.close();
  });

  it('Enter pressed while a 4000×3000 photo is still being checked sends the question with the photo', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    await page.goto(`${baseUrl}?${query}&fake-download-ms=200&fake-token-ms=2`);
    await page.locator('chat-view chat-empty').waitFor();
    await page.locator('chat-composer textarea').fill('What is in this photo?');
    await page.locator('chat-composer #picker').setInputFiles(bigPhoto);
    await page.locator('chat-composer textarea').press('Enter');
    await page.locator('message-item[role-name="user"] img.photo').waitFor({ timeout: 60_000 });
    await page.locator('message-item[role-name="assistant"] button.regenerate').waitFor({ timeout: 60_000 });
    expect(await page.locator('message-item[role-name="assistant"] article').textContent()).toContain('the photo');
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
        await page.locator('chat-view chat-empty').waitFor();
        await page.waitForTimeout(150);
        await axeCheck(page, `${tag} empty`);
        await shot(page, `${tag}-1-empty`);

        // A conversation about a photo.
        await page.locator('chat-composer #picker').setInputFiles(photo);
        await page.locator('chat-composer image-chip.pending').waitFor();
        await page.locator('chat-composer textarea').fill('What is in this photo?');
        await page.locator('chat-composer textarea').press('Enter');
        await page.locator('model-status .progress').waitFor({ timeout: 60_000 });
        await shot(page, `${tag}-2-downloading`);
        await page.locator('message-item[role-name="assistant"] button.regenerate').waitFor({ timeout: 60_000 });
        await page.locator('chat-view .scroller').evaluate((el) => (el.scrollTop = 0));
        await page.waitForTimeout(100);
        await shot(page, `${tag}-3-answer`);
        // A second photo: the first is marked "Not in context"; the answer regenerated has versions (‹ 2/2 ›).
        await page.locator('chat-composer #picker').setInputFiles(photo2);
        await page.locator('chat-composer image-chip.pending').waitFor();
        await page.locator('chat-composer textarea').fill('Is it morning or evening?');
        await page.locator('chat-composer textarea').press('Enter');
        await page.locator('message-item[role-name="assistant"]').nth(1).locator('button.regenerate').waitFor({ timeout: 60_000 });
        await page.locator('message-item[role-name="assistant"]').nth(1).locator('button.regenerate').click();
        await page.locator('message-item[role-name="assistant"]').nth(1).locator('.versions .count', { hasText: '2/2' }).waitFor({ timeout: 60_000 });
        await page.locator('message-item[role-name="assistant"]').nth(1).locator('button.regenerate').waitFor({ timeout: 60_000 });
        await page.locator('message-item .not-in-context').first().waitFor();
        await page.locator('chat-composer textarea').fill('Which one is brighter?');
        await page.waitForTimeout(150);
        await axeCheck(page, `${tag} conversation`);
        await shot(page, `${tag}-4-conversation`);
        // The first photo, no longer in the model's context, with "Ask about this again".
        await page.locator('message-item figure.out').first().evaluate((el) => el.scrollIntoView({ block: 'start' }));
        await page.waitForTimeout(100);
        await shot(page, `${tag}-4b-not-in-context`);
        await page.locator('chat-composer textarea').fill('');

        // Settings open.
        await page.locator('app-root header button.settings').click();
        await page.locator('settings-panel dialog[open]').waitFor();
        await page.waitForTimeout(150);
        await axeCheck(page, `${tag} settings`);
        await shot(page, `${tag}-5-settings`);
        await page.keyboard.press('Escape');
        await page.locator('settings-panel dialog[open]').waitFor({ state: 'detached' });

        // The model host cannot be reached: one card with what to do.
        await page.goto(`${baseUrl}?${query}&fake-offline&fake-download-ms=300`);
        await page.locator('model-status button.download').click();
        await page.locator('chat-view engine-card error-banner').waitFor();
        await page.waitForTimeout(150);
        await axeCheck(page, `${tag} model host unreachable`);
        await shot(page, `${tag}-7-host-unreachable`);

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
