import { afterEach, describe, expect, it, vi } from 'vitest';
import { SettingsStore } from '../../../src/ui/services/settings';
import { $, $maybe, messageItems, mountApp, send, settled, waitFor, waitForAsync, newChat, sessionItems, sessionTitles, type Mounted } from './helpers';

let m: Mounted;
afterEach(async () => {
  vi.restoreAllMocks();
  await m?.dispose();
});

const items = () => sessionItems(m.root);
const titles = () => sessionTitles(m.root);


describe('session sidebar', () => {
  it('lists chats newest first with a date, opens one, and renames inline (Enter saves, Escape cancels)', async () => {
    m = await mountApp();
    await newChat(m, 'Apples on a table');
    await newChat(m, 'A red bicycle');
    expect(titles()).toEqual(['A red bicycle', 'Apples on a table']);
    expect($(items()[0]!, '.sub').textContent).toMatch(/\d/);
    expect(items()[0]!.selected).toBe(true);

    // Open the older chat.
    $(items()[1]!, 'button.open').click();
    await waitFor(() => messageItems(m.root)[0]?.message && $(messageItems(m.root)[0]!, '.user-text').textContent === 'Apples on a table', 3000, 'the older chat');
    expect(m.root.sessionId).toBe(items()[1]!.session?.id);

    // Rename, then Escape: nothing changes.
    const item = items()[1]!;
    $(item, 'button.rename').click();
    await item.updateComplete;
    const input = $<HTMLInputElement>(item, 'input');
    input.value = 'Never mind';
    input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true }));
    await item.updateComplete;
    expect($maybe(item, 'input')).toBeNull();
    expect(titles()).toContain('Apples on a table');

    // Rename and save with Enter (a form submit).
    $(item, 'button.rename').click();
    await item.updateComplete;
    const input2 = $<HTMLInputElement>(item, 'input');
    input2.value = 'Fruit still life';
    $<HTMLFormElement>(item, 'form').requestSubmit();
    await waitFor(() => titles().includes('Fruit still life'), 3000, 'the new title');
    expect((await m.store.get(item.session!.id))?.title).toBe('Fruit still life');
  });

  it('deletes with Undo, and deletes for good when Undo is not pressed', async () => {
    // Undo is offered far longer than the test needs, so a slow machine cannot let it lapse before the click.
    m = await mountApp({ undoMs: 10 * 60_000 });
    await newChat(m, 'Keep me');
    await newChat(m, 'Delete me');
    const doomed = items()[0]!.session!.id;
    $(items()[0]!, 'button.delete').click();
    await waitFor(() => titles().length === 1, 2000, 'the chat to hide');
    // It was open: the view moves to a new chat.
    expect(m.root.sessionId).toBeNull();
    const toast = $(m.root, 'session-list', '.toast');
    expect(toast.textContent).toContain('Deleted “Delete me”');
    $(m.root, 'session-list', '.toast button.undo').click();
    await waitFor(() => titles().length === 2, 2000, 'the chat to come back');
    expect(await m.store.get(doomed)).toBeDefined();

    // Now let the window lapse on its own: a short one, read when the delete is scheduled.
    $(m.root, 'session-list').undoMs = 50;
    $(items()[0]!, 'button.delete').click();
    await waitFor(() => titles().length === 1, 2000, 'the chat to hide');
    await waitFor(() => !$maybe(m.root, 'session-list', '.toast'), 3000, 'the undo window to pass');
    // The toast goes as the delete starts; the store write and the list refresh follow.
    await waitForAsync(async () => (await m.store.get(doomed)) === undefined, 'the chat deleted from the store');
    await waitFor(() => titles().length === 1, 3000, 'the list read again');
    expect(titles()).toEqual(['Keep me']);
  });

  it('searches across titles and message text', async () => {
    m = await mountApp();
    await newChat(m, 'Mountain lake at dawn');
    await newChat(m, 'Kitchen recipe');
    const search = $<HTMLInputElement>(m.root, 'session-list', 'input[type="search"]');
    const query = async (q: string) => {
      search.value = q;
      search.dispatchEvent(new Event('input', { bubbles: true }));
      await new Promise((r) => setTimeout(r, 50));
    };
    await query('mountain');
    await waitFor(() => titles().length === 1 && titles()[0] === 'Mountain lake at dawn', 3000, 'title match');
    // "PIL" only appears in the answers' text (the canned code block).
    await query('pil');
    await waitFor(() => titles().length === 2, 3000, 'message match');
    expect($(items()[0]!, '.sub').textContent).toMatch(/PIL/);
    await query('zebra');
    await waitFor(() => titles().length === 0, 3000, 'no match');
    expect($(m.root, 'session-list', '.none').textContent).toContain('No chat mentions “zebra”');
    await query('');
    await waitFor(() => titles().length === 2, 3000, 'all chats again');
  });

  it('updates when another tab changes the store', async () => {
    m = await mountApp();
    await m.store.create({ title: 'Made elsewhere' });
    await waitFor(() => titles().includes('Made elsewhere'), 3000, 'the new chat');
  });
});

