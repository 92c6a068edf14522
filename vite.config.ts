import { configDefaults, defineConfig, type Plugin } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { VitePWA } from 'vite-plugin-pwa';
import { chromiumArgs, findChromium } from './test/chromium.ts';

/**
 * The content security policy of the built app, as a <meta> tag (works on any static host). Scripts only
 * from the app itself (plus WebAssembly compilation for ONNX Runtime, and blob: for the runtime's worker
 * factory); network only to the app's origin, the model host, and a proxy on this machine or one named at
 * build time (VITE_PROXY_ORIGINS). Dev mode is left without it (Vite's HMR injects inline scripts).
 */
function contentSecurityPolicy(env: Record<string, string | undefined>): Plugin {
  const origin = (u: string | undefined) => {
    try {
      return u && /^https?:/.test(u) ? new URL(u).origin : '';
    } catch {
      return '';
    }
  };
  const connect = [
    "'self'",
    'https://huggingface.co',
    'https://*.huggingface.co',
    'https://*.hf.co',
    origin(env.VITE_MODEL_HOST),
    ...(env.VITE_PROXY_ORIGINS ?? '').split(/[ ,]+/).map(origin),
    'http://127.0.0.1:*',
    'http://localhost:*',
  ].filter(Boolean);
  const policy = [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval' blob:",
    "worker-src 'self' blob:",
    `connect-src ${[...new Set(connect)].join(' ')}`,
    "img-src 'self' blob: data:",
    "style-src 'self' 'unsafe-inline'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
  ].join('; ');
  return {
    name: 'glimpse-csp',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: policy }, injectTo: 'head-prepend' }],
  };
}

/**
 * The unit files that sweep many cases on the real model or real servers (every dtype path, generated
 * conversations, thousands of fuzzed requests, the benchmark CLI) or check the generated test model itself:
 * `npm run test:unit` (GLIMPSE_QUICK=1) leaves them out for a quick day-to-day loop; `npm test` always runs
 * them. A new slow file shows at the top of the slowest-files report at the end of `npm test`
 * (test/slowest-files.ts): add it here if it is such a file.
 */
const SLOW_UNIT_FILES = [
  'test/unit/bench/bench-smoke.test.ts',
  'test/unit/engine/cache-paths.test.ts',
  'test/unit/engine/cache-property.test.ts',
  'test/unit/engine/features.test.ts',
  'test/unit/fixtures/last-logits.test.ts',
  'test/unit/fixtures/test-model.test.ts',
  'test/unit/hardening/fuzz.test.ts',
];

// One config for the app and its three test projects:
//  unit    - Node: pure rules, storage on fake-indexeddb, the engine on onnxruntime-node, the proxy.
//  browser - real headless Chromium (vitest browser mode): real IndexedDB, the worker on WebGPU/WASM, elements.
//  e2e     - Node driving Chromium with Playwright against the built app.
export default defineConfig(({ mode }) => ({
  base: './',
  appType: 'mpa', // real 404s for missing files (an SPA fallback answers a missing model file with index.html)
  plugins: [
    contentSecurityPolicy(process.env),
    // Offline app shell: Workbox precaches the built files (ONNX Runtime's 27 MB .wasm is cached when first
    // used instead, and transformers.js keeps model files in its own Cache API store). 'prompt' means a new
    // version waits until the user reloads, so a chat in progress is never cut off.
    VitePWA({
      registerType: 'prompt',
      injectRegister: null,
      // Our own service worker (src/sw/sw.ts): Workbox's precache plus the COOP/COEP headers that make the
      // page cross-origin isolated on hosts that cannot send them (multi-threaded WebAssembly).
      strategies: 'injectManifest',
      srcDir: 'src/sw',
      filename: 'sw.ts',
      includeAssets: ['icon.svg'],
      manifest: {
        name: 'Glimpse — private chat about your photos',
        short_name: 'Glimpse',
        description: 'Ask questions about your photos with a vision model that runs in your browser. Nothing is uploaded.',
        start_url: './',
        scope: './',
        display: 'standalone',
        background_color: '#ffffff',
        theme_color: '#2453c7',
        icons: [
          { src: 'icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: 'icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}'],
        globIgnores: ['**/ort-wasm*'],
      },
    }),
  ],
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web', '@huggingface/transformers'] },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  build: { target: 'es2022', sourcemap: mode !== 'production' ? false : false },
  test: {
    // expect.poll waits for a condition; its default bound (1 s) fails a test on a busy machine for being slow.
    expect: { poll: { timeout: 30_000 } },
    // The default output, then the ten slowest files with their seconds (test/slowest-files.ts).
    reporters: ['default', './test/slowest-files.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          globalSetup: ['test/setup-postgres.ts'],
          include: ['test/unit/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...(process.env.GLIMPSE_QUICK ? SLOW_UNIT_FILES : [])],
          environment: 'node',
          // Two files at a time on 2 cores (vitest's default is cores - 1): much of a file's time is a fork
          // starting, imports, servers and PostgreSQL answering. The quick loop took 541 s with 2 against
          // 666 s with 1, back to back at load average 27-28 (7 processes on 2 cores); the PostgreSQL
          // fixture is made for several worker processes.
          maxWorkers: 2,
          // Projects with different worker counts need their own group (vitest runs groups one after another):
          // unit, then browser, then e2e, so the browser and e2e files never share the 2 cores with the unit files.
          sequence: { groupOrder: 0 },
          // Generous: the machines vary threefold in speed and the engine tests run real models; tests wait
          // for conditions, never for time, so a timeout only bounds a test that hangs.
          testTimeout: 240_000,
          hookTimeout: 240_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          globalSetup: ['test/require-chromium.ts', 'test/setup-model.ts'],
          include: ['test/browser/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          testTimeout: 120_000,
          hookTimeout: 120_000,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: { executablePath: findChromium() ?? 'chromium-not-found', args: chromiumArgs({ webgpu: true }) },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          globalSetup: ['test/require-chromium.ts', 'test/setup-model.ts', 'test/setup-e2e.ts'],
          include: ['test/e2e/**/*.test.ts'],
          sequence: { groupOrder: 2 },
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // Two files at once: each has its own Chromium, servers on free ports and temp folders, and much of a
          // file's time is waiting (builds, page loads, the service worker); the WebGPU chat on SwiftShader
          // (~160 s) runs beside the others instead of before them.
          maxWorkers: 2,
        },
      },
    ],
  },
}));
