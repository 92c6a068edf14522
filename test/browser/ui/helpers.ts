import { expect } from 'vitest';
import { ChatService } from '../../../src/chat/service';
import { SessionStore } from '../../../src/storage/sessions';
import type { AppRoot } from '../../../src/ui/app-root';
import '../../../src/ui/app-root';
import { FakeBackend, FakeEngine, type FakeEngineOptions } from '../../../src/ui/dev/fake-engine';
import { LazyRemoteBackend, LoadingBackend } from '../../../src/ui/services/backends';
import { GenerationTracker } from '../../../src/ui/services/generation';
import { remoteReadsImages, SettingsStore, toChatSettings } from '../../../src/ui/services/settings';

export interface Mounted {
  root: AppRoot;
  store: SessionStore;
  settings: SettingsStore;
  engine: FakeEngine;
  backend: FakeBackend;
  chat: ChatService;
  settingsKey: string;
  /** The IndexedDB name, to open a second store on it (another tab, as far as the app can tell). */
  storeName: string;
  dispose(): Promise<void>;
}

let n = 0;

/** The real app root with real elements, a real IndexedDB store (unique name) and the simulated engine. */
export async function mountApp(opts: { tokenDelayMs?: number; undoMs?: number; engine?: FakeEngineOptions } = {}): Promise<Mounted> {
  const id = `${Date.now()}-${n++}-${Math.random().toString(36).slice(2)}`;
  const storeName = `glimpse-ui-test-${id}`;
  const store = await SessionStore.open(storeName);
  const settingsKey = `glimpse-ui-test-settings-${id}`;
  const settings = new SettingsStore(localStorage, settingsKey);
  const engine = new FakeEngine({ downloadMs: 60, ...opts.engine });
  const backend = new FakeBackend(engine, { tokenDelayMs: opts.tokenDelayMs ?? 3 });
  const local = new LoadingBackend(engine, backend);
  // As src/main.ts: the backend chosen in Settings (the remote one talks to the proxy URL set there).
  const remote = new LazyRemoteBackend({ proxyUrl: () => settings.value.proxyUrl, timeoutMs: 5000,
    acceptsImages: () => remoteReadsImages(settings.value) });
  const chat = new ChatService({
    store,
    backend: () => (settings.value.backend === 'remote' ? remote : local),
    settings: () => toChatSettings(settings.value),
    persistEveryMs: 50,
  });
  const root = document.createElement('app-root');
  root.services = { store, chat, engine, settings, generation: new GenerationTracker() };
  document.body.append(root);
  await waitFor(() => root.shadowRoot?.querySelector('chat-view'));
  if (opts.undoMs !== undefined) $(root, 'session-list').undoMs = opts.undoMs;
  return {
    root,
    store,
    settings,
    engine,
    backend,
    chat,
    settingsKey,
    storeName,
    async dispose() {
      root.remove();
      settings.dispose();
      localStorage.removeItem(settingsKey);
      store.close();
    },
  };
}

/** Walks shadow roots: $(root, 'chat-view', 'chat-composer', 'textarea'). Throws when a step is missing. */
export function $<K extends keyof HTMLElementTagNameMap>(from: Element, ...path: [...string[], K]): HTMLElementTagNameMap[K];
export function $<T extends Element = HTMLElement>(from: Element, ...path: string[]): T;
export function $(from: Element, ...path: string[]): Element {
  const found = $maybe(from, ...path);
  if (!found) throw new Error(`not found: ${path.join(' >>> ')}`);
  return found;
}

export function $maybe<T extends Element = HTMLElement>(from: Element, ...path: string[]): T | null {
  let el: Element | null = from;
  for (const sel of path) {
    const scope: ParentNode | null = el?.shadowRoot ?? el;
    el = scope?.querySelector(sel) ?? null;
    if (!el) return null;
  }
  return el as T | null;
}

export function $all<T extends Element = HTMLElement>(from: Element, path: string[], last: string): T[] {
  const parent = path.length ? $maybe(from, ...path) : from;
  if (!parent) return [];
  return [...(parent.shadowRoot ?? parent).querySelectorAll<T>(last)];
}

/**
 * A bound for a hang, never a wait: a condition is polled until it holds. The bound given is what the step
 * takes on a quiet machine; it is stretched to at least {@link HANG_BOUND_MS}, because a shared 2-core machine
 * under load is 3-10x slower and a test must not fail for being slow.
 */
export const HANG_BOUND_MS = 30_000;

