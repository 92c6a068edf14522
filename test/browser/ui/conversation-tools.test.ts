import { afterEach, describe, expect, it, vi } from 'vitest';
import { page } from 'vitest/browser';
import { textOf } from '../../../src/chat/messages';
import { $, $all, $maybe, composerOf, filesOf, messageItems, mountApp, pngFile, send, settled, textareaOf, waitFor, type Mounted } from './helpers';

/** Issue 14, items 8-11 and 13-15: the photo, the context, and what chat users expect. */
let m: Mounted;
afterEach(async () => {
  vi.restoreAllMocks();
  await page.viewport(414, 896);
  await m?.dispose();
});

const text = (el: Node | null | undefined) => el?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
const picker = () => $<HTMLInputElement>(m.root, 'chat-view', 'chat-composer', '#picker');

async function attach(file: File) {
  picker().files = filesOf(file).files;
  picker().dispatchEvent(new Event('change', { bubbles: true }));
}

async function askWithImage(question: string, file: File, count: number) {
  await attach(file);
  await waitFor(() => $maybe(m.root, 'chat-view', 'chat-composer', 'image-chip.pending'), 5000, 'the chip');
  await send(m.root, question);
  await settled(m, count);
}

const sessionId = () => m.root.sessionId!;

describe('the photo is never lost (items 8 and 9)', () => {
  it('Enter while the photo is still being checked waits for the check and sends the photo with the question', async () => {
    m = await mountApp();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const check = m.chat.prepareImage.bind(m.chat);
    vi.spyOn(m.chat, 'prepareImage').mockImplementation(async (blob) => {
      await gate;
      return check(blob);
    });
    await attach(await pngFile(4000, 3000, 'big.png'));
    await waitFor(() => text($(m.root, 'chat-view', 'chat-composer', '#keys')).includes('Checking the image'), 3000, 'the check');
    await send(m.root, 'What is in this photo?');
    await new Promise((r) => setTimeout(r, 150));
    expect(messageItems(m.root)).toHaveLength(0); // not sent without its photo
    release();
    await settled(m);
    expect(messageItems(m.root)[0]!.message?.imageHash).toBeTruthy();
    expect(m.backend.requests[0]!.image).not.toBeNull();
    expect(textareaOf(m.root).value).toBe('');
  });

  it('a photo refused during that wait sends nothing, and keeps the question', async () => {
    m = await mountApp();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const check = m.chat.prepareImage.bind(m.chat);
    vi.spyOn(m.chat, 'prepareImage').mockImplementation(async (blob) => {
      await gate;
      return check(blob);
    });
    await attach(new File(['%PDF-1.7'], 'scan.png', { type: 'image/png' }));
    await send(m.root, 'Read this scan');
    release();
    await waitFor(() => $maybe(m.root, 'chat-view', 'chat-composer', 'error-banner'), 3000, 'the refusal');
    await new Promise((r) => setTimeout(r, 100));
    expect(messageItems(m.root)).toHaveLength(0);
    expect(textareaOf(m.root).value).toBe('Read this scan');
  });

  it('removing the image from the context says so, with Undo', async () => {
    m = await mountApp();
    await askWithImage('What is this?', await pngFile(320, 240), 2);
    const hash = (await m.store.get(sessionId()))!.imageHash;
    expect(hash).toBeTruthy();
    $(m.root, 'chat-view', 'chat-composer', 'image-chip.in-context', 'button.remove').click();
    const toast = await waitFor(() => $maybe(m.root, 'chat-view', 'undo-toast', '.toast'), 3000, 'the toast');
    expect(text(toast)).toContain('Image removed from the model’s context.');
    await waitFor(async () => (await m.store.get(sessionId()))?.imageHash === null, 3000, 'removed');
    $(m.root, 'chat-view', 'undo-toast', 'button.undo').click();
    await waitFor(() => $maybe(m.root, 'chat-view', 'chat-composer', 'image-chip.in-context'), 3000, 'the image back');
    expect((await m.store.get(sessionId()))!.imageHash).toBe(hash);
    expect($maybe(m.root, 'chat-view', 'undo-toast', '.toast')).toBeNull();
  });
});

