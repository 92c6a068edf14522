import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { chromiumArgs, findChromium } from './test/chromium.ts';

// One config for the app and its three test projects:
//  unit    - Node: pure rules, storage on fake-indexeddb, the engine on onnxruntime-node, the proxy.
//  browser - real headless Chromium (vitest browser mode): real IndexedDB, the worker on WebGPU/WASM, elements.
//  e2e     - Node driving Chromium with Playwright against the built app.
export default defineConfig(({ mode }) => ({
  base: './',
  appType: 'mpa', // real 404s for missing files (an SPA fallback answers a missing model file with index.html)
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web', '@huggingface/transformers'] },
  server: { host: '127.0.0.1', port: 5173 },
  preview: { host: '127.0.0.1', port: 4173 },
  build: { target: 'es2022', sourcemap: mode !== 'production' ? false : false },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          globalSetup: ['test/require-chromium.ts', 'test/setup-model.ts'],
          include: ['test/browser/**/*.test.ts'],
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
          globalSetup: ['test/require-chromium.ts', 'test/setup-model.ts'],
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
}));
