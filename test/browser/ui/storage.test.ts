/**
 * Settings → Storage & models in real Chromium: real IndexedDB, the real Cache API store the engine uses,
 * the simulated engine. Also the open conversation following another tab (a second store on the same
 * database stands in for the other tab: BroadcastChannel reaches it like a real one).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hashBlob } from '../../../src/chat/images';
import { makeContent, nowIso } from '../../../src/chat/messages';
import { ChatService } from '../../../src/chat/service';
import { CACHE_NAME, requiredFiles } from '../../../src/engine/model-files';
import { SessionStore } from '../../../src/storage/sessions';
import { prepareImport } from '../../../src/storage/transfer';
import { FakeBackend, FakeEngine } from '../../../src/ui/dev/fake-engine';
import { $, $all, $maybe, catchDownloads, messageItems, mountApp, openStorage, pngFile, send, settled, waitFor, type Mounted } from './helpers';

let m: Mounted;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await m?.dispose();
});

const FAKE_URL = 'https://huggingface.co/acme/tiny/resolve/main/onnx/x.onnx';
const FAKE_BYTES = 3_000_000; // "3.0 MB": sizes are shown in decimal units, as the hub shows them

const manager = (s: Element) => $(s, 'model-manager');
const transfer = (s: Element) => $(s, 'transfer-panel');

/** A chat with a photo and an answer, written straight to the store. */
async function seedChat(store: SessionStore, title: string) {
  const s = await store.create({ title });
  const blob = await pngFile(64, 48);
  const hash = await hashBlob(blob);
  await store.append(s.id, { role: 'user', content: makeContent(`About ${title}?`, true), timestamp: nowIso(), status: 'complete' }, { blob, hash, width: 64, height: 48 });
  await store.append(s.id, { role: 'assistant', content: makeContent('A test picture.', false), timestamp: nowIso(), status: 'complete' });
  return s.id;
}

function pick(input: HTMLInputElement, ...files: File[]) {
  const dt = new DataTransfer();
  for (const f of files) dt.items.add(f);
  input.files = dt.files;
  input.dispatchEvent(new Event('change', { bubbles: true }));
}

