/**
 * A new version of the app is picked up without breaking a chat in progress: the built app runs under its
 * service worker, a new version is published (the service worker file changes) while an answer streams,
 * the answer finishes undisturbed, the "New version — reload" offer appears only then, and reloading
 * activates the new version with the chat intact.
 */
import { appendFile, cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath } from '../chromium';
import { startStaticServer, type StaticServer } from '../fixtures/static-server';
import { buildApp } from './helpers';

let tmp: string;
let site: string;
let app: StaticServer;
let browser: Browser;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'glimpse-update-e2e-'));
  await buildApp(join(tmp, 'v1'));
  site = join(tmp, 'site');
  await cp(join(tmp, 'v1'), site, { recursive: true });
  app = await startStaticServer(site, { prefix: '/glimpse/' });
  browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs({ webgpu: false }) });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('updating the app', () => {
  it('waits for the chat in progress, then offers a reload that activates the new version', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    await page.goto(`${app.url}?fake-engine=wasm&fake-download-ms=100&fake-token-ms=150`);
    // The first visit installs the worker, and the app reloads itself once into it (src/isolate.ts, for
    // cross-origin isolation) when it is active within 5 s of the start; else it starts uncontrolled and the
    // next load is controlled. A reload of ours during the app's own aborts (net::ERR_ABORTED, seen in a full
    // run), so: wait for the app's reload, and reload only when it did not come. Reads during a navigation fail.
    const controlled = () => page.evaluate(() => !!navigator.serviceWorker.controller).catch(() => false);
    await expect.poll(() => page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration())?.active).catch(() => false), { timeout: 60_000 }).toBe(true);
    const reloadedByApp = await expect.poll(controlled, { timeout: 15_000 }).toBe(true).then(() => true, () => false);
    if (!reloadedByApp) await page.reload();
    await expect.poll(controlled, { timeout: 60_000 }).toBe(true);
    const firstWorker = await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.active?.scriptURL);
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

    // An answer is streaming...
    await page.locator('chat-composer textarea').fill('Tell me a long story');
    await page.locator('chat-composer textarea').press('Enter');
    await expect.poll(() => page.locator('model-status .line').first().textContent()).toMatch(/Downloading|Starting|Reading the conversation|Writing/); // an answer under way, at whatever stage

    // ...when a new version is published and the page checks for it.
    await appendFile(join(site, 'sw.js'), '\n// release 2\n');
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
    await expect
      .poll(() => page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration())?.waiting), { timeout: 60_000 })
      .toBe(true);

    // The page was not reloaded under the user and the offer waits for the answer to finish.
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
    expect(await page.locator('app-root button.update').count()).toBe(0);
    await page.locator('message-item[role-name="assistant"] button.regenerate').waitFor({ timeout: 60_000 });
    const answer = await page.locator('message-item[role-name="assistant"] article').first().textContent();
    expect(answer).toContain('Tell me a long story');
    await page.locator('app-root button.update').waitFor();

    // Reload on the user's word: the new worker takes over and the chat is still there.
    await Promise.all([page.waitForEvent('load'), page.locator('app-root button.update').click()]);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBeUndefined();
    await page.locator('message-item[role-name="assistant"] button.regenerate').waitFor();
    const state = await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      return { waiting: !!reg?.waiting, active: reg?.active?.scriptURL };
    });
    expect(state).toEqual({ waiting: false, active: firstWorker });
    await context.close();
  });
});
