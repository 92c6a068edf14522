import { registerSW } from 'virtual:pwa-register';

/**
 * Registers the service worker that keeps the app shell offline. A new version is never forced on an
 * open page: `onUpdate` receives a function that activates it (reloading the page), for the UI to offer
 * when the user is not in the middle of a chat.
 */
export function registerServiceWorker(handlers: {
  onUpdate(apply: () => Promise<void>): void;
  onOfflineReady?(): void;
}): void {
  if (!('serviceWorker' in navigator) || import.meta.env.DEV) return;
  const update = registerSW({
    onNeedRefresh: () => handlers.onUpdate(() => update(true)),
    onOfflineReady: () => handlers.onOfflineReady?.(),
  });
}
