/**
 * main_js_gzip_kb: the JavaScript the built app's index.html loads before any user action, gzipped.
 *
 * `vite build` (the project's own config, production mode) into a temp folder with a manifest. Counted: the
 * index.html entry chunk and every chunk it imports statically, transitively (exactly what the modulepreload
 * links name), plus any other <script src> in index.html. Not counted: CSS, the engine worker, ONNX
 * Runtime's .mjs/.wasm and chunks loaded with import(). Each file is gzipped alone with zlib's default level.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';
import { REPO_ROOT, round, type GroupOptions, type GroupResult } from './common';

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
  src?: string;
}

export async function runBundle(opts: GroupOptions): Promise<GroupResult> {
  const out = mkdtempSync(join(tmpdir(), 'glimpse-bench-build-'));
  try {
    const t0 = performance.now();
    await build({
      root: REPO_ROOT,
      configFile: join(REPO_ROOT, 'vite.config.ts'),
      mode: 'production',
      logLevel: 'warn',
      build: { outDir: out, emptyOutDir: true, manifest: 'manifest.json' },
    });
    opts.log(`bundle: vite build in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return measure(out);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export function measure(out: string): GroupResult {
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as Record<string, ManifestChunk>;
  const html = readFileSync(join(out, 'index.html'), 'utf8');

  const initial = new Set<string>();
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || initial.has(chunk.file)) return;
    initial.add(chunk.file);
    for (const k of chunk.imports ?? []) visit(k);
  };
  const entry = Object.entries(manifest).find(([k, c]) => c.isEntry && (k === 'index.html' || c.src === 'index.html'));
  if (entry) visit(entry[0]);

  // Whatever else index.html itself loads up front (a registerSW.js, a modulepreload the manifest missed).
  const local = (ref: string) => !/^(https?:)?\/\//.test(ref) && !ref.startsWith('data:');
  const clean = (ref: string) => ref.replace(/^\.?\//, '').split(/[?#]/)[0]!;
  for (const m of html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)) if (local(m[1]!)) initial.add(clean(m[1]!));
  for (const m of html.matchAll(/<link\b[^>]*\brel="modulepreload"[^>]*\bhref="([^"]+)"/g)) if (local(m[1]!)) initial.add(clean(m[1]!));

  const files = [...initial].filter((f) => /\.(m?js)$/.test(f)).map((file) => {
    const raw = readFileSync(join(out, file));
    return { file, bytes: raw.length, gzipBytes: gzipSync(raw).length };
  });
  if (files.length === 0) throw new Error('bundle: found no JavaScript loaded by index.html (is there an entry script?)');
  const lazy = Object.values(manifest).filter((c) => c.file.endsWith('.js') && !initial.has(c.file)).map((c) => c.file);
  const gzip = files.reduce((n, f) => n + f.gzipBytes, 0);
  return {
    figures: { main_js_gzip_kb: round(gzip / 1024, 1), main_js_raw_kb: round(files.reduce((n, f) => n + f.bytes, 0) / 1024, 1) },
    runs: { bundle: { initial: files, lazy } },
  };
}
