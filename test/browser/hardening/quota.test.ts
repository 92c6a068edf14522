/**
 * IndexedDB quota exceeded while saving, in real Chromium: the real store's writes are made to fail the way a
 * full disk makes them fail (a QuotaExceededError DOMException), through the real UI.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../../../src/chat/messages';
import { $, $maybe, messageItems, mountApp, send, settled, textareaOf, waitFor, type Mounted } from '../ui/helpers';

let m: Mounted;
const original = { put: IDBObjectStore.prototype.put, add: IDBObjectStore.prototype.add };

/** From now on, writes for which `when` is true throw QuotaExceededError, as a full origin does. */
function fillUp(when: (store: string, value: unknown) => boolean): void {
  for (const op of ['put', 'add'] as const) {
    const real = original[op];
    IDBObjectStore.prototype[op] = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (when(this.name, value)) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return real.call(this, value, key);
    };
  }
}
function makeRoom(): void {
  IDBObjectStore.prototype.put = original.put;
  IDBObjectStore.prototype.add = original.add;
}

beforeEach(async () => {
  m = await mountApp();
});
afterEach(async () => {
  makeRoom();
  await m.dispose();
});

const composerBanner = () => $maybe(m.root, 'chat-view', 'chat-composer', 'error-banner', '.banner');
const texts = (msgs: StoredMessage[]) => msgs.map((x) => `${x.role}:${x.status}`);

describe('IndexedDB full', () => {
  it('while saving a question: the storage error leads to Settings → Storage, the text stays, nothing saved is lost', async () => {
    await send(m.root, 'First question');
    await settled(m, 2);
    const id = m.root.sessionId!;
    const before = await m.store.messages(id);

    fillUp(() => true);
    await send(m.root, 'Second question, which does not fit');
    const b = await waitFor(composerBanner, 5000, 'the storage error');
    expect(b.getAttribute('data-error')).toBe('StorageQuotaError');
    expect(b.textContent).toContain('Settings → Storage');
    expect(b.textContent).toContain('nothing already saved was lost');
    expect(textareaOf(m.root).value).toBe('Second question, which does not fit');
    await waitFor(() => !m.root.services!.generation.busy, 3000, 'the send to end');
    makeRoom();
    expect(await m.store.messages(id)).toEqual(before);
    expect(messageItems(m.root)).toHaveLength(2);

    // The banner's button opens the storage tab.
    $(m.root, 'chat-view', 'chat-composer', 'error-banner', 'button.storage').click();
    // The settings panel is loaded on first use (a dynamic import), so it appears a moment after the click.
    const panel = await waitFor(() => $maybe(m.root, 'settings-panel'), 5000, 'the settings panel');
    await waitFor(() => $maybe(panel, 'dialog[open]') && $maybe(panel, 'storage-panel'), 5000, 'the storage tab');
    $(panel, 'dialog').dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, composed: true }));

    // With room again, the same text sends.
    textareaOf(m.root).dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true, composed: true }));
    await settled(m, 4);
    expect(texts(await m.store.messages(id))).toEqual(['user:complete', 'assistant:complete', 'user:complete', 'assistant:complete']);
  });

  it('while saving the answer: the user is told, the answer stays on screen, the question stays saved', async () => {
    await send(m.root, 'First question');
    await settled(m, 2);
    const id = m.root.sessionId!;

    // The question and the empty answer fit; the finished answer does not.
    fillUp((store, value) => store === 'messages' && (value as StoredMessage).role === 'assistant' && (value as StoredMessage).status !== 'streaming');
    await send(m.root, 'Second question');
    const items = () => messageItems(m.root);
    await waitFor(() => !m.root.services!.generation.busy && items().length === 4, 10_000, 'the answer to end');
    await m.root.updateComplete;
    const last = items()[3]!;
    // Told why, on the answer itself, with the way to free space.
    const error = await waitFor(() => $maybe(last, 'error-banner', '.banner'), 5000, 'the error on the answer');
    expect(error.getAttribute('data-error')).toBe('StorageQuotaError');
    expect($(last, 'article').textContent).toContain('You asked: “Second question”');
    // The conversation itself still shows (no load error), and what was saved is intact.
    expect($maybe(m.root, 'chat-view', '.loading error-banner')).toBeNull();
    makeRoom();
    const saved = await m.store.messages(id);
    expect(saved.slice(0, 3).map((x) => `${x.role}:${x.status}`)).toEqual(['user:complete', 'assistant:complete', 'user:complete']);
  });
});