describe('the one-image rule, visible (items 10 and 11)', () => {
  it('marks a replaced photo “Not in context”, and “Ask about this again” brings it back', async () => {
    m = await mountApp();
    await askWithImage('First photo?', await pngFile(320, 240), 2);
    const canvas = new OffscreenCanvas(200, 200);
    canvas.getContext('2d')!.fillRect(0, 0, 100, 100);
    const second = new File([await canvas.convertToBlob({ type: 'image/png' })], 'second.png', { type: 'image/png' });
    await askWithImage('Second photo?', second, 4);
    const [first, , latest] = messageItems(m.root);
    await waitFor(() => $maybe(first!, '.not-in-context'), 3000, 'the mark');
    expect(text($(first!, 'figcaption'))).toContain('Not in context');
    expect($maybe(latest!, '.not-in-context')).toBeNull();
    expect($(first!, 'img.photo').getBoundingClientRect().width).toBeLessThanOrEqual(120);

    $(first!, 'button.ask-again').click();
    await waitFor(async () => (await m.store.get(sessionId()))?.imageHash === first!.message!.imageHash, 3000, 'the old photo in context');
    await waitFor(() => $maybe(messageItems(m.root)[2]!, '.not-in-context') && !$maybe(messageItems(m.root)[0]!, '.not-in-context'), 3000, 'the marks to swap');
    await send(m.root, 'And the first one again?');
    await settled(m, 6);
    expect(m.backend.requests.at(-1)!.image?.hash).toBe(first!.message!.imageHash);
  });

  it('a token meter by the composer counts the conversation, the typed text and the image', async () => {
    m = await mountApp();
    const meter = () => $maybe<HTMLElementTagNameMap['token-meter']>(m.root, 'chat-view', 'chat-composer', 'token-meter');
    expect(meter()).toBeNull(); // nothing in context yet
    await askWithImage('What is this?', await pngFile(640, 480), 2);
    const label = () => text($(m.root, 'chat-view', 'chat-composer', 'token-meter', '.sr-only'));
    const used = () => Number(/About ([\d,]+) of/.exec(label())![1]!.replace(/,/g, ''));
    await waitFor(() => meter(), 3000, 'the meter');
    expect(label()).toMatch(/of the model’s 8,192 tokens in context, 320 of them for the image$/);
    expect(text(meter()!.shadowRoot!.querySelector('[aria-hidden="true"]'))).toMatch(/^~\d+ \/ 8\.2k$/);
    const before = used();
    expect(before).toBeGreaterThan(320 + 20);
    const box = textareaOf(m.root);
    box.value = 'x'.repeat(400);
    box.dispatchEvent(new Event('input', { bubbles: true }));
    await composerOf(m.root).updateComplete;
    await meter()!.updateComplete;
    expect(used()).toBe(before + 100);
  });

  it('Settings says when a value was corrected instead of changing it silently', async () => {
    m = await mountApp();
    $(m.root, 'header button.settings').click();
    const general = await waitFor(() => $maybe<HTMLElementTagNameMap['settings-general']>(m.root, 'settings-panel', 'settings-general'), 5000, 'settings');
    await general.updateComplete;
    const set = async (id: string, value: string) => {
      const input = $<HTMLInputElement>(general, `#${id}`);
      input.value = value;
      input.dispatchEvent(new Event('change', { bubbles: true }));
      await general.updateComplete;
      return input;
    };
    const tokens = await set('max-tokens', '99999');
    expect(m.settings.value.maxNewTokens).toBe(4096);
    expect(tokens.value).toBe('4096');
    expect(text($(general, '#max-tokens ~ .corrected'))).toBe('99,999 is more than the most allowed, so it is set to 4,096.');
    await set('window', '1');
    expect(text($(general, '#window ~ .corrected'))).toBe('1 is less than the least allowed, so it is set to 2.');
    await set('kv-memory', '256');
    expect(m.settings.value.kvBudgetMB).toBe(256);
    expect($maybe(general, '#kv-memory ~ .corrected')).toBeNull();
    expect(m.engine.kvBudgetBytes).toBe(256 * 2 ** 20); // carried to the engine
    await set('max-tokens', '300');
    expect($maybe(general, '#max-tokens ~ .corrected')).toBeNull();
  });
});

