/**
 * The first-visit reload into cross-origin isolation (src/isolate.ts), with a fake service worker container:
 * it reloads once, only on a first visit whose service worker activates in time, and never otherwise. The
 * real thing runs in test/e2e/isolation.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { reloadIntoIsolation, type IsolationDeps } from '../../src/isolate';

class FakeWorker extends EventTarget {
  state = 'installing';
  set(state: string) {
    this.state = state;
    this.dispatchEvent(new Event('statechange'));
  }
}

function deps(opts: { isolated?: boolean; controlled?: boolean; tried?: boolean; activateAfterMs?: number | null; registerFails?: boolean } = {}) {
  const worker = new FakeWorker();
  const store = new Map<string, string>(opts.tried ? [['glimpse-isolation-reload', '1']] : []);
  const reg = { active: null as FakeWorker | null, installing: worker as FakeWorker | null, waiting: null };
  let reloads = 0;
  let registered = 0;
  const container = {
    controller: opts.controlled ? {} : null,
    register: async () => {
      registered++;
      if (opts.registerFails) throw new DOMException('blocked', 'SecurityError');
      if (opts.activateAfterMs !== null) {
        setTimeout(() => {
          worker.set('activated');
          reg.active = worker;
          reg.installing = null;
        }, opts.activateAfterMs ?? 5);
      }
      return reg;
    },
  };
  const d: IsolationDeps = {
    isolated: opts.isolated ?? false,
    container: container as unknown as ServiceWorkerContainer,
    storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v) },
    reload: () => void reloads++,
  };
  return { d, reloads: () => reloads, registered: () => registered, store };
}

describe('reloadIntoIsolation', () => {
  it('on a first visit, reloads once the service worker is active, and remembers it tried', async () => {
    const f = deps();
    expect(await reloadIntoIsolation('./sw.js', './', 1_000, f.d)).toBe(true);
    expect(f.reloads()).toBe(1);
    expect(f.store.get('glimpse-isolation-reload')).toBe('1');
  });

  it('does nothing when already isolated, already controlled, or tried once in this tab', async () => {
    for (const o of [{ isolated: true }, { controlled: true }, { tried: true }]) {
      const f = deps(o);
      expect(await reloadIntoIsolation('./sw.js', './', 1_000, f.d)).toBe(false);
      expect([f.reloads(), f.registered()]).toEqual([0, 0]);
    }
  });

  it('lets the app start without a reload when the install is slower than the wait, or fails', async () => {
    const slow = deps({ activateAfterMs: 200 });
    expect(await reloadIntoIsolation('./sw.js', './', 20, slow.d)).toBe(false);
    await new Promise((r) => setTimeout(r, 300)); // the late activation must not reload a started app
    expect(slow.reloads()).toBe(0);
    const failed = deps({ registerFails: true });
    expect(await reloadIntoIsolation('./sw.js', './', 1_000, failed.d)).toBe(false);
    expect(failed.reloads()).toBe(0);
  });

  it('without storage (blocked) it never reloads, so it cannot loop', async () => {
    const f = deps();
    expect(await reloadIntoIsolation('./sw.js', './', 1_000, { ...f.d, storage: null })).toBe(false);
    expect(f.reloads()).toBe(0);
  });
});