describe('settings', () => {
  it('opens as a dialog, applies and persists each change, Escape closes it', async () => {
    m = await mountApp();
    $(m.root, 'header button.settings').click();
    const panel = await waitFor(() => $maybe(m.root, 'settings-panel'), 5000, 'the settings dialog');
    const dialog = await waitFor(() => $maybe<HTMLDialogElement>(panel, 'dialog[open]'), 2000, 'the dialog');
    const general = $(panel, 'settings-general');
    const detail = $<HTMLSelectElement>(general, '#detail');
    detail.value = 'high';
    detail.dispatchEvent(new Event('change', { bubbles: true }));
    const windowInput = $<HTMLInputElement>(general, '#window');
    windowInput.value = '8';
    windowInput.dispatchEvent(new Event('change', { bubbles: true }));
    const repetition = $<HTMLInputElement>(general, '#repetition');
    repetition.value = '1.3';
    repetition.dispatchEvent(new Event('change', { bubbles: true }));
    const topP = $<HTMLInputElement>(general, '#top-p');
    topP.value = '0.5';
    topP.dispatchEvent(new Event('change', { bubbles: true }));
    const system = $<HTMLTextAreaElement>(general, '#system');
    system.value = 'Answer briefly.';
    system.dispatchEvent(new Event('change', { bubbles: true }));
    expect(m.settings.value).toMatchObject({ imageDetail: 'high', windowSize: 8, systemPrompt: 'Answer briefly.', repetitionPenalty: 1.3, topP: 0.5 });

    // Persisted: a fresh settings store (a reload) reads the same values.
    const again = new SettingsStore(localStorage, m.settingsKey);
    expect(again.value).toMatchObject({ imageDetail: 'high', windowSize: 8, systemPrompt: 'Answer briefly.', repetitionPenalty: 1.3, topP: 0.5 });
    again.dispose();

    // The chat uses them.
    dialog.close();
    await waitFor(() => !$maybe(panel, 'dialog[open]'), 2000, 'the dialog to close');
    await send(m.root, 'Short answer please');
    await settled(m);
    expect(m.backend.requests[0]!.settings).toMatchObject({ imageDetail: 'high', systemPrompt: 'Answer briefly.', repetitionPenalty: 1.3, topP: 0.5 });
    expect(m.backend.requests[0]!.messages[0]).toMatchObject({ role: 'system' });
  });

  it('switches to the remote backend: text only, and says where messages go', async () => {
    m = await mountApp();
    vi.spyOn(window, 'fetch').mockResolvedValue(Response.json({ status: 'ok', default_model: 'ft:demo' }));
    m.settings.update({ backend: 'remote' });
    await m.root.updateComplete;
    await waitFor(() => $maybe(m.root, 'model-status', '.line')?.textContent?.includes('Remote model ready'), 2000, 'remote status');
    expect($maybe(m.root, 'chat-view', 'chat-composer', 'button.attach')).toBeNull();
    expect($(m.root, 'chat-view', '.privacy').textContent).toContain('go to your Glimpse proxy');
  });

  it('a remote model that reads images: the photo goes, and "text only" is said only for one that does not', async () => {
    m = await mountApp();
    vi.spyOn(window, 'fetch').mockResolvedValue(Response.json({ status: 'ok', default_model: 'ft:demo' }));
    m.settings.update({ backend: 'remote', remoteModel: 'gpt-4o-mini' });
    await m.root.updateComplete;
    const line = () => $maybe(m.root, 'model-status', '.line')?.textContent ?? '';
    await waitFor(() => line().includes('Remote model ready'), 30_000, 'remote status');
    expect(line()).not.toContain('text only');
    await waitFor(() => $maybe(m.root, 'chat-view', 'chat-composer', 'button.attach'), 30_000, 'the attach button');
    expect($(m.root, 'chat-view', '.privacy').textContent).toContain('and the photo in context');

    // The toggle, for this model: off.
    m.settings.update({ remoteImages: { 'gpt-4o-mini': false } });
    await m.root.updateComplete;
    await waitFor(() => line().includes('text only'), 30_000, '"text only"');
    await waitFor(() => !$maybe(m.root, 'chat-view', 'chat-composer', 'button.attach'), 30_000, 'no attach button');
    expect($(m.root, 'chat-view', '.privacy').textContent).toContain('(text only)');
  });

  it('theme switch cycles system → light → dark and is saved', async () => {
    m = await mountApp();
    expect(m.root.hasAttribute('theme')).toBe(false);
    const button = () => $<HTMLButtonElement>(m.root, 'theme-switch', 'button');
    button().click();
    await m.root.updateComplete;
    expect(m.root.getAttribute('theme')).toBe('light');
    button().click();
    await m.root.updateComplete;
    expect(m.root.getAttribute('theme')).toBe('dark');
    expect(getComputedStyle(m.root).colorScheme).toBe('dark');
    expect(JSON.parse(localStorage.getItem(m.settingsKey)!).theme).toBe('dark');
    expect(button().getAttribute('aria-label')).toContain('Switch to system');
  });

  it('shows the first-visit download as one bar with the files behind Details, then Ready with the device', async () => {
    m = await mountApp({ engine: { downloadMs: 1500 } });
    const line = () => $maybe(m.root, 'model-status', '.line')?.textContent?.replace(/\s+/g, ' ') ?? '';
    await waitFor(() => line().includes('Will run on WebGPU (Fake GPU)'), 3000, 'the device');
    expect(line()).toContain('Not downloaded yet (325 MB, once)');
    $(m.root, 'model-status', 'button.download').click();
    const download = await waitFor(() => $maybe(m.root, 'model-status', '.progress'), 3000, 'the progress');
    expect(download.querySelectorAll('progress')).toHaveLength(1); // one overall bar
    expect(download.querySelector('.figures')?.textContent).toMatch(/^[\d.]+ MB of 325 MB/);
    // The files (3 ONNX + 6 JSON) are behind Details, closed.
    const details = download.querySelector('details')!;
    expect(details.open).toBe(false);
    expect(details.querySelectorAll('li')).toHaveLength(9);
    expect(line()).toMatch(/Downloading SmolVLM 256M Will run on WebGPU/);
    // Speed and time left once there is a measure.
    await waitFor(() => /MB\/s · about \d+ s left/.test(download.querySelector('.figures')?.textContent ?? ''), 3000, 'speed and time left');
    await waitFor(() => line().includes('Ready'), 5000, 'Ready');
    expect(line()).toContain('Running on WebGPU (Fake GPU)');
  });
});
