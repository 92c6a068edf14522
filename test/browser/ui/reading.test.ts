/** Reading while an answer streams (issue 23): “Jump to latest” after scrolling up; headings fit a phone. */
import { afterEach, describe, expect, it } from 'vitest';
import { $, $maybe, messageItems, mountApp, send, settled, waitFor, type Mounted } from './helpers';

let m: Mounted;
afterEach(async () => {
  await m?.dispose();
});

describe('reading an answer', () => {
  it('scrolled up during an answer: “Jump to latest” appears, and brings the view back to the bottom', async () => {
    m = await mountApp({ tokenDelayMs: 15 });
    m.backend.nextAnswer = Array.from({ length: 160 }, (_, i) => `Line ${i + 1} of a long answer.`).join('\n\n');
    await send(m.root, 'Tell me everything');
    const scroller = $(m.root, 'chat-view', '.scroller');
    await waitFor(() => scroller.scrollHeight > scroller.clientHeight * 2, 15_000, 'a long answer');
    expect($maybe(m.root, 'chat-view', 'button.jump')).toBeNull(); // following: nothing to jump to
    scroller.scrollTop = 0;
    scroller.dispatchEvent(new Event('scroll'));
    const jump = await waitFor(() => $maybe<HTMLButtonElement>(m.root, 'chat-view', 'button.jump'), 3000, 'Jump to latest');
    expect(jump.textContent).toContain('Jump to latest');
    jump.click();
    await waitFor(() => !$maybe(m.root, 'chat-view', 'button.jump'), 3000, 'the button to go');
    const atBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    expect(atBottom()).toBe(true);
    // It follows again as the answer grows, and the keyboard is in the message box.
    const height = scroller.scrollHeight;
    await waitFor(() => scroller.scrollHeight > height + 100, 10_000, 'more text');
    await waitFor(() => atBottom(), 3000, 'following');
    expect($(m.root, 'chat-view', 'chat-composer').matches(':focus-within')).toBe(true);
    await settled(m);
  });

  it('during the first download the answer shows no elapsed seconds: the header’s time left is the one time', async () => {
    m = await mountApp({ engine: { downloadMs: 6000 } });
    await send(m.root, 'Hello');
    const pending = () => $maybe(messageItems(m.root).at(-1) ?? m.root, '.thinking')?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
    await waitFor(() => pending().startsWith('Downloading the model'), 5000, 'the download stage');
    const line = () => $maybe(m.root, 'model-status', '.progress .figures')?.textContent ?? '';
    await waitFor(() => /left/.test(line()), 8000, 'the time left in the header');
    // Until half the files are in (3 s of waiting, the once-a-second count would show by then), no seconds.
    let counted = '';
    await waitFor(() => {
      const t = pending();
      if (/\d s$/.test(t)) counted = t;
      return counted || Number(/(\d+)%/.exec(t)?.[1] ?? 0) >= 50;
    }, 10_000, 'half the download');
    expect(counted).toBe('');
    expect(pending()).toMatch(/^Downloading the model · \d+%$/);
    await settled(m);
  });

  it('a “#” heading in an answer is sized for a phone, not the page title', async () => {
    m = await mountApp();
    m.backend.nextAnswer = '# A heading the model wrote\n\n## A smaller one\n\nSome text.';
    await send(m.root, 'Headings');
    await settled(m);
    const answer = messageItems(m.root)[1]!;
    const h1 = await waitFor(() => $maybe(answer, '.md h1'), 5000, 'the heading');
    const body = parseFloat(getComputedStyle($(answer, '.md p')).fontSize);
    const size = parseFloat(getComputedStyle(h1).fontSize);
    expect(size / body).toBeLessThanOrEqual(1.3);
    expect(parseFloat(getComputedStyle($(answer, '.md h2')).fontSize)).toBeLessThanOrEqual(size);
  });
});
