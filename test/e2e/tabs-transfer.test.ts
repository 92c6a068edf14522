/**
 * The BUILT app with the simulated engine (`?fake-engine`), in real headless Chromium:
 *  (a) Settings → Storage: export all chats → delete the chat → import the file → the chat and its photo
 *      are back (the <img> decodes at its real width);
 *  (b) two pages (tabs) of one browser profile on one chat: what one sends shows in the other without a
 *      reload, both sidebars follow, and messages sent from both at once are never interleaved or lost
 *      (checked in IndexedDB);
 *  plus axe and screenshots of the Storage tab (desktop and phone, light and dark) into screenshots/.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath } from '../chromium';
import { ask, axeCheck, buildAndPreview, type BuiltApp, DESKTOP, makePhoto, PHONE, shot } from './helpers';

let app: BuiltApp;
let browser: Browser;
let photo: string;

beforeAll(async () => {
  app = await buildAndPreview('glimpse-tabs-e2e-');
  photo = join(app.tmp, 'hills.jpg');
  await makePhoto(photo);
  browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs({ webgpu: true }) });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const url = (tokenMs = 4) => `${app.baseUrl}?fake-engine&fake-download-ms=300&fake-token-ms=${tokenMs}`;

/** Waits until the page shows `count` finished answers. */
async function answered(page: Page, count: number): Promise<void> {
  await page.locator('message-item[role-name="assistant"]').nth(count - 1).locator('button.regenerate').waitFor({ timeout: 60_000 });
}

async function openStorage(page: Page): Promise<void> {
  await page.locator('app-root header button.settings').click();
  await page.locator('settings-panel dialog[open]').waitFor();
  await page.locator('settings-panel [role="tab"]#tab-storage').click();
  await page.locator('storage-panel .used').waitFor();
}

async function closeSettings(page: Page): Promise<void> {
  await page.keyboard.press('Escape');
  await page.locator('settings-panel dialog[open]').waitFor({ state: 'detached' });
}

interface Row {
  seq: number;
  role: string;
  text: string;
  status: string;
}

/** The chat's messages straight from IndexedDB, in stored order. */
function storedHistory(page: Page, sessionId: string): Promise<Row[]> {
  return page.evaluate(
    (id) =>
      new Promise<Row[]>((resolve, reject) => {
        const req = indexedDB.open('glimpse');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          const get = db.transaction('messages').objectStore('messages').getAll(IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER]));
          get.onerror = () => reject(get.error);
          get.onsuccess = () => {
            const rows = (get.result as { seq: number; role: string; status: string; content: { type: string; text?: string }[] }[]).map((m) => ({
              seq: m.seq,
              role: m.role,
              status: m.status,
              text: m.content.map((p) => p.text ?? '').join(''),
            }));
            db.close();
            resolve(rows);
          };
        };
      }),
    sessionId,
  );
}

const openSessionId = (page: Page) => page.evaluate(() => document.querySelector('app-root')?.sessionId ?? null);

