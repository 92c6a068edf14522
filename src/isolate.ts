/**
 * Cross-origin isolation on the very first visit. A page is isolated (SharedArrayBuffer, multi-threaded
 * WebAssembly) only if its own response carried COOP/COEP; on a static host that cannot send them the
 * service worker adds them (src/sw/headers.ts), but the first page came from the network before there was a
 * service worker, and a page never becomes isolated later. So on a first visit the app, before it starts,
 * installs the service worker and reloads once: nothing has been shown, typed or downloaded yet, so nothing
 * is lost, and the first chat (the one with the big model download) already runs multi-threaded.
 *
 * It waits at most `waitMs` (the install fetches the app shell, ~1.4 MB): if the install is slower, the app
 * starts as it is and the next load is isolated; it never reloads a page that has started. Once per tab: a
 * browser that does not isolate even with the headers (no `credentialless`, e.g. Safari) is not reloaded
 * again, and a page the service worker already controls is never reloaded.
 */
const TRIED = 'glimpse-isolation-reload';

export interface IsolationDeps {
  isolated: boolean;
  container: ServiceWorkerContainer | undefined;
  storage: Pick<Storage, 'getItem' | 'setItem'> | null;
  reload(): void;
}

function browserDeps(): IsolationDeps {
  let storage: Storage | null = null;
  try {
    storage = sessionStorage; // throws where storage is blocked
  } catch {
    storage = null;
  }
  return {
    isolated: self.crossOriginIsolated,
    container: 'serviceWorker' in navigator ? navigator.serviceWorker : undefined,
    storage,
    reload: () => location.reload(),
  };
}

/** Resolves true once `reg` has an active worker, false if that takes longer than `ms`. */
function activeWithin(reg: ServiceWorkerRegistration, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    if (reg.active) return done();
    const worker = reg.installing ?? reg.waiting;
    worker?.addEventListener('statechange', () => {
      if (worker.state === 'activated') done();
      else if (worker.state === 'redundant') resolve(false);
    });
    if (!worker) resolve(false);
  });
}

/**
 * On a first visit to a page that is not cross-origin isolated: register the service worker, and once it is
 * active reload (true: the caller must not start the app). False in every other case, at once or after
 * `waitMs`.
 */
export async function reloadIntoIsolation(swUrl: string, scope: string, waitMs = 5_000, deps: IsolationDeps = browserDeps()): Promise<boolean> {
  const { container, storage } = deps;
  if (deps.isolated || !container || container.controller || !storage || storage.getItem(TRIED)) return false;
  const started = Date.now();
  try {
    const reg = await Promise.race([
      container.register(swUrl, { scope }),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), waitMs)),
    ]);
    if (!reg || !(await activeWithin(reg, Math.max(0, waitMs - (Date.now() - started))))) return false;
    storage.setItem(TRIED, '1');
    deps.reload();
    return true;
  } catch {
    return false; // no service worker here (private mode, a blocked origin): the app runs single-threaded
  }
}
