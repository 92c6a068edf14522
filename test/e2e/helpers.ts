/**
 * Shared by the UI end-to-end tests: build the app once into a temp folder and serve it with `vite preview`,
 * a free port, a photo to attach, axe-core, screenshots.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { build, preview } from 'vite';
import { expect, inject } from 'vitest';
import '../setup-e2e';

export const ROOT = resolve(import.meta.dirname, '../..');
export const SHOTS = join(ROOT, 'screenshots');
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 360, height: 740 };

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

/** A small "photo": hills under a sky, drawn as SVG and encoded as JPEG (800×600). */
export async function makePhoto(path: string): Promise<void> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="600">
    <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#f6b26b"/><stop offset="1" stop-color="#fde9c9"/></linearGradient></defs>
    <rect width="800" height="600" fill="url(#sky)"/><circle cx="560" cy="210" r="70" fill="#fff3d6"/>
    <path d="M0 420 Q200 300 400 400 T800 380 V600 H0Z" fill="#5b8c5a"/><path d="M0 500 Q250 420 500 500 T800 480 V600 H0Z" fill="#3d6b45"/>
  </svg>`;
  await sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toFile(path);
}

/**
 * Builds the app exactly as `npm run build` does. Vitest sets NODE_ENV=test, and Vite would then build a
 * development bundle (import.meta.env.DEV true: no service worker, dev-only paths); force production.
 * `env` sets build variables such as VITE_MODEL_HOST for this build only.
 */
export async function buildApp(outDir: string, env: Record<string, string> = {}): Promise<void> {
  const saved = { ...process.env };
  Object.assign(process.env, env, { NODE_ENV: 'production' });
  try {
    await build({ root: ROOT, mode: 'production', logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

export interface BuiltApp {
  /** The app's URL, ending with '/'. */
  baseUrl: string;
  /** A temp folder for the test's own files (removed by close()). */
  tmp: string;
  close(): Promise<void>;
}

/**
 * The plain built app (no build variables), built once per run into the e2e run folder (test/setup-e2e.ts)
 * and served read-only by every file that asks: the same bundle each would build. Two files run at once: the
 * rename makes a half-written build invisible, and the one that loses the race to rename keeps the winner's
 * (the same bundle) and drops its own.
 */
async function sharedBuild(): Promise<string> {
  const outDir = join(inject('e2eRunDir'), 'dist');
  if (existsSync(outDir)) return outDir;
  const temp = `${outDir}.tmp-${process.pid}`;
  await buildApp(temp);
  try {
    await rename(temp, outDir);
  } catch (err) {
    if (!existsSync(outDir)) throw err;
    await rm(temp, { recursive: true, force: true });
  }
  return outDir;
}

/** The built app (built once per run) served by `vite preview` on a free port (127.0.0.1), and a temp folder. */
export async function buildAndPreview(prefix = 'glimpse-ui-e2e-'): Promise<BuiltApp> {
  const tmp = await mkdtemp(join(tmpdir(), prefix));
  await mkdir(SHOTS, { recursive: true });
  const outDir = await sharedBuild();
  const port = await freePort();
  const server = await preview({ root: ROOT, logLevel: 'warn', build: { outDir }, preview: { port, strictPort: true, host: '127.0.0.1' } });
  return {
    baseUrl: `http://127.0.0.1:${port}/`,
    tmp,
    async close() {
      await server.close();
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
}

/** Runs axe-core on the page; fails on serious or critical violations. Needs a context with bypassCSP. */
export async function axeCheck(page: Page, view: string): Promise<void> {
  await page.addScriptTag({ path: join(ROOT, 'node_modules/axe-core/axe.min.js') });
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<AxeResult> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return { violations: r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) })) };
  });
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${view}: ${v.id} (${v.impact}) ${v.help} at ${JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))}`)).toEqual([]);
}

export const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`) });

/** Types a question into the composer and sends it with Enter; with `photo` (a file path) attached first. */
export async function ask(page: Page, text: string, photo?: string): Promise<void> {
  if (photo !== undefined) {
    await page.locator('chat-composer #picker').setInputFiles(photo);
    await page.locator('chat-composer image-chip.pending').waitFor();
  }
  const box = page.locator('chat-composer textarea');
  await box.fill(text);
  await box.press('Enter');
}
