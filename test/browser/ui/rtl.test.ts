/** Right-to-left text (issue 23): messages, answers, the message box and chat titles follow their own text. */
import { afterEach, describe, expect, it } from 'vitest';
import { $, $all, composerOf, messageItems, mountApp, send, settled, textareaOf, waitFor, type Mounted } from './helpers';

let m: Mounted;
afterEach(async () => {
  await m?.dispose();
});

const direction = (el: Element) => getComputedStyle(el).direction;

describe('right-to-left', () => {
  it('an Arabic question, a Hebrew answer with an English line and code: each reads in its own direction', async () => {
    m = await mountApp();
    const box = textareaOf(m.root);
    box.value = 'ما الذي في هذه الصورة؟';
    box.dispatchEvent(new Event('input', { bubbles: true }));
    await composerOf(m.root).updateComplete;
    expect(direction(box)).toBe('rtl');

    m.backend.nextAnswer = ['שלום! זו תמונה של גבעות.', '', 'This line is English.', '', '- פריט ראשון', '', '> ציטוט', '', '```js', 'const a = 1;', '```'].join('\n');
    await send(m.root, 'ما الذي في هذه الصورة؟');
    await settled(m);
    const [question, answer] = messageItems(m.root);
    await waitFor(() => $all(answer!, [], '.md blockquote').length, 5000, 'the markdown'); // its renderer loads on first use
    expect(direction($(question!, '.user-text'))).toBe('rtl');
    const blocks = $all(answer!, [], '.md > p');
    expect(blocks.map(direction)).toEqual(['rtl', 'ltr']);
    expect(direction($(answer!, '.md li'))).toBe('rtl');
    expect(direction($(answer!, '.md pre'))).toBe('ltr');
    // Logical properties: a Hebrew quote's bar is on its start side, the right.
    const quote = $(answer!, '.md blockquote');
    expect(direction(quote)).toBe('rtl');
    expect(getComputedStyle(quote).borderRightWidth).toBe('3px');
    expect(getComputedStyle(quote).borderLeftWidth).toBe('0px');
    // The page itself stays left to right, and an English box goes back to it.
    expect(direction(document.documentElement)).toBe('ltr');
    box.value = 'And in English?';
    box.dispatchEvent(new Event('input', { bubbles: true }));
    await composerOf(m.root).updateComplete;
    expect(direction(box)).toBe('ltr');
    // The chat's title in the sidebar too.
    const title = await waitFor(() => $all(m.root, ['session-list'], 'session-item')[0]?.shadowRoot?.querySelector('.title'), 3000, 'the title');
    expect(direction(title)).toBe('rtl');
  });
});
