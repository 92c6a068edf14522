import { afterEach, describe, expect, it, vi } from 'vitest';
import { textOf } from '../../../src/chat/messages';
import { $, $all, $maybe, messageItems, mountApp, send, settled, textareaOf, waitFor, type Mounted } from './helpers';

let m: Mounted;
afterEach(async () => {
  vi.restoreAllMocks();
  await m?.dispose();
});

const assistantArticle = (i = -1) => {
  const items = messageItems(m.root).filter((x) => x.message?.role === 'assistant');
  const item = items.at(i);
  return item ? $maybe(item, 'article') : null;
};

describe('conversation', () => {
  it('shows the streamed text as it arrives, then the details, and announces the answer once', async () => {
    m = await mountApp({ tokenDelayMs: 25 });
    await send(m.root, 'Hello there');
    // Mid-stream: some text, not all of it, and the turn is busy.
    const partial = await waitFor(() => {
      const t = assistantArticle()?.textContent ?? '';
      return t.includes('Following up') && !t.includes('Ask me anything else') ? t : null;
    }, 8000, 'partial text');
    expect(partial).toContain('Following up');
    expect($maybe(messageItems(m.root)[1]!, '.bubble')?.getAttribute('aria-busy')).toBe('true');
    const announcer = $(m.root, 'chat-view', '#announcer');
    expect(announcer.getAttribute('aria-live')).toBe('polite');
    expect(announcer.textContent?.trim()).toBe('');

    await settled(m);
    expect(assistantArticle()?.textContent).toContain('Ask me anything else about it.');
    expect(assistantArticle()?.textContent).toMatch(/SmolVLM 256M · WebGPU · \d+ tokens · [\d.]+ tokens\/s · first token/);
    await waitFor(() => announcer.textContent?.includes('Ask me anything else'), 3000, 'the announcement');
  });

  it('renders markdown and makes model output harmless (script, onerror, javascript: links)', async () => {
    m = await mountApp();
    const w = window as unknown as { __pwned?: number };
    m.backend.nextAnswer = [
      '# Title',
      '**bold** and `code`',
      '<script>window.__pwned = 1</script>',
      '<img src="x" onerror="window.__pwned = 2">',
      '[bad](javascript:window.__pwned=3) <a href="javascript:window.__pwned=4">bad2</a> [good](https://example.com/x)',
      '<iframe src="https://example.com"></iframe><form><button>hi</button></form>',
    ].join('\n\n');
    await send(m.root, 'Show me markdown');
    await settled(m);
    await new Promise((r) => setTimeout(r, 100));
    const md = $(messageItems(m.root)[1]!, '.md');
    expect(md.querySelector('h1')?.textContent).toBe('Title');
    expect(md.querySelector('strong')?.textContent).toBe('bold');
    expect(md.querySelectorAll('script, iframe, form, img, [onerror]')).toHaveLength(0);
    for (const a of md.querySelectorAll('a')) {
      expect(a.getAttribute('href') ?? '').not.toMatch(/^javascript:/i);
      expect(a.getAttribute('target')).toBe('_blank');
      expect(a.getAttribute('rel')).toBe('noopener noreferrer');
    }
    expect(md.querySelector<HTMLAnchorElement>('a[href="https://example.com/x"]')?.textContent).toBe('good');
    expect(w.__pwned).toBeUndefined();

    // User text is shown as text, never as HTML.
    await send(m.root, '<b>not bold</b>');
    await settled(m, 4);
    const user = $(messageItems(m.root)[2]!, '.user-text');
    expect(user.querySelector('b')).toBeNull();
    expect(user.textContent).toBe('<b>not bold</b>');
  });

  it('copies a code block with its button', async () => {
    m = await mountApp();
    const writeText = vi.spyOn(navigator.clipboard, 'writeText').mockResolvedValue(undefined);
    await send(m.root, 'Code please');
    await settled(m);
    const item = messageItems(m.root)[1]!;
    const button = await waitFor(() => $maybe<HTMLButtonElement>(item, 'button.copy-code'), 3000, 'the copy button');
    expect(button.getAttribute('aria-label')).toBe('Copy python code');
    button.click();
    await waitFor(() => writeText.mock.calls.length === 1, 2000, 'the copy');
    expect(writeText.mock.calls[0]![0]).toContain("from PIL import Image");
    await waitFor(() => button.textContent === 'Copied', 2000, 'Copied');
  });

  it('Stop keeps the partial answer, marked stopped', async () => {
    m = await mountApp({ tokenDelayMs: 40 });
    await send(m.root, 'Tell me a lot');
    await waitFor(() => (assistantArticle()?.textContent ?? '').includes('Following'), 8000, 'some tokens');
    const stop = await waitFor(() => $maybe<HTMLButtonElement>(m.root, 'chat-view', 'chat-composer', 'button.stop'), 2000, 'Stop');
    stop.click();
    await settled(m);
    const last = messageItems(m.root)[1]!;
    expect(last.message?.status).toBe('stopped');
    const kept = textOf(last.message!);
    expect(kept).toContain('Following');
    expect(kept).not.toContain('Ask me anything else');
    expect($(last, '.status.stopped').textContent).toContain('Stopped');
    const stored = await m.store.messages(last.message!.sessionId);
    expect(stored[1]!.status).toBe('stopped');
    expect(textOf(stored[1]!)).toBe(kept);
    // Send is back.
    expect($maybe(m.root, 'chat-view', 'chat-composer', 'button.send')).not.toBeNull();
  });

  it('regenerates the last answer and edits the last question (Escape cancels the edit)', async () => {
    m = await mountApp();
    await send(m.root, 'First question');
    await settled(m);
    await send(m.root, 'Second question');
    await settled(m, 4);
    // Only the last answer offers Regenerate; every question offers Edit.
    expect($all(m.root, ['chat-view'], 'message-item').length).toBe(4);
    expect($maybe(messageItems(m.root)[1]!, 'button.regenerate')).toBeNull();
    expect($maybe(messageItems(m.root)[0]!, 'button.edit')).not.toBeNull();

    const oldId = messageItems(m.root)[3]!.message!.id;
    $(messageItems(m.root)[3]!, 'button.regenerate').click();
    await waitFor(() => messageItems(m.root)[3]?.message?.id !== oldId, 5000, 'a new answer');
    await settled(m, 4);
    expect(messageItems(m.root)).toHaveLength(4);
    expect(m.backend.requests).toHaveLength(3);

    // Edit: Escape cancels.
    const lastUser = messageItems(m.root)[2]!;
    $(lastUser, 'button.edit').click();
    await lastUser.updateComplete;
    const editor = $<HTMLTextAreaElement>(lastUser, 'form.edit textarea');
    editor.value = 'changed my mind';
    editor.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true }));
    await lastUser.updateComplete;
    expect($maybe(lastUser, 'form.edit')).toBeNull();
    expect($(lastUser, '.user-text').textContent).toBe('Second question');

    // Edit: Enter saves and asks again.
    $(lastUser, 'button.edit').click();
    await lastUser.updateComplete;
    const editor2 = $<HTMLTextAreaElement>(lastUser, 'form.edit textarea');
    editor2.value = 'Second question, edited';
    editor2.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, cancelable: true }));
    await waitFor(() => (assistantArticle()?.textContent ?? '').includes('Second question, edited'), 8000, 'the new answer');
    await settled(m, 4);
    expect(messageItems(m.root)).toHaveLength(4);
    expect($(messageItems(m.root)[2]!, '.user-text').textContent).toBe('Second question, edited');
  });

  it('marks where the context window starts when the transcript is longer than the window', async () => {
    m = await mountApp();
    m.settings.update({ windowSize: 2 });
    await send(m.root, 'one');
    await settled(m);
    expect($maybe(m.root, 'chat-view', '#context-marker')).toBeNull();
    await send(m.root, 'two');
    await settled(m, 4);
    const marker = await waitFor(() => $maybe(m.root, 'chat-view', '#context-marker'), 3000, 'the marker');
    expect(marker.textContent).toContain('Context starts here');
    // It sits right before the first message inside the window (the 3rd of 4).
    const next = marker.nextElementSibling?.querySelector('message-item');
    expect(next?.message?.seq).toBe(2);
    // A wider window: no marker.
    m.settings.update({ windowSize: 20 });
    await waitFor(() => !$maybe(m.root, 'chat-view', '#context-marker'), 3000, 'the marker to go');
  });

  it('shows a failed answer in place, with what happened and Try again', async () => {
    m = await mountApp();
    m.engine.failNextLoad = 'The download stopped: the network went away. Check your connection and try again.';
    await send(m.root, 'Will this work?');
    const banner = await waitFor(() => $maybe(messageItems(m.root)[1] ?? m.root, 'error-banner', '.banner'), 8000, 'the error');
    expect(banner.getAttribute('data-error')).toBe('ModelLoadError');
    expect(banner.textContent).toContain('the network went away');
    expect(textareaOf(m.root).value).toBe('');
    // The status line says it in one line; the card (with Try again) is shown once, in the answer.
    await waitFor(() => $maybe(m.root, 'model-status', '.state.error')?.textContent === 'The model could not load', 3000, 'the status error');
    expect($maybe(m.root, 'model-status', 'error-banner')).toBeNull();
    expect($(m.root, 'chat-view', 'engine-card').hidden).toBe(true);
    $(messageItems(m.root)[1]!, 'error-banner button.retry').click();
    await waitFor(() => messageItems(m.root)[1]?.message?.status === 'complete', 8000, 'the retried answer');
  });
});
