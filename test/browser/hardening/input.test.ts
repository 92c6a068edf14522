/**
 * Bad input through the real UI in real Chromium (real IndexedDB, the simulated engine): each is a clear,
 * named error next to the composer, the typed text stays, nothing is saved, and the app still works.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { $, $maybe, composerOf, filesOf, messageItems, mountApp, send, settled, textareaOf, waitFor, type Mounted } from '../ui/helpers';
import { SVG_WITH_SCRIPT, animatedGif, heicFile, jpegBlob, paddedPng, pngClaiming, truncated } from './files';

let m: Mounted;
beforeEach(async () => {
  m = await mountApp();
});
afterEach(async () => {
  await m.dispose();
});

const banner = () => $maybe(m.root, 'chat-view', 'chat-composer', 'error-banner', '.banner');
const pending = () => $maybe(m.root, 'chat-view', 'chat-composer', 'image-chip.pending');

function type(text: string): HTMLTextAreaElement {
  const box = textareaOf(m.root);
  box.value = text;
  box.dispatchEvent(new Event('input', { bubbles: true }));
  return box;
}

async function attach(file: File): Promise<void> {
  const input = $<HTMLInputElement>(m.root, 'chat-view', 'chat-composer', '#picker');
  input.files = filesOf(file).files;
  input.dispatchEvent(new Event('change', { bubbles: true }));
}

/** The app still answers a normal question afterwards. */
async function stillUsable(): Promise<void> {
  const before = messageItems(m.root).length;
  await send(m.root, 'Is everything still fine?');
  await settled(m, before + 2);
  expect(messageItems(m.root).at(-1)!.message?.status).toBe('complete');
}

describe('messages', () => {
  it('a 100,000-character message is refused with the limit, the text stays, nothing is saved', async () => {
    const huge = 'a'.repeat(99_991) + ' the end.';
    const box = type(huge);
    await composerOf(m.root).updateComplete;
    box.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true, composed: true }));
    const b = await waitFor(banner, 5000, 'the error');
    expect(b.getAttribute('data-error')).toBe('MessageTooLongError');
    expect(b.textContent).toContain('100,000 characters');
    expect(b.textContent).toContain('8,000');
    expect(box.value).toBe(huge);
    expect(await m.store.list()).toEqual([]);
    expect(m.backend.requests).toHaveLength(0);
    expect(m.root.services!.generation.busy).toBe(false);
    await stillUsable();
  });

  it('empty and whitespace-only messages cannot be sent (the button stays disabled, Enter does nothing)', async () => {
    for (const text of ['', '   \n\t  ']) {
      type(text);
      await composerOf(m.root).updateComplete;
      expect($<HTMLButtonElement>(m.root, 'chat-view', 'chat-composer', 'button.send').disabled).toBe(true);
      textareaOf(m.root).dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true, composed: true }));
      await new Promise((r) => setTimeout(r, 100));
      expect(messageItems(m.root)).toHaveLength(0);
    }
    expect(await m.store.list()).toEqual([]);
    await stillUsable();
  });
});

describe('files', () => {
  const cases: [string, () => Promise<File> | File, string, RegExp][] = [
    ['a zero-byte file', () => new File([], 'empty.jpg', { type: 'image/jpeg' }), 'ImageUnreadableError', /empty \(0 bytes\)/],
    ['a JPEG cut off inside its header', async () => truncated(await jpegBlob(), 0.002), 'ImageUnreadableError', /damaged or cut short/],
    ['a PNG that claims 30000×30000', () => pngClaiming(30_000, 30_000), 'ImageTooLargeError', /30000×30000 pixels/],
    ['a 50 MB image', () => paddedPng(50 * 1024 * 1024), 'ImageTooLargeError', /50 MB; the limit is 20 MB/],
    ['an SVG with a script', () => new File([SVG_WITH_SCRIPT], 'logo.svg', { type: 'image/svg+xml' }), 'UnsupportedImageError', /SVG drawing/],
    ['a HEIC photo', () => heicFile(), 'UnsupportedImageError', /HEIC\/HEIF photo.*Most Compatible/],
    ['a text file named .png', () => new File(['just notes'], 'notes.png', { type: 'image/png' }), 'UnsupportedImageError', /labelled image\/png|image\/png file|not an image/],
  ];
  it.each(cases)('%s is refused with a named error; the typed text stays; nothing is saved', async (_name, make, name, message) => {
    const box = type('What is in this picture?');
    await attach(await make());
    const b = await waitFor(banner, 10_000, 'the error');
    expect(b.getAttribute('data-error')).toBe(name);
    expect(b.textContent).toMatch(message);
    expect(box.value).toBe('What is in this picture?');
    expect(pending()).toBeNull();
    expect(await m.store.list()).toEqual([]);
    expect((window as { __svgRan?: boolean }).__svgRan).toBeUndefined();
    await stillUsable();
  });

  it('an animated GIF is accepted with a notice that only the first frame is used, and sent', async () => {
    const gif = new File([animatedGif(48, 32, [[220, 40, 40], [40, 40, 220]])], 'blink.gif', { type: 'image/gif' });
    // The browser itself reads it as a valid image.
    const bitmap = await createImageBitmap(gif);
    expect([bitmap.width, bitmap.height]).toEqual([48, 32]);
    bitmap.close();
    type('What colour is it?');
    await attach(gif);
    const chip = await waitFor(() => pending()?.shadowRoot?.textContent, 5000, 'the chip');
    expect(chip).toContain('48×32');
    expect(chip).toContain('only the first frame is used');
    expect(banner()).toBeNull();
    textareaOf(m.root).dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true, composed: true }));
    await settled(m, 2);
    expect(m.backend.requests[0]!.image?.blob.type).toBe('image/gif');
    expect(messageItems(m.root)[0]!.message?.imageHash).toBeTruthy();
  });
});
