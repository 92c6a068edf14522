/// <reference lib="webworker" />
/**
 * The service worker (vite-plugin-pwa, injectManifest): the offline app shell (Workbox precache), ONNX
 * Runtime's .wasm/.mjs cached when first used, and the COOP/COEP headers on everything it answers, so the
 * page is cross-origin isolated (multi-threaded WebAssembly) on a static host that sends no such headers.
 * A new version waits: the page sends SKIP_WAITING only when the user chooses to reload (src/pwa.ts).
 */
import type { WorkboxPlugin } from 'workbox-core';
import { ExpirationPlugin } from 'workbox-expiration';
import { addPlugins, cleanupOutdatedCaches, precacheAndRoute } from 'workbox-precaching';
import { registerRoute } from 'workbox-routing';
import { CacheFirst, NetworkOnly } from 'workbox-strategies';
import { withIsolation } from './headers';

declare let self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | { url: string; revision: string | null })[] };

const isolate: WorkboxPlugin = { handlerWillRespond: async ({ response }) => withIsolation(response) };

addPlugins([isolate]);
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

// ONNX Runtime's 27 MB .wasm is left out of the precache (most visitors on WebGPU still load it, but only
// when the model starts) and kept once fetched.
registerRoute(
  ({ url, sameOrigin }) => sameOrigin && /ort-wasm.*\.(wasm|mjs)$/.test(url.pathname),
  new CacheFirst({ cacheName: 'glimpse-runtime', plugins: [new ExpirationPlugin({ maxEntries: 8 }), isolate] }),
);

// A page of the app the precache does not match (a URL with a query, such as ?fake-engine=…): from the
// network as before, with the headers, so it is isolated too.
registerRoute(
  ({ request, sameOrigin }) => sameOrigin && request.mode === 'navigate',
  new NetworkOnly({ plugins: [isolate] }),
);

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  if ((event.data as { type?: unknown } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});