describe('Settings → Storage & models', () => {
  it('shows storage used and available with a bar, and asks for persistent storage', async () => {
    m = await mountApp();
    const storage = await openStorage(m.root);
    const used = await waitFor(() => $maybe(storage, '.used')?.textContent, 5000, 'the figures');
    expect(used).toMatch(/\d(\.\d)? (B|kB|MB|GB) used/);
    expect($(storage, '.quota').textContent).toMatch(/available of \d+(\.\d)? (MB|GB)/);
    expect($<HTMLProgressElement>(storage, 'progress').value).toBeGreaterThan(0);
    const badge = $(storage, '.persisted').textContent ?? '';
    expect(badge).toMatch(/Persistent storage|Not persistent/);
    const keep = $maybe<HTMLButtonElement>(storage, 'button.keep');
    if (keep) {
      keep.click();
      await waitFor(() => $(storage, '.outcome').textContent?.trim() || $maybe(storage, '.persisted.on'), 5000, 'the outcome');
    }
    // The way there from a full-storage error is by this name.
    expect($(m.root, 'settings-panel', '#tab-storage').textContent).toContain('Storage');
  });

  it('lists a cached model with its size; Delete (confirmed) removes it from the cache', async () => {
    const cache = await caches.open(CACHE_NAME);
    await cache.put(FAKE_URL, new Response(new Uint8Array(FAKE_BYTES), { headers: { 'content-length': String(FAKE_BYTES) } }));
    cleanups.push(async () => void (await cache.delete(FAKE_URL)));
    m = await mountApp();
    const storage = await openStorage(m.root);
    const row = await waitFor(() => $maybe(manager(storage), 'li[data-model="acme/tiny"]'), 5000, 'the cached model');
    expect(row.querySelector('.name')?.textContent).toBe('tiny');
    expect(row.querySelector('.size')?.textContent).toBe('3.0 MB');

    row.querySelector<HTMLButtonElement>('button.delete')!.click();
    await manager(storage).updateComplete;
    // Cancel first: nothing happens.
    expect(row.querySelector('.confirm')?.textContent).toContain('free 3.0 MB');
    row.querySelector<HTMLButtonElement>('button.cancel')!.click();
    await manager(storage).updateComplete;
    expect(await cache.match(FAKE_URL)).toBeDefined();

    row.querySelector<HTMLButtonElement>('button.delete')!.click();
    await manager(storage).updateComplete;
    row.querySelector<HTMLButtonElement>('button.confirm-delete')!.click();
    await waitFor(() => !$maybe(manager(storage), 'li[data-model="acme/tiny"]'), 5000, 'the model to go');
    expect(await cache.match(FAKE_URL)).toBeUndefined();
    expect($(manager(storage), '.ok').textContent).toContain('Deleted tiny; 3.0 MB freed.');
  });

  it('deleting the model in use says it will download again', async () => {
    const url = 'https://huggingface.co/HuggingFaceTB/SmolVLM-256M-Instruct/resolve/main/onnx/fake-test.onnx';
    const cache = await caches.open(CACHE_NAME);
    await cache.put(url, new Response(new Uint8Array(1024), { headers: { 'content-length': '1024' } }));
    cleanups.push(async () => void (await cache.delete(url)));
    m = await mountApp();
    const storage = await openStorage(m.root);
    const row = await waitFor(() => $maybe(manager(storage), 'li[data-model="HuggingFaceTB/SmolVLM-256M-Instruct"]'), 5000, 'the model');
    expect(row.querySelector('.meta')?.textContent).toContain('in use');
    row.querySelector<HTMLButtonElement>('button.delete')!.click();
    await manager(storage).updateComplete;
    expect(row.querySelector('.confirm')?.textContent).toContain('it will download again');
  });

  it('exports all chats and the open one as files that import accepts', async () => {
    m = await mountApp();
    const a = await seedChat(m.store, 'Harbour');
    await seedChat(m.store, 'Garden');
    const downloads = catchDownloads((c) => cleanups.push(c));
    // Open a chat, so “Export this chat” is offered.
    await waitFor(() => $all(m.root, ['session-list'], 'session-item').length === 2, 3000, 'the chats');
    const item = $all<HTMLElementTagNameMap['session-item']>(m.root, ['session-list'], 'session-item').find((i) => i.session?.id === a)!;
    $(item, 'button.open').click();
    await waitFor(() => m.root.sessionId === a, 3000, 'the chat to open');

    const storage = await openStorage(m.root);
    $(transfer(storage), 'button.export-all').click();
    await waitFor(() => downloads.length === 1, 5000, 'the export');
    expect(downloads[0]!.name).toMatch(/^glimpse-chats-\d{4}-\d{2}-\d{2}\.json$/);
    const all = await prepareImport(await (await fetch(downloads[0]!.href)).blob());
    expect(all.sessions.map((s) => s.title).sort()).toEqual(['Garden', 'Harbour']);
    expect(all.images.size).toBe(1); // the same picture in both, stored once
    expect($(transfer(storage), '.transfer-ok').textContent).toContain('2 chats');

    $(transfer(storage), 'button.export-one').click();
    await waitFor(() => downloads.length === 2, 5000, 'the second export');
    expect(downloads[1]!.name).toMatch(/^glimpse-chat-harbour-\d{4}-\d{2}-\d{2}\.json$/);
    const one = await prepareImport(await (await fetch(downloads[1]!.href)).blob());
    expect(one.sessions.map((s) => s.session_id)).toEqual([a]);
    expect(one.sessions[0]!.history).toHaveLength(2);
  });

  it('a broken file shows what was wrong and changes nothing', async () => {
    m = await mountApp();
    await seedChat(m.store, 'Harbour');
    const before = await m.store.list();
    const storage = await openStorage(m.root);
    const t = transfer(storage);
    const good = await m.store.exportSessions();
    good.sessions[0]!.history[1]!.role = 'wizard' as 'user';
    pick($<HTMLInputElement>(t, '#import-file'), new File([JSON.stringify(good)], 'broken.json', { type: 'application/json' }));
    const banner = await waitFor(() => $maybe(t, 'error-banner.transfer-error')?.shadowRoot?.querySelector('.banner'), 5000, 'the error');
    expect(banner.textContent).toContain('can’t be imported');
    expect(banner.textContent).toContain('message 2 has an unknown role');
    expect(banner.textContent).toContain('Nothing was changed.');
    expect(await m.store.list()).toEqual(before);

    pick($<HTMLInputElement>(t, '#import-file'), new File(['not json'], 'notes.json'));
    await waitFor(() => $maybe(t, 'error-banner.transfer-error')?.shadowRoot?.textContent?.includes('not JSON'), 5000, 'the second error');
    expect(await m.store.list()).toEqual(before);
  });

  it('import restores deleted chats; importing again does not duplicate', async () => {
    m = await mountApp();
    const a = await seedChat(m.store, 'Harbour');
    await seedChat(m.store, 'Garden');
    const file = new File([JSON.stringify(await m.store.exportSessions())], 'backup.json', { type: 'application/json' });
    await m.store.delete(a);
    const storage = await openStorage(m.root);
    const t = transfer(storage);
    pick($<HTMLInputElement>(t, '#import-file'), file);
    await waitFor(() => $(t, '.transfer-ok').textContent === 'Imported 1 chat, skipped 1 already here.', 5000, 'the result');
    expect((await m.store.list()).map((s) => s.title).sort()).toEqual(['Garden', 'Harbour']);
    expect(await m.store.messages(a)).toHaveLength(2);
    // The sidebar follows.
    await waitFor(() => $all(m.root, ['session-list'], 'session-item').length === 2, 3000, 'the sidebar');

    pick($<HTMLInputElement>(t, '#import-file'), file);
    await waitFor(() => $(t, '.transfer-ok').textContent === 'Nothing new: all 2 chats are already here.', 5000, 'the second result');
    expect(await m.store.list()).toHaveLength(2);
  });

  it('a model folder without the files this device needs names them; a complete one becomes the selected model', async () => {
    m = await mountApp();
    const storage = await openStorage(m.root);
    const mm = manager(storage);
    const folderFile = (path: string, body = '{}') => {
      const f = new File([body], path.split('/').pop()!);
      Object.defineProperty(f, 'webkitRelativePath', { value: `my-model/${path}` });
      return f;
    };
    pick($<HTMLInputElement>(mm, '#folder'), folderFile('config.json'), folderFile('tokenizer.json'));
    const banner = await waitFor(() => $maybe(mm, 'error-banner.folder-error')?.shadowRoot?.querySelector('.banner'), 5000, 'the error');
    expect(banner.textContent).toContain('Model files missing');
    expect(banner.textContent).toMatch(/missing \d+ files the model needs on this device: .*tokenizer_config\.json/);
    expect(banner.textContent).toMatch(/onnx\/decoder_model_merged\S*\.onnx/);
    expect(banner.textContent).toContain('Pick the model’s own folder');
    expect(m.settings.value.localModels).toEqual([]);

    // Every file this (simulated WebGPU) device needs: imported, listed, selected.
    const device = m.engine.device ?? (await m.engine.probe());
    const files = requiredFiles(device).map((p) => folderFile(p, p.endsWith('.onnx') ? 'x'.repeat(2048) : '{}'));
    pick($<HTMLInputElement>(mm, '#folder'), ...files);
    await waitFor(() => $(mm, '.folder-ok').textContent?.includes('Loaded my-model (from a folder)'), 5000, 'the import');
    cleanups.push(async () => {
      const cache = await caches.open(CACHE_NAME);
      for (const r of await cache.keys()) if (r.url.includes('/local/my-model/')) await cache.delete(r);
    });
    expect(m.settings.value.localModels).toEqual(['local/my-model']);
    expect(m.settings.value.localModel).toBe('local/my-model');
    await waitFor(() => $maybe(mm, 'li[data-model="local/my-model"]'), 5000, 'the model in the list');
    // The General tab offers it.
    $(m.root, 'settings-panel', '#tab-general').click();
    await $(m.root, 'settings-panel').updateComplete;
    const chosen = await waitFor(() => $maybe<HTMLInputElement>(m.root, 'settings-panel', 'settings-general', '.models input:checked'), 3000, 'the model list');
    expect(chosen.value).toBe('local/my-model');
    expect(chosen.closest('label')!.textContent).toContain('my-model (from a folder)');
    expect(chosen.closest('label')!.textContent).toContain('on this device');

    // Deleting it takes it out of the choices and goes back to the default model.
    $(m.root, 'settings-panel', '#tab-storage').click();
    const storage2 = await waitFor(() => $maybe(m.root, 'settings-panel', 'storage-panel'), 3000, 'the storage tab');
    const row = await waitFor(() => $maybe(manager(storage2), 'li[data-model="local/my-model"]'), 5000, 'the model');
    row.querySelector<HTMLButtonElement>('button.delete')!.click();
    await manager(storage2).updateComplete;
    expect(row.querySelector('.confirm')?.textContent).toContain('load the folder again');
    row.querySelector<HTMLButtonElement>('button.confirm-delete')!.click();
    await waitFor(() => m.settings.value.localModels.length === 0, 5000, 'the setting');
    expect(m.settings.value.localModel).toBe('HuggingFaceTB/SmolVLM-256M-Instruct');
  });

  it('the model host field explains the layout and takes effect without a reload (issue 23)', async () => {
    m = await mountApp({ engine: { offline: true, downloadMs: 300 } });
    // The host cannot be reached: the header says so.
    await waitFor(() => $maybe(m.root, 'model-status', 'button.download'), 3000, 'Download now');
    $(m.root, 'model-status', 'button.download').click();
    await waitFor(() => m.engine.status.state === 'error', 5000, 'the failure');
    const storage = await openStorage(m.root);
    const mm = manager(storage);
    expect($(mm, '#host-help').textContent).toContain('{owner}/{name}/resolve/main/{file}');
    expect($(mm, '#host-help').textContent).toContain('no reload needed');
    const input = $<HTMLInputElement>(mm, '#model-host');
    input.value = './models/';
    input.dispatchEvent(new Event('change'));
    expect(m.settings.value.modelHost).toBe('./models/');
    // The engine downloads from there next, the failure from the old host is gone, and no reload is asked.
    const remoteHost = new URL('./models/', document.baseURI).href;
    await waitFor(() => m.engine.source.kind === 'hub' && m.engine.source.remoteHost === remoteHost, 3000, 'the new source');
    await waitFor(() => m.engine.status.state === 'idle', 3000, 'the failure cleared');
    expect($maybe(mm, '.reload-needed, button.reload')).toBeNull();
    expect($maybe(m.root, 'model-status', 'button.download')).not.toBeNull();
  });

  it('shows the model worker’s memory now and at rest, and that it was given back', async () => {
    m = await mountApp();
    const storage = await openStorage(m.root);
    const view = () => $maybe(storage, 'engine-memory');
    expect(view()?.shadowRoot?.textContent?.trim() ?? '').toBe(''); // nothing read yet: nothing shown
    const MB = 1e6;
    m.engine.reportMemory({ nowBytes: 69 * MB, steadyBytes: 29 * MB, giveBackAboveBytes: 285 * MB, budgetBytes: 4e9, givenBack: 0 });
    const now = await waitFor(() => $maybe(storage, 'engine-memory', '.now')?.textContent, 5000, 'the memory figures');
    expect(now).toMatch(/69 MB now/);
    expect($(storage, 'engine-memory', '.steady').textContent).toMatch(/29 MB at rest/);
    expect($(storage, 'engine-memory', '.given-back').textContent).toMatch(/Above 285 MB after an answer/);
    m.engine.reportMemory({ nowBytes: 30 * MB, steadyBytes: 30 * MB, giveBackAboveBytes: 286 * MB, budgetBytes: 4e9, givenBack: 1, last: { fromBytes: 517 * MB, toBytes: 30 * MB, at: Date.now() } });
    await waitFor(() => /Given back once: the model held 517 MB and holds 30 MB after reloading/.test($(storage, 'engine-memory', '.given-back').textContent ?? ''), 5000, 'the give-back');
    expect($(storage, 'engine-memory', '.now').textContent).toMatch(/30 MB now/);
  });

  it('a full-storage error leads to Settings → Storage', async () => {
    m = await mountApp();
    const banner = document.createElement('error-banner');
    banner.error = { name: 'StorageQuotaError', message: 'Your browser’s storage for this site is full (Settings → Storage).' };
    $(m.root, 'chat-view').shadowRoot!.append(banner);
    await banner.updateComplete;
    $(banner, 'button.storage').click();
    const panel = await waitFor(() => $maybe(m.root, 'settings-panel'), 5000, 'the settings dialog');
    await waitFor(() => $maybe(panel, 'dialog[open]') && $maybe(panel, 'storage-panel'), 5000, 'the storage tab');
    banner.remove();
  });
});

