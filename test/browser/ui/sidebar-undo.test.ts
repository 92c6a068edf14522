/** Deleting a chat that is not open, then Undo (issue 23): it comes back in place, the open chat stays open. */
import { afterEach, describe, expect, it } from 'vitest';
import { $, $all, messageItems, mountApp, send, settled, waitFor, type Mounted } from './helpers';

let m: Mounted;
afterEach(async () => {
  await m?.dispose();
});

const items = () => $all<HTMLElementTagNameMap['session-item']>(m.root, ['session-list'], 'session-item');
const titles = () => items().map((i) => i.session?.title);

async function newChat(text: string) {
  $(m.root, 'session-list', 'button.new').click();
  await m.root.updateComplete;
  await waitFor(() => messageItems(m.root).length === 0, 3000, 'an empty chat');
  await send(m.root, text);
  await settled(m);
  await waitFor(() => titles().includes(text), 3000, `“${text}” in the list`);
}

describe('Undo a delete', () => {
  it('restores another chat in place and stays on the open one', async () => {
    m = await mountApp({ undoMs: 10 * 60_000 });
    await newChat('Older chat');
    await newChat('Open chat');
    const open = m.root.sessionId;
    expect(titles()).toEqual(['Open chat', 'Older chat']);
    $(items()[1]!, 'button.delete').click();
    await waitFor(() => titles().length === 1, 2000, 'the chat to hide');
    expect(m.root.sessionId).toBe(open);
    $(m.root, 'session-list', '.toast button.undo').click();
    await waitFor(() => titles().length === 2, 2000, 'the chat to come back');
    expect(titles()).toEqual(['Open chat', 'Older chat']);
    await m.root.updateComplete;
    expect(m.root.sessionId).toBe(open);
    expect(items()[0]!.selected).toBe(true);
    expect($(messageItems(m.root)[0]!, '.user-text').textContent).toBe('Open chat');
  });
});