describe('what chat users expect (items 12 copy, 13, 14, 15)', () => {
  it('Copy copies a whole answer', async () => {
    m = await mountApp();
    const writeText = vi.spyOn(navigator.clipboard, 'writeText').mockResolvedValue(undefined);
    await send(m.root, 'hello');
    await settled(m);
    const answer = messageItems(m.root)[1]!;
    $(answer, 'button.copy-reply').click();
    await waitFor(() => writeText.mock.calls.length === 1, 2000, 'the copy');
    expect(writeText.mock.calls[0]![0]).toBe(textOf(answer.message!));
    expect(writeText.mock.calls[0]![0]).toContain('```python');
    await waitFor(() => text($maybe(answer, '.copied')) === 'Answer copied to the clipboard.', 2000, 'the confirmation');
  });

  it('Regenerate keeps answers as versions: ‹ 1/2 › shows the earlier one', async () => {
    m = await mountApp();
    m.backend.nextAnswer = 'The first answer.';
    await send(m.root, 'Question');
    await settled(m);
    m.backend.nextAnswer = 'The second answer.';
    $(messageItems(m.root)[1]!, 'button.regenerate').click();
    await waitFor(() => text($maybe(messageItems(m.root)[1]!, '.versions .count')) === '2/2', 5000, '2/2');
    await settled(m, 2);
    const answer = () => messageItems(m.root)[1]!;
    expect(text($(answer(), '.md'))).toBe('The second answer.');
    $(answer(), '.versions button.prev').click();
    await waitFor(() => text($maybe(answer(), '.versions .count')) === '1/2' && text($maybe(answer(), '.md')) === 'The first answer.', 5000, 'the first answer');
    expect($<HTMLButtonElement>(answer(), '.versions button.prev').disabled).toBe(true);
    expect($(answer(), '.versions').getAttribute('aria-label')).toBe('Versions of this answer');
    $(answer(), '.versions button.next').click();
    await waitFor(() => text($maybe(answer(), '.md')) === 'The second answer.', 5000, 'the second answer');
    expect(m.backend.requests).toHaveLength(2); // switching asks nothing of the model
  });

  it('editing an earlier question branches the conversation; ‹ › brings the other branch back', async () => {
    m = await mountApp();
    await send(m.root, 'First question');
    await settled(m);
    await send(m.root, 'Second question');
    await settled(m, 4);
    const first = messageItems(m.root)[0]!;
    $(first, 'button.edit').click();
    await first.updateComplete;
    const editor = $<HTMLTextAreaElement>(first, 'form.edit textarea');
    editor.value = 'First question, edited';
    editor.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    await waitFor(() => messageItems(m.root).length === 2 && text($maybe(messageItems(m.root)[1]!, 'article')).includes('First question, edited'), 8000, 'the branch');
    await settled(m, 2);
    const question = () => messageItems(m.root)[0]!;
    expect(text($(question(), '.versions .count'))).toBe('2/2');
    $(question(), '.versions button.prev').click();
    await waitFor(() => messageItems(m.root).length === 4, 5000, 'the earlier branch');
    expect(messageItems(m.root).map((i) => textOf(i.message!).split('\n')[0])).toEqual([
      'First question', expect.stringContaining('First question'), 'Second question', expect.stringContaining('Second question'),
    ]);
    $(question(), '.versions button.next').click();
    await waitFor(() => messageItems(m.root).length === 2 && text($(question(), '.user-text')) === 'First question, edited', 5000, 'the edit again');
  });

  it('Escape stops an answer; the message box has focus on load and after sending', async () => {
    m = await mountApp({ tokenDelayMs: 40 });
    const focused = () => composerOf(m.root).shadowRoot?.activeElement === textareaOf(m.root);
    await waitFor(focused, 3000, 'focus on load');
    await send(m.root, 'Tell me a lot');
    await waitFor(() => text($maybe(messageItems(m.root)[1] ?? m.root, 'article')).includes('Following'), 8000, 'some tokens');
    expect(focused()).toBe(true);
    document.body.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true, composed: true }));
    await settled(m);
    expect(messageItems(m.root)[1]!.message?.status).toBe('stopped');
  });

  it('Escape in the settings dialog closes the dialog, and does not stop the answer', async () => {
    m = await mountApp({ tokenDelayMs: 30 });
    await send(m.root, 'Tell me a lot');
    await waitFor(() => m.root.services!.generation.busy, 3000, 'the answer');
    $(m.root, 'header button.settings').click();
    const dialog = await waitFor(() => $maybe<HTMLDialogElement>(m.root, 'settings-panel', 'dialog[open]'), 5000, 'the dialog');
    dialog.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true, composed: true }));
    await settled(m);
    expect(messageItems(m.root)[1]!.message?.status).toBe('complete');
  });

  it('the settings dialog keeps Done in view without scrolling, on a phone too', async () => {
    m = await mountApp();
    for (const [w, h] of [[360, 640], [1280, 800]] as const) {
      await page.viewport(w, h);
      $(m.root, 'header button.settings').click();
      const dialog = await waitFor(() => $maybe<HTMLDialogElement>(m.root, 'settings-panel', 'dialog[open]'), 5000, 'the dialog');
      const done = $(m.root, 'settings-panel', 'footer button.done').getBoundingClientRect();
      expect(done.height).toBeGreaterThan(0);
      expect(done.bottom).toBeLessThanOrEqual(window.innerHeight);
      expect(done.top).toBeGreaterThanOrEqual(0);
      // The settings scroll between the header and the footer; the footer does not move.
      const panel = $(m.root, 'settings-panel', '.tabpanel');
      expect(panel.scrollHeight).toBeGreaterThan(panel.clientHeight);
      dialog.close();
      await waitFor(() => !$maybe(m.root, 'settings-panel', 'dialog[open]'), 2000, 'closed');
    }
  });

  it('code is highlighted, quotes have a bar, table headers do not break mid-word', async () => {
    m = await mountApp();
    m.backend.nextAnswer = [
      '```python',
      'def answer(x):',
      '    return "forty-two"  # a comment',
      '```',
      '',
      '> A quoted line.',
      '',
      '| Measurement | Uncertainty |',
      '| --- | --- |',
      '| 1 | 2 |',
    ].join('\n');
    await send(m.root, 'code');
    await settled(m);
    const md = await waitFor(() => $maybe(messageItems(m.root)[1]!, '.md:not(.plain)'), 3000, 'the markdown');
    await waitFor(() => md.querySelector('.hljs-keyword'), 3000, 'highlighting');
    expect(md.querySelector('.hljs-keyword')?.textContent).toBe('def');
    expect(md.querySelector('.hljs-string')?.textContent).toBe('"forty-two"');
    expect(getComputedStyle(md.querySelector('.hljs-keyword')!).color).not.toBe(getComputedStyle(md.querySelector('pre')!).color);
    expect(md.querySelector('pre script, pre img')).toBeNull();
    const quote = md.querySelector('blockquote')!;
    expect(parseFloat(getComputedStyle(quote).borderLeftWidth)).toBeGreaterThanOrEqual(2);
    const th = md.querySelector('th')!;
    expect(th.closest('.table-wrap')).not.toBeNull();
    expect(getComputedStyle(th).whiteSpace).toBe('nowrap');
    expect(th.getClientRects()).toHaveLength(1);
    expect(th.getBoundingClientRect().height).toBeLessThan(40); // one line
  });

  it('a failed answer’s card scrolls fully into view above the composer', async () => {
    await page.viewport(360, 640);
    m = await mountApp();
    for (const q of ['one', 'two', 'three']) {
      await send(m.root, q);
      await settled(m, messageItems(m.root).length + 2);
    }
    // Scrolled up, reading: a failure still comes into view.
    const scroller = $(m.root, 'chat-view', '.scroller');
    scroller.scrollTop = 0;
    scroller.dispatchEvent(new Event('scroll'));
    // The model was deleted and the network is gone: the next answer fails to load it.
    m.engine.offline = true;
    m.engine.deleteDownload(m.engine.model);
    m.engine.status = { state: 'idle' };
    await send(m.root, 'four');
    const last = () => messageItems(m.root).at(-1)!;
    const card = await waitFor(() => last().message?.status === 'error' && $maybe(last(), 'error-banner'), 8000, 'the card');
    await waitFor(() => {
      const r = card.getBoundingClientRect();
      const box = scroller.getBoundingClientRect();
      return r.height > 0 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
    }, 3000, 'the card in view');
    const composer = composerOf(m.root).getBoundingClientRect();
    expect(card.getBoundingClientRect().bottom).toBeLessThanOrEqual(composer.top);
    expect($all(last(), [], 'error-banner')).toHaveLength(1);
  });
});
