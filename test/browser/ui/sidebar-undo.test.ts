/** Deleting a chat that is not open, then Undo (issue 23): it comes back in place, the open chat stays open. */
import { afterEach, describe, expect, it } from 'vitest';
import { $, messageItems, mountApp, waitFor, newChat, sessionItems, sessionTitles, type Mounted } from './helpers';

let m: Mounted;
afterEach(async () => {
  await m?.dispose();
});

const items = () => sessionItems(m.root);
const titles = () => sessionTitles(m.root);


describe('Undo a delete', () => {
  it('restores another chat in place and stays on the open one', async () => {
    m = await mountApp({ undoMs: 10 * 60_000 });
    await newChat(m, 'Older chat');
    await newChat(m, 'Open chat');
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
