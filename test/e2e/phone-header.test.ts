/**
 * The status header on a 360-px phone and the views issue 23 changed, in real headless Chromium against the
 * BUILT app with the simulated engine: one line when idle (the rest on demand), download Details that leave
 * most of the screen, file names not broken inside a word; axe on the phone views; screenshots (desktop and
 * phone, light and dark, an Arabic chat among them) into screenshots/ (git-ignored).
 */
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath } from '../chromium';
import { DESKTOP, PHONE, axeCheck, buildAndPreview, shot, type BuiltApp } from './helpers';

let app: BuiltApp;
let browser: Browser;

beforeAll(async () => {
  app = await buildAndPreview('glimpse-phone-e2e-');
  browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs({ webgpu: true }) });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('the status header on a phone', () => {
  it('one line when idle, the rest on demand; Details leave most of the screen; names break between words', async () => {
    const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${app.baseUrl}?fake-engine&fake-download-ms=20000&fake-token-ms=4`);
    const status = page.locator('model-status');
    await status.locator('button.download').waitFor();
    const idle = await status.evaluate((el) => el.getBoundingClientRect().height);
    expect(idle).toBeLessThanOrEqual(40); // one 36-px line
    const header = await page.locator('app-root main > header').evaluate((el) => el.getBoundingClientRect().height);
    expect(header).toBeLessThanOrEqual(PHONE.height * 0.1);
    await shot(page, 'phone-header-1-idle');
    // On demand: where it runs, and the size.
    await status.locator('button.more').click();
    await expect.poll(() => status.locator('.device').isVisible()).toBe(true);
    expect(await status.locator('.device').textContent()).toContain('Will run on WebGPU');
    await shot(page, 'phone-header-2-more');
    await status.locator('button.more').click();
    await expect.poll(() => status.locator('.device').isVisible()).toBe(false);

    // The info button stays on the line whatever the state says (here a long failure).
    expect(await status.locator('button.more').isVisible()).toBe(true);

    // The download, Details open.
    await status.locator('button.download').click();
    await status.locator('.progress details summary').click();
    await status.locator('.progress details li').first().waitFor();
    const box = await status.evaluate((el) => el.getBoundingClientRect().height);
    expect(box).toBeLessThan(PHONE.height * 0.45);
    // Each file name breaks only after "/" or "_" (never inside a word), and none overflows its row.
    const names = await status.locator('.progress details li .name').evaluateAll((els) => els.map((el) => {
      const text = el.textContent ?? '';
      const words = text.split(/(?<=[/_])/);
      // Every word on one line: a Range over it has one line box.
      let broken = false;
      let offset = 0;
      const node = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      const texts: Text[] = [];
      while (node.nextNode()) texts.push(node.currentNode as Text);
      for (const t of texts) {
        const range = document.createRange();
        range.selectNodeContents(t);
        const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (tops.size > 1) broken = true;
        offset += t.length;
      }
      return { text, words: words.length, broken, overflow: el.scrollWidth > el.clientWidth + 1, offset };
    }));
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(n, n.text).toMatchObject({ broken: false, overflow: false });
    await axeCheck(page, 'phone downloading, details open');
    await shot(page, 'phone-header-3-details');
    await context.close();
  });

  it('screenshots of the changed views (desktop and phone, light and dark): an Arabic chat, Jump to latest', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      for (const [device, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
        const context = await browser.newContext({ viewport, colorScheme: scheme, deviceScaleFactor: 1, bypassCSP: true });
        const page = await context.newPage();
        await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
        const tag = `issue23-${device}-${scheme}`;
        // Short answers, so the first is cut at the limit (as a long answer is at 512 tokens).
        await context.addInitScript(() => localStorage.setItem('glimpse:settings', JSON.stringify({ maxNewTokens: 24 })));
        await page.goto(`${app.baseUrl}?fake-engine&fake-cached&fake-download-ms=200&fake-token-ms=4`);
        await page.locator('chat-view chat-empty').waitFor();
        await shot(page, `${tag}-1-empty`);
        await page.locator('chat-composer textarea').fill('ما الذي في هذه الصورة؟ صف الألوان من فضلك.');
        await page.locator('chat-composer textarea').press('Enter');
        const answer = page.locator('message-item[role-name="assistant"]');
        await answer.locator('button.regenerate').waitFor({ timeout: 60_000 });
        expect(await page.locator('message-item[role-name="user"] .user-text').evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
        // Cut at the limit: marked, with Continue beside Copy and Regenerate.
        expect(await answer.locator('.status.cut-off').textContent()).toBe('Cut off at 24 tokens');
        await answer.locator('button.continue').waitFor();
        await axeCheck(page, `${tag} cut-off answer`);
        await shot(page, `${tag}-2-cut-off-continue`);
        while (await answer.locator('button.continue').count()) {
          await answer.locator('button.continue').click();
          await answer.locator('button.regenerate').waitFor({ state: 'detached', timeout: 60_000 }).catch(() => undefined);
          await answer.locator('button.regenerate').waitFor({ timeout: 60_000 });
        }
        // Each block of the answer takes its direction from its own text.
        expect(await answer.locator('.md p').first().evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
        expect(await answer.locator('.md').textContent()).toContain('اسألني عن أي شيء آخر فيها.');
        await page.locator('chat-view .scroller').evaluate((el) => (el.scrollTop = 0));
        await axeCheck(page, `${tag} arabic answer`);
        await shot(page, `${tag}-3-arabic-answer`);
        await answer.locator('button.regenerate').click();
        await answer.locator('.versions .count', { hasText: '2/2' }).waitFor({ timeout: 60_000 });
        await answer.locator('button.regenerate').waitFor({ timeout: 60_000 });
        expect(await answer.locator('.details').textContent()).toMatch(/temperature 0\.7 · seed \d+/);
        await page.locator('chat-composer textarea').fill('שאלה נוספת בעברית');
        await axeCheck(page, `${tag} rtl conversation`);
        await shot(page, `${tag}-4-rtl-regenerated`);
        await context.close();
      }
    }
  });
});
