/**
 * Real Chromium for the browser groups: the repo served by Vite's dev server (the project's own config, so
 * pages import src/ as the app does) and Debian's Chromium driven by playwright-core.
 */
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { chromiumArgs, chromiumPath } from '../chromium';
import { REPO_ROOT } from './common';

export interface BenchBrowser {
  page: Page;
  origin: string;
  close(): Promise<void>;
}

/**
 * Starts the dev server on a free port and opens `path` (e.g. /test/bench/pages/idb.html) in Chromium;
 * `isolated` serves it with COOP/COEP (SharedArrayBuffer, multi-threaded WebAssembly).
 */
export async function openBenchPage(
  path: string,
  opts: { webgpu: boolean; log: (line: string) => void; isolated?: boolean },
): Promise<BenchBrowser> {
  let server: ViteDevServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await createServer({
      root: REPO_ROOT,
      configFile: join(REPO_ROOT, 'vite.config.ts'),
      logLevel: 'warn',
      server: {
        port: 0, strictPort: false, host: '127.0.0.1', hmr: false,
        // What the built app's service worker adds (src/sw/headers.ts): a cross-origin isolated page.
        ...(opts.isolated ? { headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'credentialless' } } : {}),
      },
    });
    await server.listen();
    const address = server.httpServer?.address();
    if (!address || typeof address === 'string') throw new Error('bench: the Vite server has no port');
    const origin = `http://127.0.0.1:${address.port}`;
    browser = await chromium.launch({ executablePath: chromiumPath(), args: chromiumArgs({ webgpu: opts.webgpu }), headless: true });
    const page = await browser.newPage();
    page.on('pageerror', (e) => opts.log(`page error: ${e.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) opts.log(`page: ${r.status()} for ${r.url()}`);
    });
    await page.goto(origin + path);
    await page.waitForFunction(() => 'glimpseBench' in window, undefined, { timeout: 120_000 });
    const b = browser;
    const s = server;
    return {
      page,
      origin,
      close: async () => {
        await b.close();
        await s.close();
      },
    };
  } catch (err) {
    await browser?.close();
    await server?.close();
    throw err;
  }
}
