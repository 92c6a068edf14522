/** The keyboard (issue 23): one Tab stop per chat in the sidebar, focus kept when Download now goes. */
import { afterEach, describe, expect, it } from 'vitest';
import { userEvent } from 'vitest/browser';
import { $, $maybe, mountApp, waitFor, newChat, sessionItems, type Mounted } from './helpers';

let m: Mounted;
afterEach(async () => {
  await m?.dispose();
});

const items = () => sessionItems(m.root);
/** The focused element, through shadow roots. */
function focused(): Element | null {
  let el: Element | null = document.activeElement;
  while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
  return el;
}


describe('keyboard', () => {
  it('each chat in the sidebar is one Tab stop; ← → reach Rename and Delete', async () => {
    m = await mountApp({ undoMs: 10 * 60_000 });
    await newChat(m, 'First chat');
    await newChat(m, 'Second chat');
    const [a, b] = items();
    // A narrow test frame shows the sidebar as a drawer: open it.
    m.root.drawerOpen = true;
    await m.root.updateComplete;
    await waitFor(() => { $(a!, 'button.open').focus(); return focused() === $(a!, 'button.open'); }, 3000, 'the chat focused');
    await userEvent.tab();
    expect(focused()).toBe($(b!, 'button.open'));
    await userEvent.tab({ shift: true });
    expect(focused()).toBe($(a!, 'button.open'));
    await userEvent.keyboard('{ArrowRight}');
    await waitFor(() => focused() === $(a!, 'button.rename'), 2000, 'Rename');
    await userEvent.keyboard('{ArrowRight}');
    await waitFor(() => focused() === $(a!, 'button.delete'), 2000, 'Delete');
    await userEvent.keyboard('{ArrowRight}');
    await waitFor(() => focused() === $(a!, 'button.open'), 2000, 'back to the chat');
    await userEvent.keyboard('{ArrowLeft}');
    await waitFor(() => focused() === $(a!, 'button.delete'), 2000, 'Delete again');
    // Tab leaves the chat for the next one, and coming back lands on the chat again.
    await userEvent.tab();
    expect(focused()).toBe($(b!, 'button.open'));
    await userEvent.tab({ shift: true });
    expect(focused()).toBe($(a!, 'button.open'));
    await userEvent.keyboard('{End}{Enter}');
    await waitFor(() => $maybe(m.root, 'session-list', '.toast'), 3000, 'the delete');
  });

  it('Download now: the keyboard moves to the download progress, not to the page body', async () => {
    m = await mountApp({ engine: { downloadMs: 3000 } });
    const button = await waitFor(() => $maybe<HTMLButtonElement>(m.root, 'model-status', 'button.download'), 3000, 'Download now');
    button.focus();
    await userEvent.keyboard('{Enter}');
    await waitFor(() => !$maybe(m.root, 'model-status', 'button.download'), 3000, 'the download to start');
    await waitFor(() => focused()?.matches('.progress, .line') ?? false, 3000, 'the focus');
    expect(document.activeElement).not.toBe(document.body);
  });
});
