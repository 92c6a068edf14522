import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { userEvent } from 'vitest/browser';
import { $, $maybe, composerOf, filesOf, messageItems, mountApp, pngFile, send, settled, textareaOf, waitFor, type Mounted } from './helpers';

let m: Mounted;
beforeEach(async () => {
  m = await mountApp();
});
afterEach(async () => {
  await m.dispose();
});

const chipText = () => $maybe(m.root, 'chat-view', 'chat-composer', 'image-chip.pending')?.shadowRoot?.textContent ?? '';

describe('composer', () => {
  it('Enter sends; Shift+Enter adds a line', async () => {
    const box = textareaOf(m.root);
    box.focus();
    await userEvent.keyboard('first line');
    await userEvent.keyboard('{Shift>}{Enter}{/Shift}');
    await userEvent.keyboard('second line');
    expect(box.value).toBe('first line\nsecond line');
    expect(messageItems(m.root)).toHaveLength(0);

    await userEvent.keyboard('{Enter}');
    await waitFor(() => messageItems(m.root).length === 2, 5000, 'the turn to show');
    expect(messageItems(m.root)[0]!.message?.content).toEqual([{ type: 'text', text: 'first line\nsecond line' }]);
    await waitFor(() => box.value === '', 2000, 'the box to clear');
    await settled(m);
  });

  it('attaches an image by the picker and shows its token cost; remove works', async () => {
    const input = $<HTMLInputElement>(m.root, 'chat-view', 'chat-composer', '#picker');
    input.files = filesOf(await pngFile(640, 480)).files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    // 640×480 at "auto" detail: a 1024×1024 grid → 2×2 tiles + the global frame = 5 × 64 tokens.
    await waitFor(() => chipText().includes('320 image tokens'), 5000, 'the chip');
    expect(chipText()).toContain('photo.png');
    expect(chipText()).toContain('640×480');

    m.settings.update({ imageDetail: 'low' });
    await composerOf(m.root).updateComplete;
    await waitFor(() => chipText().includes('64 image tokens'), 2000, 'the low-detail cost');

    $(m.root, 'chat-view', 'chat-composer', 'image-chip.pending', 'button.remove').click();
    await waitFor(() => !$maybe(m.root, 'chat-view', 'chat-composer', 'image-chip.pending'), 2000, 'the chip to go');
  });

  it('attaches an image pasted from the clipboard, and one dropped on the conversation', async () => {
    const box = textareaOf(m.root);
    const paste = new ClipboardEvent('paste', { clipboardData: filesOf(await pngFile(512, 512, 'image.png')), bubbles: true, cancelable: true });
    box.dispatchEvent(paste);
    expect(paste.defaultPrevented).toBe(true);
    await waitFor(() => chipText().includes('64 image tokens'), 5000, 'the pasted chip');

    const scroller = $(m.root, 'chat-view', '.scroller');
    const dt = filesOf(await pngFile(1600, 400, 'wide.png'));
    scroller.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    const drop = new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true });
    scroller.dispatchEvent(drop);
    expect(drop.defaultPrevented).toBe(true);
    await waitFor(() => chipText().includes('wide.png'), 5000, 'the dropped chip');
  });

  it('refuses a wrong file type near the composer with the named error and keeps the typed text', async () => {
    const box = textareaOf(m.root);
    box.value = 'Describe this please';
    box.dispatchEvent(new Event('input', { bubbles: true }));
    const input = $<HTMLInputElement>(m.root, 'chat-view', 'chat-composer', '#picker');
    const pdf = new File(['%PDF-1.7 not an image'], 'scan.png', { type: 'image/png' });
    input.files = filesOf(pdf).files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    const banner = await waitFor(() => $maybe(m.root, 'chat-view', 'chat-composer', 'error-banner', '.banner'), 5000, 'the error');
    expect(banner.getAttribute('data-error')).toBe('UnsupportedImageError');
    expect(banner.textContent).toContain('a PDF document');
    expect(box.value).toBe('Describe this please');
    expect($maybe(m.root, 'chat-view', 'chat-composer', 'image-chip.pending')).toBeNull();
  });

  it('sends the image with the question and keeps it in context for follow-ups', async () => {
    const input = $<HTMLInputElement>(m.root, 'chat-view', 'chat-composer', '#picker');
    input.files = filesOf(await pngFile(320, 240)).files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    await waitFor(() => chipText().includes('image tokens'), 5000, 'the chip');
    await send(m.root, 'What is this?');
    await settled(m);
    expect($maybe(m.root, 'chat-view', 'message-item', 'img.photo')).not.toBeNull();
    const ctx = await waitFor(() => $maybe(m.root, 'chat-view', 'chat-composer', 'image-chip.in-context'), 3000, 'the context chip');
    expect(ctx.shadowRoot?.textContent).toContain('64 image tokens');
    expect(m.backend.requests[0]!.image).not.toBeNull();

    // Remove it from the context: the next question goes without it.
    $(ctx, 'button.remove').click();
    await waitFor(() => !$maybe(m.root, 'chat-view', 'chat-composer', 'image-chip.in-context'), 3000, 'the chip to go');
    await send(m.root, 'And now?');
    await settled(m, 4);
    expect(m.backend.requests[1]!.image).toBeNull();
  });
});
