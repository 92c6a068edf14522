/**
 * The composition root: opens the chat store, builds the chat service with the backend chosen in settings
 * (the local engine, or the remote proxy loaded on demand), and hands everything to <app-root>.
 *
 * `?fake-engine` swaps the local engine for a simulated one (UI tests, screenshots; see src/ui/dev/).
 */
import type { ChatBackend } from './chat/backend';
import { ChatService } from './chat/service';
import type { EngineController } from './engine/api';
import { reloadIntoIsolation } from './isolate';
import type { ModelSource } from './engine/protocol';
import { SessionStore } from './storage/sessions';
import './ui/app-root';
import { LazyRemoteBackend, LoadingBackend } from './ui/services/backends';
import { GenerationTracker } from './ui/services/generation';
import { modelSourceFor } from './ui/services/model-source';
import { remoteReadsImages, SettingsStore, toChatSettings, toEngineSettings, type AppSettings } from './ui/services/settings';

/** Where vite-plugin-pwa puts the service worker (base './'), registered the same way by src/pwa.ts. */
const SW_URL = './sw.js';
const SW_SCOPE = './';

interface LocalEngine {
  engine: EngineController;
  backend: ChatBackend;
}

async function createLocalEngine(params: URLSearchParams, source: ModelSource, settings: AppSettings): Promise<LocalEngine> {
  const { device, kvBudgetBytes } = toEngineSettings(settings);
  if (!params.has('fake-engine')) {
    const [{ EngineClient }, { LocalBackend }] = await Promise.all([import('./engine/client'), import('./engine/backend')]);
    // The model host is read once: changing it in Settings asks for a reload. Device and memory follow
    // Settings as they change (app-root configures the engine).
    // ?wasm-threads=N: ONNX Runtime's threads when the page is isolated (to compare; see src/engine/threads.ts).
    const threads = Number(params.get('wasm-threads'));
    const engine = new EngineClient({ source, prefer: device, kvBudgetBytes, ...(threads >= 1 ? { wasmThreads: threads } : {}) });
    return { engine, backend: new LocalBackend(engine) };
  }
  const { FakeEngine, FakeBackend } = await import('./ui/dev/fake-engine');
  const num = (key: string) => (params.has(key) ? Number(params.get(key)) : undefined);
  const kind = params.get('fake-engine');
  const engine = new FakeEngine({
    device: kind === 'wasm' ? 'wasm' : kind === 'software' ? 'software' : 'webgpu',
    shaderF16: kind !== 'no-f16',
    prefer: device,
    ...(params.has('fake-cached') ? { downloaded: [settings.localModel] } : {}),
    offline: params.has('fake-offline'),
    ...(num('fake-download-ms') !== undefined ? { downloadMs: num('fake-download-ms') } : {}),
  });
  const backend = new FakeBackend(engine, { tokenDelayMs: num('fake-token-ms') ?? 30 });
  return { engine, backend };
}

async function main(): Promise<void> {
  // A first visit reloads once, before anything starts, to come back cross-origin isolated (src/isolate.ts).
  if (!import.meta.env.DEV && (await reloadIntoIsolation(SW_URL, SW_SCOPE))) return;
  const params = new URLSearchParams(location.search);
  const settings = new SettingsStore();
  const modelSource = modelSourceFor(settings.value.modelHost).source;
  const [store, local] = await Promise.all([SessionStore.open(), createLocalEngine(params, modelSource, settings.value)]);
  const localBackend = new LoadingBackend(local.engine, local.backend);
  const remoteBackend = new LazyRemoteBackend({
    proxyUrl: () => settings.value.proxyUrl, acceptsImages: () => remoteReadsImages(settings.value),
  });
  const chat = new ChatService({
    store,
    backend: () => (settings.value.backend === 'remote' ? remoteBackend : localBackend),
    settings: () => toChatSettings(settings.value),
    decodeCheck: async (blob) => (await createImageBitmap(blob)).close(),
    // Image features kept with the pictures in IndexedDB: a reload never runs the vision encoder again.
    features: store,
    // Shown where the engine's notices are (the model status line).
    onWarning: (message) => local.engine.dispatchEvent(new CustomEvent('notice', { detail: { level: 'warning', message } })),
  });
  const root = document.createElement('app-root');
  root.services = { store, chat, engine: local.engine, settings, generation: new GenerationTracker(), modelSource };
  document.querySelector('#boot')?.remove();
  document.body.append(root);
  // The offline shell: loaded after the app is on screen; a new version waits until the user applies it.
  const { registerServiceWorker } = await import('./pwa');
  registerServiceWorker({ onUpdate: (apply) => (root.applyUpdate = apply) });
}

main().catch((err: unknown) => {
  const boot = document.querySelector('#boot') ?? document.body;
  const message = err instanceof Error ? err.message : String(err);
  boot.textContent =
    `Glimpse could not start: ${message} ` +
    'Your browser may block storage for this site (private browsing does); try a normal window.';
  boot.setAttribute('role', 'alert');
});