export async function waitFor<T>(fn: () => T | null | undefined | false, timeoutMs = 8000, what = 'condition'): Promise<T> {
  const end = performance.now() + Math.max(timeoutMs, HANG_BOUND_MS);
  let last: unknown;
  for (;;) {
    try {
      const v = fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

/** {@link waitFor} for a condition that needs an await (a store read). */
export async function waitForAsync(fn: () => Promise<boolean>, what = 'condition'): Promise<void> {
  const end = performance.now() + HANG_BOUND_MS;
  while (!(await fn())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

/** A real PNG made with a canvas. */
export async function pngFile(width = 640, height = 480, name = 'photo.png'): Promise<File> {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#f6b26b';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#3d6b45';
  ctx.fillRect(0, height / 2, width, height / 2);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return new File([blob], name, { type: 'image/png' });
}

export function filesOf(...files: File[]): DataTransfer {
  const dt = new DataTransfer();
  for (const f of files) dt.items.add(f);
  return dt;
}

/** Messages rendered in the conversation. */
/** An element's text as a person reads it: white space collapsed, trimmed ('' for none). */
export const text = (el: Element | null | undefined): string => el?.textContent?.replace(/\s+/g, ' ').trim() ?? '';

export function messageItems(root: Element) {
  return $all<HTMLElementTagNameMap['message-item']>(root, ['chat-view'], 'message-item');
}

export function composerOf(root: Element) {
  return $(root, 'chat-view', 'chat-composer');
}

export function textareaOf(root: Element): HTMLTextAreaElement {
  return $<HTMLTextAreaElement>(root, 'chat-view', 'chat-composer', 'textarea');
}

/** Types into the composer (as the input event would) and sends with Enter. */
export async function send(root: Element, text: string): Promise<void> {
  const box = textareaOf(root);
  box.value = text;
  box.dispatchEvent(new Event('input', { bubbles: true }));
  await composerOf(root).updateComplete;
  box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true, composed: true }));
}

/** Waits until nothing is generating and the last answer is complete (or ended). */
export async function settled(m: Mounted, count?: number): Promise<void> {
  const tracker = m.root.services!.generation;
  await waitFor(() => {
    const items = messageItems(m.root);
    const last = items[items.length - 1]?.message;
    return !tracker.busy && last?.role === 'assistant' && last.status !== 'streaming' && (count === undefined || items.length >= count);
  }, 10_000, 'the answer to finish');
  await m.root.updateComplete;
}

/** The sidebar's chats, top to bottom. */
export function sessionItems(root: Element): HTMLElementTagNameMap['session-item'][] {
  return $all<HTMLElementTagNameMap['session-item']>(root, ['session-list'], 'session-item');
}

/** The sidebar's chat titles, top to bottom. */
export function sessionTitles(root: Element): (string | undefined)[] {
  return sessionItems(root).map((i) => i.session?.title);
}

/** Starts a new chat with `text` as its first question, waits for the answer and for the chat in the list. */
export async function newChat(m: Mounted, text: string): Promise<void> {
  $(m.root, 'session-list', 'button.new').click();
  await m.root.updateComplete;
  await waitFor(() => messageItems(m.root).length === 0, 3000, 'an empty chat');
  await send(m.root, text);
  await settled(m);
  await waitFor(() => sessionTitles(m.root).includes(text), 3000, `“${text}” in the list`);
}

/** Opens Settings → Storage & models. */
export async function openStorage(root: Element): Promise<HTMLElementTagNameMap['storage-panel']> {
  $(root, 'header button.settings').click();
  const panel = await waitFor(() => $maybe(root, 'settings-panel'), 5000, 'the settings dialog');
  await waitFor(() => $maybe(panel, 'dialog[open]'), 3000, 'the dialog');
  $(panel, '#tab-storage').click();
  const storage = await waitFor(() => $maybe<HTMLElementTagNameMap['storage-panel']>(panel, 'storage-panel')?.shadowRoot && $(panel, 'storage-panel'), 5000, 'the storage tab');
  expect($(panel, '#tab-storage').getAttribute('aria-selected')).toBe('true');
  return storage as HTMLElementTagNameMap['storage-panel'];
}

/** Catches the <a download> an export clicks, instead of a real download; `onCleanup` gets the undo. */
export function catchDownloads(onCleanup: (undo: () => void) => void): { name: string; href: string }[] {
  const seen: { name: string; href: string }[] = [];
  const original = HTMLAnchorElement.prototype.click;
  HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
    if (this.download) seen.push({ name: this.download, href: this.href });
    else original.call(this);
  };
  onCleanup(() => {
    HTMLAnchorElement.prototype.click = original;
  });
  return seen;
}
