/** The draft in the composer (issue 23): a refusal clears on the next change, a second photo says what it does. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { $, $maybe, composerOf, filesOf, mountApp, pngFile, send, settled, textareaOf, waitFor, type Mounted } from './helpers';

let m: Mounted;
beforeEach(async () => {
  m = await mountApp();
});
afterEach(async () => {
  await m.dispose();
});

const refusal = () => $maybe(m.root, 'chat-view', 'chat-composer', 'error-banner.composer-error', '.banner');
const chipText = () => $maybe(m.root, 'chat-view', 'chat-composer', 'image-chip.pending')?.shadowRoot?.textContent ?? '';

async function type(text: string) {
  const box = textareaOf(m.root);
  box.value = text;
  box.dispatchEvent(new Event('input', { bubbles: true }));
  await composerOf(m.root).updateComplete;
}

async function pick(file: File) {
  const input = $<HTMLInputElement>(m.root, 'chat-view', 'chat-composer', '#picker');
  input.files = filesOf(file).files;
  input.dispatchEvent(new Event('change', { bubbles: true }));
}

describe('the draft', () => {
  it('“Nothing to send” goes away when the user types', async () => {
    await send(m.root, '\u200b');
    await waitFor(() => refusal()?.textContent?.includes('Nothing to send'), 5000, 'the refusal');
    await type('\u200bA real question');
    await waitFor(() => !refusal(), 3000, 'the refusal to clear');
  });

  it('“Nothing to send” goes away when the user attaches a photo', async () => {
    await send(m.root, '\u2800');
    await waitFor(() => refusal()?.textContent?.includes('Nothing to send'), 5000, 'the refusal');
    await pick(await pngFile(320, 240));
    await waitFor(() => !refusal(), 3000, 'the refusal to clear');
    await waitFor(() => chipText().includes('image tokens'), 5000, 'the chip');
  });

  it('a second photo waiting to be sent says it will replace the one in context', async () => {
    await pick(await pngFile(320, 240));
    await waitFor(() => chipText().includes('image tokens'), 5000, 'the chip');
    expect(chipText()).not.toContain('replaces');
    await send(m.root, 'What is this?');
    await settled(m);
    await waitFor(() => $maybe(m.root, 'chat-view', 'chat-composer', 'image-chip.in-context'), 3000, 'the context chip');
    await pick(await pngFile(200, 300, 'second.png'));
    await waitFor(() => chipText().includes('second.png'), 5000, 'the second chip');
    expect(chipText()).toContain('replaces the image in context when sent');
  });
});