describe('export and import in the built app', () => {
  it('export → delete → import restores the chat with its photo', async () => {
    const context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url());
    await page.locator('chat-composer #picker').setInputFiles(photo);
    await page.locator('chat-composer image-chip.pending').waitFor();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await ask(page, 'What is in this photo?');
    await answered(page, 1);

    // Export all chats. The Storage tab's code loads only when the tab opens.
    expect(requested.filter((u) => u.includes('storage-panel'))).toEqual([]);
    await openStorage(page);
    expect(requested.filter((u) => u.includes('storage-panel'))).toHaveLength(1);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('transfer-panel button.export-all').click()]);
    expect(download.suggestedFilename()).toMatch(/^glimpse-chats-\d{4}-\d{2}-\d{2}\.json$/);
    const file = join(app.tmp, download.suggestedFilename());
    await download.saveAs(file);
    const json = JSON.parse(await readFile(file, 'utf8')) as { format: string; sessions: { title: string; history: unknown[] }[]; images: object };
    expect(json.format).toBe('glimpse-export');
    expect(json.sessions).toHaveLength(1);
    expect(json.sessions[0]!.history).toHaveLength(2);
    expect(Object.keys(json.images)).toHaveLength(1);
    await closeSettings(page);

    // Delete the chat (and let the Undo window pass).
    await page.locator('session-item button.delete').click();
    await page.locator('session-list .toast').waitFor({ state: 'detached', timeout: 60_000 });
    await expect.poll(() => page.locator('session-list .none').textContent()).toContain('No chats yet');

    // Import it back.
    await openStorage(page);
    await page.locator('transfer-panel #import-file').setInputFiles(file);
    await expect.poll(() => page.locator('transfer-panel .transfer-ok').textContent()).toBe('Imported 1 chat.');
    // Importing the same file again does not duplicate it.
    await page.locator('transfer-panel #import-file').setInputFiles(file);
    await expect.poll(() => page.locator('transfer-panel .transfer-ok').textContent()).toBe('Nothing new: the chat is already here.');
    await closeSettings(page);
    expect(await page.locator('session-item').count()).toBe(1);

    await page.locator('session-item button.open').click();
    await page.locator('message-item[role-name="assistant"]').waitFor();
    await expect.poll(() => page.locator('message-item img.photo').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(800);
    expect(await page.locator('message-item[role-name="assistant"] article').textContent()).toContain('You asked');
    // The photo is back in the model's context too.
    await page.locator('chat-composer image-chip.in-context').waitFor();

    // A broken file: the error says what was wrong; nothing changes.
    const broken = join(app.tmp, 'broken.json');
    await import('node:fs/promises').then((fs) => fs.writeFile(broken, '{"format": "glimpse-export", "version": 1, "sessions": {}}'));
    await openStorage(page);
    await page.locator('transfer-panel #import-file').setInputFiles(broken);
    await expect.poll(() => page.locator('transfer-panel error-banner .banner').textContent()).toContain('"sessions" is not a list. Nothing was changed.');
    await closeSettings(page);
    expect(await page.locator('session-item').count()).toBe(1);

    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('two tabs on one chat', () => {
  it('what one tab sends shows in the other; messages from both never interleave or get lost', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const a = await context.newPage();
    const b = await context.newPage();
    const errors: string[] = [];
    for (const p of [a, b]) p.on('pageerror', (e) => errors.push(e.message));
    await a.goto(url(12));
    await b.goto(url(12));
    await b.locator('chat-view chat-empty').waitFor();

    // A starts a chat: B's sidebar shows it without a reload.
    await ask(a, 'Hello from A');
    await answered(a, 1);
    await expect.poll(() => b.locator('session-item .title').allTextContents()).toEqual(['Hello from A']);
    await b.locator('session-item button.open').click();
    await answered(b, 1);
    const id = await openSessionId(a);
    expect(id).toBeTruthy();
    expect(await openSessionId(b)).toBe(id);

    // A sends again: B shows the question and the answer streaming in, without a reload.
    await ask(a, 'Second from A');
    await expect.poll(() => b.locator('message-item[role-name="user"] .user-text').allTextContents()).toEqual(['Hello from A', 'Second from A']);
    await answered(b, 2);
    await expect.poll(() => b.locator('message-item[role-name="assistant"] article').nth(1).textContent()).toContain('You asked: “Second from A”');

    // B sends: A follows, and both sidebars show the chat's latest message.
    await ask(b, 'Reply from B');
    await answered(a, 3);
    await expect.poll(() => a.locator('message-item[role-name="user"] .user-text').nth(2).textContent()).toBe('Reply from B');
    for (const p of [a, b]) await expect.poll(() => p.locator('session-item').count()).toBe(1);

    // Both at once, twice: B's message waits for A's answer ("Waiting for the other tab…"), then follows it.
    await ask(a, 'A at once 1');
    await b.locator('message-item[role-name="assistant"]').nth(3).waitFor();
    await ask(b, 'B at once 1');
    await expect.poll(() => b.locator('chat-composer .waiting').textContent(), ).toContain('Waiting for the other tab');
    await answered(a, 5);
    await answered(b, 5);
    await ask(b, 'B at once 2');
    await ask(a, 'A at once 2');
    await answered(a, 7);
    await answered(b, 7);

    const rows = await storedHistory(a, id!);
    const users = rows.filter((r) => r.role === 'user').map((r) => r.text);
    expect(users.slice(0, 5)).toEqual(['Hello from A', 'Second from A', 'Reply from B', 'A at once 1', 'B at once 1']);
    expect(users.slice(5).sort()).toEqual(['A at once 2', 'B at once 2']);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i));
    // Strictly question, answer, question, answer…, each answer to the question just before it.
    for (let i = 0; i < rows.length; i += 2) {
      expect(rows[i]!.role).toBe('user');
      expect(rows[i + 1]!.role).toBe('assistant');
      expect(rows[i + 1]!.status).toBe('complete');
      expect(rows[i + 1]!.text).toContain(`You asked: “${rows[i]!.text}”`);
    }
    expect(rows).toHaveLength(14);
    // Both pages show the same 14 turns.
    for (const p of [a, b]) await expect.poll(() => p.locator('message-item').count()).toBe(14);

    // Deleted in A: B closes the chat and says why.
    await a.locator('session-item button.delete').click();
    await a.locator('session-list .toast').waitFor({ state: 'detached', timeout: 60_000 });
    await expect.poll(() => b.locator('chat-view .notice error-banner .message').textContent()).toContain('deleted in another tab');
    await b.locator('chat-view chat-empty').waitFor();
    await expect.poll(() => b.locator('session-item').count()).toBe(0);

    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('the Storage tab', () => {
  it('passes axe and saves screenshots (desktop and phone, light and dark)', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      for (const [device, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
        const context = await browser.newContext({ viewport, colorScheme: scheme, deviceScaleFactor: 1, bypassCSP: true });
        const page = await context.newPage();
        await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
        await page.goto(url());
        await page.locator('chat-view chat-empty').waitFor();
        // A cached model (its size from the header, like a real download's) and a chat to export.
        await page.evaluate(async () => {
          const cache = await caches.open('transformers-cache');
          const put = (file: string, bytes: number) =>
            cache.put(`https://huggingface.co/HuggingFaceTB/SmolVLM-256M-Instruct/resolve/main/${file}`, new Response('x', { headers: { 'content-length': String(bytes) } }));
          await put('onnx/decoder_model_merged_q4f16.onnx', 77e6);
          await put('onnx/vision_encoder_fp16.onnx', 190e6);
          await put('tokenizer.json', 3.5e6);
        });
        await ask(page, 'What is in this photo?');
        await answered(page, 1);
        await openStorage(page);
        await page.locator('model-manager li.model').waitFor();
        await page.waitForTimeout(150);
        const tag = `storage-${device}-${scheme}`;
        await axeCheck(page, tag);
        await shot(page, `${tag}-1-top`);
        await page.locator('model-manager li.model button.delete').click();
        await page.locator('model-manager .confirm').waitFor();
        await page.locator('model-manager #folder-title').scrollIntoViewIfNeeded();
        await page.waitForTimeout(100);
        await axeCheck(page, `${tag} confirm`);
        await shot(page, `${tag}-2-models`);
        await page.locator('transfer-panel button.export-all').scrollIntoViewIfNeeded();
        await page.waitForTimeout(100);
        await shot(page, `${tag}-3-transfer`);
        await context.close();
      }
    }
  });
});
