/**
 * Settings → Storage & models → export in real Chromium and real IndexedDB (issue 23 #13): the JSON file
 * keeps every version and branch through export → delete → import, and "Export as Markdown" downloads the
 * open chat as a self-contained .md. (The other export and import cases are in storage.test.ts.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredMessage } from '../../../src/chat/messages';
import { textOf } from '../../../src/chat/messages';
import { blobToBase64, MAX_DEPTH, prepareImport } from '../../../src/storage/transfer';
import { $, $maybe, catchDownloads, filesOf, messageItems, mountApp, openStorage, pngFile, sessionItems, waitFor, type Mounted } from './helpers';

let m: Mounted;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await m?.dispose();
});

const transfer = (s: Element) => $(s, 'transfer-panel');

/** Opens a chat from the sidebar. */
async function openChat(id: string) {
  const item = await waitFor(() => sessionItems(m.root).find((i) => i.session?.id === id), 3000, 'the chat in the list');
  $(item, 'button.open').click();
  await waitFor(() => m.root.sessionId === id, 3000, 'the chat to open');
}

/** A chat with a regenerated answer and an edited first question whose earlier branch holds a second picture. */
async function branchedChat() {
  const { session_id: id } = await m.chat.chat({ message: 'What boat?', image: await pngFile(64, 48, 'a.png') });
  await m.chat.regenerate(id);
  await m.chat.chat({ message: 'And this *one*?', session_id: id, image: await pngFile(32, 24, 'b.png') });
  await m.chat.editMessage(id, (await m.store.messages(id))[0]!.id, 'What ship?');
  return id;
}

const content = ({ id: _i, sessionId: _s, rev: _r, ...rest }: StoredMessage) => rest;

describe('export keeps everything', () => {
  it('export this chat → delete it → import: every version and branch is back; the other version shows its picture', async () => {
    m = await mountApp();
    const id = await branchedChat();
    const before = await m.store.messages(id);
    expect(before[0]!.branchImages).toHaveLength(1);
    const downloads = catchDownloads((c) => cleanups.push(c));
    await openChat(id);
    const storage = await openStorage(m.root);
    $(transfer(storage), 'button.export-one').click();
    await waitFor(() => downloads.length === 1, 5000, 'the export');
    const file = new File([await (await fetch(downloads[0]!.href)).blob()], 'chat.json', { type: 'application/json' });

    await m.store.delete(id);
    expect(await m.store.getImage(before[0]!.branchImages![0]!)).toBeUndefined(); // the branch's picture went with it
    const input = $<HTMLInputElement>(transfer(storage), '#import-file');
    input.files = filesOf(file).files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    await waitFor(() => $(transfer(storage), '.transfer-ok').textContent === 'Imported 1 chat.', 5000, 'the import');
    const after = await m.store.messages(id);
    expect(after.map(content)).toEqual(before.map(content));

    // The first question's other version: its branch comes back, with the second picture.
    await openChat(id);
    await m.chat.selectVersion(id, after[0]!.id, 0);
    await waitFor(() => messageItems(m.root).length === 4, 5000, 'the earlier branch');
    expect(messageItems(m.root).map((i) => (i.message ? textOf(i.message) : ''))).toEqual(['What boat?', expect.any(String), 'And this *one*?', expect.any(String)]);
    const photos = await waitFor(() => {
      const imgs = messageItems(m.root).map((i) => $maybe<HTMLImageElement>(i, 'img.photo'));
      return imgs[0]?.complete && imgs[2]?.complete && imgs[2].naturalWidth > 0 ? imgs : null;
    }, 5000, 'both pictures');
    expect([photos[0]!.naturalWidth, photos[2]!.naturalWidth]).toEqual([64, 32]);
  });

  it('“Export as Markdown” downloads the open chat as a .md with its text and photo', async () => {
    m = await mountApp();
    const photo = await pngFile(40, 30);
    const { session_id: id, response } = await m.chat.chat({ message: 'ما هذا؟ <b>1</b>', image: photo });
    const downloads = catchDownloads((c) => cleanups.push(c));
    await openChat(id);
    const storage = await openStorage(m.root);
    $(transfer(storage), 'button.export-md').click();
    await waitFor(() => downloads.length === 1, 5000, 'the Markdown export');
    expect(downloads[0]!.name).toMatch(/^glimpse-chat-ما-هذا-b-1-b-\d{4}-\d{2}-\d{2}\.md$/);
    const blob = await (await fetch(downloads[0]!.href)).blob();
    expect(blob.type).toBe('text/markdown;charset=utf-8');
    const md = await blob.text();
    expect(md).toMatch(/^# ما هذا؟ \\<b\\>1\\<\/b\\>\n\n## You · .+\n\n!\[photo 1\]\(data:image\/png;base64,/);
    expect(md).toContain(`![photo 1](data:image/png;base64,${await blobToBase64(photo)})`);
    expect(md).toContain('\n\nما هذا؟ \\<b\\>1\\</b\\>\n\n## Assistant · ');
    expect(md).toContain(`\n\n${response}\n`);
    expect($(transfer(storage), '.transfer-ok').textContent).toBe(`Exported “ما هذا؟ <b>1</b>” as ${downloads[0]!.name} (in your downloads).`);
  });

  it(`a file whose branches nest ${MAX_DEPTH} deep (the most an import takes) validates in the page without running out of stack`, async () => {
    const T = '2026-01-01T00:00:00.000Z';
    let turn: Record<string, unknown> = { role: 'user', content: [], timestamp: T };
    for (let i = 0; i < MAX_DEPTH; i++) turn = { role: 'user', content: [], timestamp: T, versions: [{ content: [], timestamp: T, following: [turn] }], version: 1 };
    const session = { session_id: 's-1', title: 't', created_at: T, updated_at: T, image_in_context: null, history: [turn] };
    const prepared = await prepareImport(new Blob([JSON.stringify({ format: 'glimpse-export', version: 2, sessions: [session], images: {} })]));
    expect(prepared.sessions[0]!.history).toHaveLength(1);
  });
});