describe('the open chat follows other tabs', () => {
  it('shows messages another tab appends, and closes with a notice when another tab deletes it', async () => {
    m = await mountApp();
    await send(m.root, 'First from this tab');
    await settled(m);
    const id = m.root.sessionId!;
    const other = await SessionStore.open(m.storeName);
    cleanups.push(() => other.close());

    await other.append(id, { role: 'user', content: makeContent('Hello from the other tab', false), timestamp: nowIso(), status: 'complete' });
    await waitFor(() => messageItems(m.root).length === 3, 5000, 'the other tab’s message');
    expect($(messageItems(m.root)[2]!, '.user-text').textContent).toBe('Hello from the other tab');

    await other.delete(id);
    await waitFor(() => m.root.sessionId === null, 5000, 'the chat to close');
    const notice = await waitFor(() => $maybe(m.root, 'chat-view', '.notice error-banner')?.shadowRoot?.textContent, 3000, 'the notice');
    expect(notice).toContain('This chat was deleted in another tab.');
    expect(notice).not.toContain('Unexpected');
    $(m.root, 'chat-view', 'chat-empty');
    await waitFor(() => $all(m.root, ['session-list'], 'session-item').length === 0, 3000, 'the sidebar');
  });

  it('a message sent while another tab answers in the same chat waits for it, then follows it', async () => {
    m = await mountApp();
    await send(m.root, 'Start');
    await settled(m);
    const id = m.root.sessionId!;
    const other = await SessionStore.open(m.storeName);
    cleanups.push(() => other.close());
    const engine = new FakeEngine({ downloadMs: 10 });
    const slow = new FakeBackend(engine, { tokenDelayMs: 25 });
    const otherChat = new ChatService({ store: other, backend: () => slow, persistEveryMs: 50 });
    const theirs = otherChat.chat({ message: 'From the other tab', session_id: id });
    // Their answer is streaming here too.
    await waitFor(() => messageItems(m.root).some((i) => i.message?.status === 'streaming'), 5000, 'their answer streaming');

    await send(m.root, 'From this tab');
    const hint = await waitFor(() => $maybe(m.root, 'chat-view', 'chat-composer', '.waiting')?.textContent, 3000, 'the waiting hint');
    expect(hint).toContain('Waiting for the other tab');
    await theirs;
    await settled(m, 6);
    const history = (await m.chat.history(id)).history;
    expect(history.map((h) => `${h.role}:${h.content.map((p) => (p.type === 'text' ? p.text : '')).join('')}`)).toEqual([
      'user:Start',
      expect.stringMatching(/^assistant:.*You asked: “Start”/),
      'user:From the other tab',
      expect.stringMatching(/^assistant:.*You asked: “From the other tab”/),
      'user:From this tab',
      expect.stringMatching(/^assistant:.*You asked: “From this tab”/),
    ]);
  });
});
